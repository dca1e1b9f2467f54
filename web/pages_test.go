package web

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"
	"github.com/a-h/templ"

	"github.com/aegis-safety/aegis/native/rundir"
	"github.com/aegis-safety/aegis/native/train"
)

// render renders a component and parses it with goquery.
func render(t *testing.T, c templ.Component) *goquery.Document {
	t.Helper()
	var b bytes.Buffer
	if err := c.Render(context.Background(), &b); err != nil {
		t.Fatal(err)
	}
	d, err := goquery.NewDocumentFromReader(&b)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// TestRunsComponent: one row per run with its status, method, model, start, progress and
// key metrics, a link to its page, and the script that keeps the list current.
func TestRunsComponent(t *testing.T) {
	d := render(t, Runs(RunsPage{All: 2, Filter: RunsFilter{Sort: "started", Order: "desc"}, Runs: []RunRow{
		{ID: "dpo-1", Kind: "train", Status: "running", Method: "dpo", Model: "/m/tiny", Started: "2026-01-02 10:00", Step: 7, Total: 50,
			Metrics: []Metric{{"loss", "0.61"}, {"rewards/margins", "0.12"}}},
		{ID: "scan", Kind: "eval", Status: "done", Method: "eval", Step: 30, Total: 30, Metrics: []Metric{{"asr", "0.25"}}},
	}}))
	if d.Find("#runs-list #runs tbody tr").Length() != 2 || d.Find(`script[src="/static/runs.js"]`).Length() != 1 {
		t.Fatal("runs table or script missing")
	}
	row := d.Find(`tr[data-id="dpo-1"]`)
	cells := row.Find("td")
	if cells.Eq(1).Find(".status.running").Text() != "running" || cells.Eq(2).Text() != "dpo" || cells.Eq(3).Text() != "/m/tiny" ||
		cells.Eq(4).Text() != "2026-01-02 10:00" || row.Find("td.progress").Text() != "7/50 steps" || row.Find(".metric").Length() != 2 {
		t.Fatalf("row %q", row.Text())
	}
	if href, _ := row.Find("a").Attr("href"); href != "/runs/dpo-1" {
		t.Fatal(href)
	}
	if d.Find(`tr[data-id="scan"] td.progress`).Text() != "30/30 judged" {
		t.Fatal("eval progress")
	}
	if d := render(t, Runs(RunsPage{})); d.Find("#runs-list .empty").Length() != 1 || d.Find("#runs").Length() != 0 {
		t.Fatal("empty list")
	}
}

// TestRunComponent: a training page draws the charts its method logs; an eval page has
// the heatmap (cells coloured by ASR, counts and intervals on hover) and the sample
// browser with escaped text and verdicts.
func TestRunComponent(t *testing.T) {
	for method, want := range map[string][]string{
		"dpo":     {"loss", "lr", "rewards/margins", "rewards/accuracies", "grad_norm"},
		"ipo":     {"loss", "lr", "rewards/margins", "rewards/accuracies", "grad_norm"},
		"sft":     {"loss", "lr", "grad_norm"},
		"ptalign": {"loss", "lr", "mle", "ul", "grad_norm"},
		"apl":     {"loss", "R/best", "R/mean", "defender/rewards/margins", "defender/rewards/accuracies"},
	} {
		// The server passes the charts of the run's method from the method table.
		d := render(t, Run(RunPage{Run: RunRow{ID: "r", Kind: "train", Status: "running", Method: method, Step: 3},
			Charts: train.ChartsFor(method)}))
		var got []string
		d.Find("figure.chart").Each(func(_ int, s *goquery.Selection) { got = append(got, s.AttrOr("data-key", "")) })
		if strings.Join(got, " ") != strings.Join(want, " ") {
			t.Errorf("%s charts %v, want %v", method, got, want)
		}
		if d.Find("#step").Text() != "3" || d.Find("#status").Text() != "running" || d.Find("table.heatmap").Length() != 0 || d.Find(`#run[data-kind="train"]`).Length() != 1 {
			t.Errorf("%s: header", method)
		}
	}

	p := RunPage{Run: RunRow{ID: "scan", Kind: "eval", Status: "running", Method: "eval", Step: 2, Total: 3},
		Heatmap: &Heatmap{Attacks: []string{"none", "rot13"}, Rows: []HeatRow{
			{Category: "S1", Cells: []HeatCell{{N: 4, Unsafe: 1, ASR: 0.25, Lo: 0.05, Hi: 0.7}, {}}},
		}},
		Samples: []Sample{
			{ID: "a", Category: "S1", Attack: "none", Prompt: "p", Response: "<script>x</script>", Judged: true, Unsafe: true, Score: 0.9},
			{ID: "b", Category: "S1", Attack: "rot13", Prompt: "q", Status: "generated"},
			{ID: "c", Category: "benign", Attack: "none", Judged: true, Refusal: true},
			{ID: "d", Error: "timeout"},
		},
		Filter: SampleFilter{Category: "S1", Page: 2, Pages: 3}, Total: 120}
	d := render(t, Run(p))
	hm := d.Find("#heatmap table.heatmap")
	if hm.Find("thead th").Length() != 3 || hm.Find("tbody th").Text() != "S1" {
		t.Fatal("heatmap header")
	}
	c := hm.Find("tbody td").First()
	if c.Text() != "0.25" || !c.HasClass("h3") || !strings.Contains(c.AttrOr("title", ""), "1/4 unsafe, 95% CI 0.05–0.70") || !hm.Find("tbody td").Eq(1).HasClass("hnone") {
		t.Fatalf("cell %q %v", c.Text(), c.AttrOr("title", ""))
	}
	if d.Find("figure.chart").Length() != 0 || d.Find("#samples tbody tr").Length() != 4 || d.Find("#samples-count").Text() != "120 matching" {
		t.Fatal("eval page parts")
	}
	html, _ := d.Find("#samples").Html()
	if strings.Contains(html, "<script>") || !strings.Contains(d.Find("#samples").Text(), "<script>x</script>") {
		t.Fatal("a response was not escaped")
	}
	var verdicts []string
	d.Find("#samples .verdict").Each(func(_ int, s *goquery.Selection) { verdicts = append(verdicts, s.Text()) })
	if strings.Join(verdicts, "|") != "unsafe 0.90|generated|refusal|error" {
		t.Fatalf("verdicts %q", verdicts)
	}
	if d.Find(`input[name="category"]`).AttrOr("value", "") != "S1" || d.Find("#pager b").Text() != "2" || d.Find("#pager a").Length() != 2 {
		t.Fatal("filter or pager")
	}
	if href := d.Find("#pager a").First().AttrOr("href", ""); href != "?category=S1&page=1" {
		t.Fatalf("pager link %q", href)
	}
	if d := render(t, Run(RunPage{Run: RunRow{ID: "new", Kind: "eval"}})); d.Find("#heatmap .empty").Length() != 1 {
		t.Fatal("an eval without judged attempts has no heatmap placeholder")
	}
}

func TestCompareModulesLaunchOffline(t *testing.T) {
	a := RunRow{ID: "a", Kind: "train", Method: "dpo"}
	b := RunRow{ID: "b", Kind: "eval", Method: "eval"}
	d := render(t, Compare(ComparePage{Runs: []RunRow{a, b}, Picked: []RunRow{a, b}, Rows: []CompareRow{{"loss", []string{"0.5", "–"}}},
		Charts:   []rundir.Chart{{Key: "loss", Label: "loss"}},
		Heatmaps: []RunHeatmap{{ID: "b", Heatmap: &Heatmap{Attacks: []string{"none"}, Rows: []HeatRow{{Category: "S1", Cells: []HeatCell{{N: 1, ASR: 1}}}}}}}}))
	if d.Find("#compare tbody tr").Length() != 1 || d.Find("#compare tbody td").Length() != 2 || d.Find("#compare-charts").AttrOr("data-runs", "") != "a" ||
		d.Find("table.heatmap").Length() != 1 || d.Find(`select[name="run"]`).Length() != 3 || d.Find(`select[name="run"] option[selected]`).First().AttrOr("value", "") != "a" ||
		d.Find("#chart-controls").Length() != 1 {
		t.Fatal("compare")
	}
	if d := render(t, Compare(ComparePage{Runs: []RunRow{a, b}})); d.Find("#compare").Length() != 0 || d.Find(`select[name="run"] option`).Length() != 3 {
		t.Fatal("compare pickers")
	}

	d = render(t, Modules(ModulesPage{Modules: []Module{{Name: "attacks", Kind: "attack", Source: "built-in"}, {Name: "mine", Kind: "attack", Source: "uploaded"}},
		Error: "module x: time limit exceeded", MaxBytes: 16 << 20}))
	form := d.Find(`form[action="/api/modules"]`)
	if d.Find("#modules tbody tr").Length() != 2 || form.AttrOr("enctype", "") != "multipart/form-data" || form.Find(`input[type="file"][name="module"]`).Length() != 1 ||
		d.Find("#error").Text() != "module x: time limit exceeded" || !strings.Contains(d.Text(), "at most 16 MiB") {
		t.Fatal("modules page")
	}

	d = render(t, Launch(LaunchPage{Methods: []string{"sft", "dpo"}, Running: []string{"r1"},
		Modules:     []LaunchModule{{Name: "attacks", Styles: []string{"dan", "rot13"}}, {Name: "mine", Styles: []string{"novel"}}},
		Models:      []Choice{{"aegis-organism", "aegis-organism (embedded)"}},
		EvalModels:  []Choice{{"aegis-organism", "aegis-organism (embedded)"}, {"runs/dpo-1", "dpo-1 (dpo adapter on aegis-organism)"}},
		Data:        []Choice{{"data/pairs.jsonl", "pairs.jsonl"}},
		TrainParams: []Param{{Name: "lr", Label: "learning rate", Kind: "float", Value: "5e-5"}, {Name: "full", Label: "full", Kind: "bool"}, {Name: "lr_scheduler", Kind: "choice", Value: "cosine", Choices: []string{"linear", "cosine"}}},
		Ended:       []Ended{{ID: "r0", Status: "exit status 1", LastLine: "aegis train: <bad> row", Failed: true}}}))
	if e := d.Find(`#ended tr[data-id="r0"]`); e.Find("td.err").Text() != "exit status 1" || e.Find("code").Text() != "aegis train: <bad> row" {
		t.Fatal("ended runs")
	}
	if d.Find(`form.launch[action="/api/launch"][method="post"]`).Length() != 2 || d.Find(`input[name="kind"][value="train"]`).Length() != 1 ||
		d.Find(`select[name="method"] option`).Length() != 2 || d.Find(`select[name="attack_module"] option`).Length() != 2 || d.Find(`a[href="/runs/r1"]`).Length() != 1 {
		t.Fatal("launch page")
	}
	// Models and data are picked by name; the hyperparameters have their defaults; the
	// running run has a stop button; the styles are the chosen module's.
	train, eval := d.Find("#launch-train"), d.Find("#launch-eval")
	if train.Find(`select[name="model"] option`).Length() != 1 || train.Find(`select[name="model"] option`).AttrOr("value", "") != "aegis-organism" ||
		eval.Find(`select[name="model"] option`).Length() != 2 || eval.Find(`select[name="prompts"] option`).AttrOr("value", "") != "data/pairs.jsonl" ||
		train.Find(`input[name="lr"]`).AttrOr("value", "") != "5e-5" || train.Find(`input[type="checkbox"][name="full"]`).Length() != 1 ||
		train.Find(`select[name="lr_scheduler"] option[selected]`).Text() != "cosine" {
		t.Fatal("launch form fields")
	}
	if d.Find(`#running tr[data-id="r1"] form[action="/api/runs/r1/stop"]`).Length() != 1 {
		t.Fatal("no stop button for a running run")
	}
	if eval.Find(`option[value="mine"]`).AttrOr("data-styles", "") != "novel" || !strings.Contains(eval.Find("#styles-hint").Text(), "dan, rot13") ||
		eval.Find(`#attack-styles option[value="rot13"]`).Length() != 1 {
		t.Fatal("attack styles")
	}
	if d := render(t, Launch(LaunchPage{})); d.Find(`select[name="model"][disabled]`).Length() != 2 || !strings.Contains(d.Text(), "--models DIR") {
		t.Fatal("a form without models says how to get some")
	}

	d = render(t, Offline())
	if d.Find(`input#file[type="file"]`).Length() != 1 || d.Find(`script[src="/static/offline.js"]`).Length() != 1 || d.Find("form").Length() != 0 {
		t.Fatal("offline page: a file input and the script, and no form that could upload")
	}
	// Every page links only local assets.
	for _, c := range []templ.Component{Runs(RunsPage{}), Offline(), Modules(ModulesPage{}), Launch(LaunchPage{}), NotFound("x")} {
		render(t, c).Find("script[src], link[href]").Each(func(_ int, s *goquery.Selection) {
			u := s.AttrOr("src", s.AttrOr("href", ""))
			if !strings.HasPrefix(u, "/static/") {
				t.Errorf("asset %q is not served by aegis", u)
			}
		})
	}
}

// TestStaticEmbedded: the files the pages load are in the embedded FS, and no script
// or stylesheet refers to another host.
func TestStaticEmbedded(t *testing.T) {
	for _, f := range []string{"wasi.js", "static/app.css", "static/charts.js", "static/events.js", "static/refresh.js", "static/run.js", "static/runs.js",
		"static/compare.js", "static/offline.js", "static/rows.js", "static/launch.js", "static/judge-worker.js", "static/favicon.svg"} {
		b, err := Static.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, bad := range []string{"http://", "https://", "//cdn", "@import"} {
			if bytes.Contains(b, []byte(bad)) && !(bad == "http://" && bytes.Contains(b, []byte("http://www.w3.org/2000/svg"))) {
				t.Errorf("%s refers to %q", f, bad)
			}
		}
	}
}
