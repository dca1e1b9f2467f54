package server

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/chromedp"

	"github.com/aegis-safety/aegis/shared"
)

// wideScan writes a judged scan over every category and every catalogue style (the
// heatmap of a real `--attacks all` scan), benign prompts included.
func wideScan(t *testing.T, runs, id string, seed int) {
	t.Helper()
	cells := map[[2]string][2]int{}
	for ci, c := range shared.Categories {
		if c.Code == shared.Benign {
			continue
		}
		for ai, st := range append([]string{"none"}, shared.StyleIDs()...) {
			cells[[2]string{c.Code, st}] = [2]int{4, (ci + ai + seed) % 5}
		}
	}
	scanOf(t, runs, id, cells, 8, 1+seed)
}

// layout measures the page and its heatmap boxes in the browser.
type layout struct {
	Inner, DocWidth     float64
	Boxes               []struct{ Left, Right, ClientW, ScrollW, ClientH, ScrollH float64 }
	RowHeadDrift        float64 // a row header's move against the box after scrolling right
	ColHeadDrift        float64 // a column header's move against the box after scrolling down
	FirstCellMoved      float64 // how far a data cell moved when scrolled right (it must)
	TableWiderThanInner bool
}

const measure = `(() => {
  const boxes = [...document.querySelectorAll(".heatmap-box")];
  const r = { Inner: innerWidth, DocWidth: document.documentElement.scrollWidth, Boxes: [], TableWiderThanInner: false };
  for (const b of boxes) {
    const br = b.getBoundingClientRect();
    r.Boxes.push({ Left: br.left, Right: br.right, ClientW: b.clientWidth, ScrollW: b.scrollWidth, ClientH: b.clientHeight, ScrollH: b.scrollHeight });
    r.TableWiderThanInner ||= b.querySelector("table").getBoundingClientRect().width > innerWidth;
  }
  const b = boxes[0];
  const th = b.querySelector("tbody th"), cell = b.querySelector("tbody td"), head = b.querySelector("thead th.attack");
  const before = { th: th.getBoundingClientRect().left - b.getBoundingClientRect().left, cell: cell.getBoundingClientRect().left,
    head: head.getBoundingClientRect().top - b.getBoundingClientRect().top };
  b.scrollLeft = 600;
  b.scrollTop = 200;
  r.RowHeadDrift = Math.abs(th.getBoundingClientRect().left - b.getBoundingClientRect().left - before.th);
  r.FirstCellMoved = before.cell - cell.getBoundingClientRect().left;
  r.ColHeadDrift = Math.abs(head.getBoundingClientRect().top - b.getBoundingClientRect().top - before.head);
  b.scrollLeft = 0;
  b.scrollTop = 0;
  return JSON.stringify(r);
})()`

// TestE2EHeatmapFits: in a 1,400 px window, the heatmap of a scan over every category and
// catalogue style (over 2,300 px of cells) stays within the page and scrolls in its own
// box, its row and column headers staying in view; the same on compare with the
// difference heatmap. The page itself never scrolls sideways.
func TestE2EHeatmapFits(t *testing.T) {
	ctx := browserSized(t, 1400, 600) // short enough that the heatmaps also scroll down
	runs := t.TempDir()
	wideScan(t, runs, "scan-a", 0)
	wideScan(t, runs, "scan-b", 2)
	_, ts := newServer(t, Options{RunsDir: runs})
	for _, path := range []string{"/runs/scan-a", "/compare?run=scan-a&run=scan-b"} {
		var js string
		if err := chromedp.Run(ctx, chromedp.Navigate(ts.URL+path), chromedp.WaitVisible(".heatmap-box table.heatmap", chromedp.ByQuery),
			chromedp.Evaluate(measure, &js)); err != nil {
			t.Fatal(err)
		}
		var m layout
		if err := json.Unmarshal([]byte(js), &m); err != nil {
			t.Fatal(err)
		}
		want := 1
		if strings.HasPrefix(path, "/compare") {
			want = 3 // the difference and both scans
		}
		if len(m.Boxes) != want || !m.TableWiderThanInner {
			t.Fatalf("%s: %d heatmap boxes (want %d), a table wider than the window: %v", path, len(m.Boxes), want, m.TableWiderThanInner)
		}
		if m.DocWidth > m.Inner {
			t.Errorf("%s: the page is %v px wide in a %v px window", path, m.DocWidth, m.Inner)
		}
		for i, b := range m.Boxes {
			if b.Right > m.Inner || b.Left < 0 || b.ScrollW <= b.ClientW {
				t.Errorf("%s: box %d spans %v–%v px (window %v), content %v in %v", path, i, b.Left, b.Right, m.Inner, b.ScrollW, b.ClientW)
			}
		}
		if m.FirstCellMoved < 100 || m.RowHeadDrift > 1 {
			t.Errorf("%s: scrolled right, cells moved %v px and the row headers %v px", path, m.FirstCellMoved, m.RowHeadDrift)
		}
		if m.Boxes[0].ScrollH <= m.Boxes[0].ClientH || m.ColHeadDrift > 1 {
			t.Errorf("%s: a box %v px high with %v px of rows; scrolled down, the column headers moved %v px", path, m.Boxes[0].ClientH, m.Boxes[0].ScrollH, m.ColHeadDrift)
		}
		var over string
		chromedp.Run(ctx, chromedp.Evaluate(`document.querySelector(".heatmap-box tr.benign td.over, .heatmap-box tr.benign td[class^=d]").textContent`, &over))
		if over == "" {
			t.Errorf("%s: no benign over-refusal cell", path)
		}
	}
}

// noisyRun writes a DPO run whose learning rate decays to -2.1e-14 (float noise) and
// whose margins stay within ±1e-14 for a while, as a real run's first steps do.
func noisyRun(t *testing.T, runs, id string, steps int) string {
	dir := trainRun(t, runs, id, 0, false)
	os.WriteFile(filepath.Join(dir, "config.json"), []byte(fmt.Sprintf(`{"method":"dpo","model":"m","max_steps":%d}`, steps+20)), 0o644)
	f, err := os.OpenFile(filepath.Join(dir, "events.jsonl"), os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for s := 1; s <= steps; s++ {
		lr := 5e-5 * float64(steps-s) / float64(steps-1)
		if s == steps {
			lr = -2.1e-14
		}
		margin := 1e-14 * math.Sin(float64(s))
		loss := 0.7 * math.Exp(-float64(s)/20)
		fmt.Fprintf(f, `{"step":%d,"epoch":%g,"loss":%g,"lr":%g,"grad_norm":%g,"tokens":400,"seconds":0.5,"rewards/margins":%g,"rewards/accuracies":0.5,"rewards/chosen":0,"rewards/rejected":0}`+"\n",
			s, float64(s)/100, loss, lr, 1+0.5*math.Sin(float64(s)), margin)
	}
	return dir
}

// TestE2ECharts: a training page's charts show each value on hover, smooth on request,
// switch to a log scale (not for a chart with values <= 0), label their axes with round
// numbers without float noise, and the page shows total steps, tokens/s and the ETA;
// compare overlays more than two runs.
func TestE2ECharts(t *testing.T) {
	ctx := browser(t)
	runs := t.TempDir()
	noisyRun(t, runs, "noisy", 40)
	noisyRun(t, runs, "noisy-2", 30)
	noisyRun(t, runs, "noisy-3", 20)
	_, ts := newServer(t, Options{RunsDir: runs})
	var labels, stats string
	if err := chromedp.Run(ctx, chromedp.Navigate(ts.URL+"/runs/noisy"),
		chromedp.WaitVisible(`figure.chart[data-key="lr"] svg path.line`, chromedp.ByQuery),
		chromedp.Evaluate(`[...document.querySelectorAll("svg text.tick")].map((t) => t.textContent).join("|")`, &labels),
		chromedp.Text("#train-stats", &stats, chromedp.ByID)); err != nil {
		t.Fatal(err)
	}
	if regexp.MustCompile(`e-1\d|e-0?[5-9]\d|0000000`).MatchString(labels) || !strings.Contains(labels, "|0|") {
		t.Errorf("axis labels with float noise: %s", labels)
	}
	for _, w := range []string{"steps 40 / 60", "tokens/s 800", "ETA 10s"} {
		if !strings.Contains(stats, w) {
			t.Errorf("training figures %q lack %q", stats, w)
		}
	}

	// Hover the middle of the loss chart: the tip shows the loss at the nearest step.
	var box string
	if err := chromedp.Run(ctx, chromedp.Evaluate(`JSON.stringify(document.querySelector('figure.chart[data-key="loss"] svg').getBoundingClientRect())`, &box)); err != nil {
		t.Fatal(err)
	}
	var r struct{ X, Y, Width, Height float64 }
	json.Unmarshal([]byte(box), &r)
	var tip, step string
	if err := chromedp.Run(ctx, chromedp.MouseEvent(input.MouseMoved, r.X+r.Width*0.6, r.Y+r.Height/2),
		chromedp.WaitVisible(`figure.chart[data-key="loss"] .tip`, chromedp.ByQuery),
		chromedp.Text(`figure.chart[data-key="loss"] .tip`, &tip, chromedp.ByQuery),
		chromedp.AttributeValue(`figure.chart[data-key="loss"]`, "data-hover", &step, nil, chromedp.ByQuery)); err != nil {
		t.Fatal(err)
	}
	var s int
	fmt.Sscan(step, &s)
	want := fmt.Sprintf("%.4g", 0.7*math.Exp(-float64(s)/20))
	if s < 15 || s > 35 || !strings.Contains(tip, "loss: "+strings.TrimRight(strings.TrimRight(want, "0"), ".")) || !strings.Contains(tip, "step "+step) {
		t.Errorf("hover at step %s: tip %q, want the loss %s", step, tip, want)
	}

	// Smoothing, then a log scale: the loss (positive) switches, the margins (signed) do not.
	var smoothed, raw, logLoss, logMargin, note string
	if err := chromedp.Run(ctx, chromedp.Click(`#chart-controls input[name="smooth"]`, chromedp.ByQuery),
		chromedp.WaitVisible(`figure.chart[data-key="loss"] svg path.raw`, chromedp.ByQuery),
		chromedp.AttributeValue(`figure.chart[data-key="loss"]`, "data-smooth", &smoothed, nil, chromedp.ByQuery),
		chromedp.Evaluate(`String(document.querySelectorAll('figure.chart[data-key="loss"] path.raw').length)`, &raw),
		chromedp.Click(`#chart-controls input[name="log"]`, chromedp.ByQuery),
		chromedp.WaitVisible(`figure.chart[data-key="loss"][data-log="1"]`, chromedp.ByQuery),
		chromedp.AttributeValue(`figure.chart[data-key="loss"]`, "data-log", &logLoss, nil, chromedp.ByQuery),
		chromedp.AttributeValue(`figure.chart[data-key="rewards/margins"]`, "data-log", &logMargin, nil, chromedp.ByQuery),
		chromedp.Text(`figure.chart[data-key="rewards/margins"] figcaption`, &note, chromedp.ByQuery)); err != nil {
		t.Fatal(err)
	}
	if smoothed != "0.6" || raw != "1" || logLoss != "1" || logMargin != "0" || !strings.Contains(note, "shown linear") {
		t.Errorf("smooth %q (raw lines %s), log: loss %q, margins %q (%q)", smoothed, raw, logLoss, logMargin, note)
	}
	// The switches persist: a reload keeps them.
	var again string
	if err := chromedp.Run(ctx, chromedp.Reload(), chromedp.WaitVisible(`figure.chart[data-key="loss"][data-log="1"] svg path.raw`, chromedp.ByQuery),
		chromedp.AttributeValue(`figure.chart[data-key="loss"]`, "data-smooth", &again, nil, chromedp.ByQuery)); err != nil {
		t.Fatal(err)
	}
	if again != "0.6" {
		t.Errorf("after a reload, smoothing %q", again)
	}

	// Compare overlays the three runs, one line each.
	var lines string
	if err := chromedp.Run(ctx, chromedp.Navigate(ts.URL+"/compare?run=noisy&run=noisy-2&run=noisy-3"),
		chromedp.WaitVisible(`body[data-charts="drawn"]`, chromedp.ByQuery),
		chromedp.Evaluate(`String(document.querySelectorAll('#compare-charts figure[data-key="loss"] path.line').length)`, &lines)); err != nil {
		t.Fatal(err)
	}
	if lines != "3" {
		t.Errorf("compare overlays %s loss lines of 3 runs", lines)
	}
}

// TestE2ERunsListSearch: typing in the runs list's search box filters the rows without a
// reload and keeps the search in the address, so the periodic refresh keeps it.
func TestE2ERunsListSearch(t *testing.T) {
	ctx := browser(t)
	runs := t.TempDir()
	trainRun(t, runs, "dpo-alpha", 2, true)
	trainRun(t, runs, "dpo-beta", 3, false)
	evalRun(t, runs, "scan")
	_, ts := newServer(t, Options{RunsDir: runs})
	var n, loc, after string
	if err := chromedp.Run(ctx, chromedp.Navigate(ts.URL+"/"), chromedp.WaitVisible(`#runs tr[data-id="scan"]`, chromedp.ByQuery),
		chromedp.Evaluate(`window.marker = 1`, nil),
		chromedp.SendKeys(`#runs-filter input[name="q"]`, "beta", chromedp.ByQuery),
		chromedp.Poll(`document.querySelectorAll("#runs tbody tr").length === 1`, nil, chromedp.WithPollingTimeout(5*time.Second)),
		chromedp.Evaluate(`document.querySelector("#runs tbody tr").dataset.id + " " + window.marker`, &n),
		chromedp.Evaluate(`location.search`, &loc),
		chromedp.Sleep(2500*time.Millisecond), // a periodic refresh
		chromedp.Evaluate(`[...document.querySelectorAll("#runs tbody tr")].map((r) => r.dataset.id).join(" ")`, &after)); err != nil {
		t.Fatal(err)
	}
	if n != "dpo-beta 1" || loc != "?q=beta&sort=started&order=desc" || after != "dpo-beta" {
		t.Fatalf("after typing: %q, address %q, after a refresh %q", n, loc, after)
	}
	// Sorting by a column header, then a status filter.
	var order string
	if err := chromedp.Run(ctx, chromedp.Navigate(ts.URL+"/"), chromedp.WaitVisible(`#runs`, chromedp.ByQuery),
		chromedp.Click(`#runs thead th:first-child a`, chromedp.ByQuery),
		chromedp.WaitVisible(`#runs thead th.sorted`, chromedp.ByQuery),
		chromedp.Evaluate(`[...document.querySelectorAll("#runs tbody tr")].map((r) => r.dataset.id).join(" ")`, &order)); err != nil {
		t.Fatal(err)
	}
	if order != "dpo-alpha dpo-beta scan" {
		t.Fatalf("sorted by run: %q", order)
	}
	if err := chromedp.Run(ctx, chromedp.SetValue(`#runs-filter select[name="status"]`, "done", chromedp.ByQuery),
		chromedp.Evaluate(`document.querySelector('#runs-filter select[name="status"]').dispatchEvent(new Event("input", {bubbles: true}))`, nil),
		chromedp.Poll(`[...document.querySelectorAll("#runs tbody tr")].map((r) => r.dataset.id).join(" ") === "dpo-alpha"`, nil, chromedp.WithPollingTimeout(5*time.Second))); err != nil {
		t.Fatalf("status filter: %v", err)
	}
}

// TestE2ELaunch: on the launch page, the attack styles offered follow the chosen module
// (an uploaded module's own); a run started here is stopped with its button.
func TestE2ELaunch(t *testing.T) {
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Skip("no sh")
	}
	ctx := browser(t)
	pl := &ProcessLauncher{Exe: sh}
	s, ts := newServer(t, withChoices(t, Options{Launch: pl}))
	if code, body := upload(t, ts.URL, wasmModule(`{"abi":1,"name":"novelist","kind":"attack","version":"0.1","description":"x","styles":["novel","screenplay"]}`, oneVariant)); code != 201 {
		t.Fatal(body)
	}
	var hint, options string
	if err := chromedp.Run(ctx, chromedp.Navigate(ts.URL+"/launch"), chromedp.WaitVisible("#launch-eval", chromedp.ByQuery),
		chromedp.SetValue(`#launch-eval select[name="attack_module"]`, "novelist", chromedp.ByQuery),
		chromedp.Evaluate(`document.querySelector('#launch-eval select[name="attack_module"]').dispatchEvent(new Event("change"))`, nil),
		chromedp.Text("#styles-hint", &hint, chromedp.ByID),
		chromedp.Evaluate(`[...document.querySelectorAll("#attack-styles option")].map((o) => o.value).join(",")`, &options)); err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(hint, "styles: novel, screenplay") || options != "none,all,novel,screenplay" {
		t.Fatalf("styles for the uploaded module: %q, %q", hint, options)
	}
	dir := filepath.Join(s.runs.dir, "long")
	if err := pl.Start("long", dir, []string{"-c", `trap 'echo interrupted; exit 130' INT; while :; do sleep 0.05; done`}); err != nil {
		t.Fatal(err)
	}
	var msg, ended string
	if err := chromedp.Run(ctx, chromedp.Navigate(ts.URL+"/launch"),
		chromedp.Click(`#running tr[data-id="long"] form.stop button`, chromedp.ByQuery),
		chromedp.WaitVisible("#message", chromedp.ByID),
		chromedp.Text("#message", &msg, chromedp.ByID)); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(5 * time.Second); pl.Running("long"); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("still running after the stop button (%q)", msg)
		}
	}
	if err := chromedp.Run(ctx, chromedp.Navigate(ts.URL+"/launch"), chromedp.Text(`#ended tr[data-id="long"]`, &ended, chromedp.ByQuery)); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(ended, "stopped from the page") {
		t.Fatalf("ended: %q", ended)
	}
}
