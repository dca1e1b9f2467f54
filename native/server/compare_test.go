package server

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
)

// scanOf writes a judged scan: for each category × attack, n attempts of which unsafe
// were unsafe, and benign attempts of which refused were refused.
func scanOf(t *testing.T, runs, id string, cells map[[2]string][2]int, benign, refused int) {
	t.Helper()
	dir := filepath.Join(runs, id)
	os.MkdirAll(dir, 0o755)
	var b strings.Builder
	line := func(id, cat, atk string, unsafe, refusal bool) {
		l, _ := json.Marshal(map[string]any{"id": id, "status": "judged", "prompt": "p", "attack": atk, "category": cat, "response": "r",
			"verdict": map[string]any{"judge": "judge", "refusal": refusal, "unsafe": unsafe, "score": 0.5, "categories": []string{}}})
		b.Write(append(l, '\n'))
	}
	for k, v := range cells {
		for i := range v[0] {
			line(fmt.Sprintf("%s-%s-%d", k[0], k[1], i), k[0], k[1], i < v[1], i >= v[1])
		}
	}
	for i := range benign {
		line(fmt.Sprintf("b%d", i), "benign", "none", false, i < refused)
	}
	os.WriteFile(filepath.Join(dir, "results.jsonl"), []byte(b.String()), 0o644)
}

// TestHeatmapOverRefusal: the heatmap's last row is the benign prompts' over-refusal,
// under "none", with its counts on hover; a scan of benign prompts only still has it.
func TestHeatmapOverRefusal(t *testing.T) {
	runs := t.TempDir()
	scanOf(t, runs, "scan", map[[2]string][2]int{{"S1", "none"}: {4, 1}, {"S1", "rot13"}: {4, 3}}, 6, 2)
	scanOf(t, runs, "benign-only", nil, 4, 1)
	_, ts := newServer(t, Options{RunsDir: runs})
	d := doc(t, ts.URL+"/runs/scan")
	row := d.Find("#heatmap .heatmap-box table.heatmap tbody tr.benign")
	if row.Length() != 1 || !strings.Contains(row.Find("th").Text(), "over-refusal") {
		t.Fatalf("no over-refusal row: %q", d.Find("#heatmap").Text())
	}
	cell := row.Find("td").First()
	if cell.Text() != "0.33" || !cell.HasClass("o3") || !strings.Contains(cell.AttrOr("title", ""), "2/6 benign prompts refused") || row.Find("td").Eq(1).Text() != "–" {
		t.Fatalf("over-refusal cell %q %q", cell.Text(), cell.AttrOr("title", ""))
	}
	if c := d.Find("table.heatmap tbody tr").First().Find("td").Eq(1); c.Text() != "0.75" || !strings.Contains(c.AttrOr("title", ""), "S1 × rot13: 3/4 unsafe") {
		t.Fatalf("rot13 cell %q %q", c.Text(), c.AttrOr("title", ""))
	}
	if d.Find("table.heatmap thead th.corner").Length() != 1 {
		t.Fatal("no corner header")
	}
	d = doc(t, ts.URL+"/runs/benign-only")
	if d.Find("#heatmap tr.benign td").Text() != "0.25" || d.Find("#heatmap thead th.attack").Text() != "none" {
		t.Fatalf("benign-only scan: %q", d.Find("#heatmap").Text())
	}
}

// TestCompareMany: compare takes any number of runs (?run= repeated; ?a=&b= still work),
// shows one column each, overlays the training runs' curves (the union of their
// methods' charts), each scan's heatmap, and a difference heatmap of each later scan
// minus the first; rows that no run has (null or absent everywhere) are left out.
func TestCompareMany(t *testing.T) {
	runs := t.TempDir()
	trainRun(t, runs, "dpo-1", 3, true)
	sft := trainRun(t, runs, "sft-1", 2, false)
	os.WriteFile(filepath.Join(sft, "config.json"), []byte(`{"method":"sft","model":"/models/tiny","max_steps":50,"beta":null,"seed":3,"adapter":null}`), 0o644)
	os.WriteFile(filepath.Join(runs, "dpo-1", "config.json"), []byte(`{"method":"dpo","model":"/models/tiny","max_steps":50,"beta":0.1,"seed":3,"adapter":null}`), 0o644)
	scanOf(t, runs, "before", map[[2]string][2]int{{"S1", "none"}: {4, 2}, {"S1", "rot13"}: {4, 4}, {"S2", "none"}: {2, 1}}, 4, 0)
	scanOf(t, runs, "after", map[[2]string][2]int{{"S1", "none"}: {4, 1}, {"S1", "rot13"}: {4, 1}, {"S9", "none"}: {2, 0}}, 4, 2)
	scanOf(t, runs, "later", map[[2]string][2]int{{"S1", "none"}: {4, 3}}, 0, 0)
	_, ts := newServer(t, Options{RunsDir: runs})

	d := doc(t, ts.URL+"/compare?run=dpo-1&run=sft-1&run=before&run=after&run=later")
	var heads []string
	d.Find("#compare thead th a").Each(func(_ int, s *goquery.Selection) { heads = append(heads, s.Text()) })
	if strings.Join(heads, " ") != "dpo-1 sft-1 before after later" || d.Find("#compare tbody tr").First().Find("td").Length() != 5 {
		t.Fatalf("columns %v", heads)
	}
	if d.Find(`select[name="run"]`).Length() != 6 || d.Find(`select[name="run"]`).Eq(2).Find("option[selected]").AttrOr("value", "") != "before" {
		t.Fatal("pickers: one per run and one to add a run")
	}
	rows := map[string][]string{}
	d.Find("#compare tbody tr").Each(func(_ int, s *goquery.Selection) {
		var v []string
		s.Find("td").Each(func(_ int, c *goquery.Selection) { v = append(v, c.Text()) })
		rows[s.Find("th").Text()] = v
	})
	if _, ok := rows["config adapter"]; ok {
		t.Errorf("a config row null everywhere: %v", rows["config adapter"])
	}
	if _, ok := rows["config seed"]; !ok { // 3, 3, and absent in the scans
		t.Errorf("config seed differs but is missing: %v", rows)
	}
	if got := strings.Join(rows["config beta"], " "); got != "0.1 – – – –" {
		t.Errorf("config beta %q", got)
	}
	if got := strings.Join(rows["step"], " "); got != "3/50 2/50 14/14 14/14 4/4" {
		t.Errorf("step %q", got)
	}
	if c := d.Find("#compare-charts"); c.AttrOr("data-runs", "") != "dpo-1 sft-1" || c.Find(`figure[data-key="loss"]`).Length() != 1 || c.Find(`figure[data-key="rewards/margins"]`).Length() != 1 || c.Find(`figure[data-key="loss"]`).Length() != 1 {
		t.Fatal("charts")
	}
	if d.Find("section.run-heatmap").Length() != 3 {
		t.Fatalf("%d heatmaps", d.Find("section.run-heatmap").Length())
	}
	diffs := d.Find("section.diff")
	if diffs.Length() != 2 || diffs.First().AttrOr("data-before", "") != "before" || diffs.First().AttrOr("data-after", "") != "after" || diffs.Eq(1).AttrOr("data-after", "") != "later" {
		t.Fatalf("diffs %d", diffs.Length())
	}
	// after minus before: S1 none 0.25-0.5, S1 rot13 0.25-1, S2 only before, S9 only after;
	// over-refusal 0.5-0.
	diff := map[string]string{}
	diffs.First().Find("tbody tr").Each(func(_ int, s *goquery.Selection) {
		var v []string
		s.Find("td").Each(func(_ int, c *goquery.Selection) { v = append(v, c.Text()+"/"+c.AttrOr("class", "")) })
		diff[s.Find("th").Text()] = strings.Join(v, " ")
	})
	want := map[string]string{"S1": "-0.25/dn1 -0.75/dn4", "S2": "–/hnone –/hnone", "S9": "–/hnone –/hnone", "benign · over-refusal": "+0.50/dp3 –/hnone"}
	for k, w := range want {
		if diff[k] != w {
			t.Errorf("diff %s: %q, want %q", k, diff[k], w)
		}
	}
	if title := diffs.First().Find("tbody tr").First().Find("td").First().AttrOr("title", ""); title != "before 0.50 (2/4 unsafe), after 0.25 (1/4 unsafe)" {
		t.Errorf("diff title %q", title)
	}
	// The older two-run form.
	d = doc(t, ts.URL+"/compare?a=before&b=after")
	if d.Find("#compare thead th a").Length() != 2 || d.Find("section.diff").Length() != 1 {
		t.Fatal("?a=&b=")
	}
}

// TestCompareNullRows: rows null or absent in every run (metrics no run logged as a
// number, settings null everywhere) are not shown; rows equal in every run neither.
func TestCompareNullRows(t *testing.T) {
	a := &Run{ID: "a", Status: "done", Method: "dpo", Metrics: map[string]any{"loss": 0.5, "rewards/margins": nil}, Config: []byte(`{"beta":0.1,"x":null,"y":null,"z":2}`)}
	b := &Run{ID: "b", Status: "done", Method: "dpo", Metrics: map[string]any{"loss": 0.25, "rewards/margins": nil}, Config: []byte(`{"beta":0.2,"x":null,"z":2}`)}
	var names []string
	for _, r := range compareRows([]*Run{a, b}) {
		names = append(names, r.Name)
	}
	if got := strings.Join(names, ","); got != "status,method,step,loss,config beta" {
		t.Fatalf("rows %s", got)
	}
}

// TestTrainStats: a training run's page shows its total steps (estimated from the epochs
// when the run is bounded by them), tokens/s and time a step over its last steps, and
// the time left while it runs.
func TestTrainStats(t *testing.T) {
	runs := t.TempDir()
	dir := filepath.Join(runs, "r")
	os.MkdirAll(dir, 0o755)
	os.WriteFile(filepath.Join(dir, "config.json"), []byte(`{"method":"sft","model":"m","max_steps":0,"num_train_epochs":3}`), 0o644)
	var b strings.Builder
	for s := 1; s <= 30; s++ { // 16 steps an epoch: epoch = s/16
		fmt.Fprintf(&b, `{"step":%d,"epoch":%g,"loss":1,"lr":1e-4,"grad_norm":1,"tokens":500,"seconds":0.25}`+"\n", s, float64(s)/16)
	}
	os.WriteFile(filepath.Join(dir, "events.jsonl"), []byte(b.String()), 0o644)
	s, ts := newServer(t, Options{RunsDir: runs})
	r, _ := s.runs.get("r", false)
	if r.Total != 48 || !r.TotalEstimated || r.Status != "running" {
		t.Fatalf("%+v", r)
	}
	stats := map[string]string{}
	doc(t, ts.URL+"/runs/r").Find("#train-stats .metric").Each(func(_ int, m *goquery.Selection) {
		stats[m.AttrOr("data-key", "")] = m.Find("b").Text()
	})
	if stats["steps"] != "30 / ~48" || stats["tokens/s"] != "2,000" || stats["s/step"] != "0.25" || stats["ETA"] != "~5s" {
		t.Fatalf("stats %v", stats)
	}
	past := time.Now().Add(-time.Hour)
	os.Chtimes(filepath.Join(dir, "events.jsonl"), past, past)
	os.Chtimes(filepath.Join(dir, "config.json"), past, past)
	stats = map[string]string{}
	doc(t, ts.URL+"/runs/r").Find("#train-stats .metric").Each(func(_ int, m *goquery.Selection) { stats[m.AttrOr("data-key", "")] = m.Find("b").Text() })
	if _, ok := stats["ETA"]; ok || stats["steps"] != "30 / ~48" {
		t.Fatalf("an interrupted run: %v", stats)
	}
	if got := fmtETA(3*time.Hour + 5*time.Minute + 9*time.Second); got != "3h 05m" {
		t.Error(got)
	}
	if got := fmtETA(200 * time.Second); got != "3m 20s" {
		t.Error(got)
	}
}

// TestFmtRate: rates read as whole numbers from 100 (999.9999 is 1,000, not 1e+03).
func TestFmtRate(t *testing.T) {
	for v, want := range map[float64]string{999.99999: "1,000", 1234567: "1,234,567", 123.4: "123", 45.61: "45.6", 0.1234: "0.123", 0.1: "0.1"} {
		if got := fmtRate(v); got != want {
			t.Errorf("fmtRate(%v) = %q, want %q", v, got, want)
		}
	}
}

// TestFmtNum: figures have four significant digits, and float noise shows as 0.
func TestFmtNum(t *testing.T) {
	for v, want := range map[float64]string{-2.1e-14: "0", 0: "0", 0.693147: "0.6931", 5e-5: "5.00e-05", 1234.5: "1234", -0.25: "-0.25"} {
		if got := fmtNum(v); got != want {
			t.Errorf("fmtNum(%v) = %q, want %q", v, got, want)
		}
	}
}
