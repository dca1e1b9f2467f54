package server

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"net/http"
	"path"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/aegis-safety/aegis/native/eval"
	"github.com/aegis-safety/aegis/native/rundir"
	"github.com/aegis-safety/aegis/native/train"
	"github.com/aegis-safety/aegis/wasm"
	"github.com/aegis-safety/aegis/web"
)

// handleStatic serves the embedded UI files and the built-in modules (for the browser's
// judge worker) under /static/.
func (s *Server) handleStatic(w http.ResponseWriter, r *http.Request) {
	name := strings.TrimPrefix(path.Clean(r.URL.Path), "/static/")
	if mod, ok := strings.CutPrefix(name, "modules/"); ok {
		b, found := wasm.Builtin(strings.TrimSuffix(mod, ".wasm"))
		if !found || !strings.HasSuffix(mod, ".wasm") {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/wasm")
		w.Header().Set("Cache-Control", "max-age=3600")
		w.Write(b)
		return
	}
	if name != "wasi.js" {
		name = "static/" + name
	}
	if strings.HasSuffix(name, ".js") {
		w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
	}
	http.ServeFileFS(w, r, web.Static, name)
}

// handleFavicon answers the browsers' default /favicon.ico with the pages' SVG icon.
func (s *Server) handleFavicon(w http.ResponseWriter, r *http.Request) {
	b, err := web.Static.ReadFile("static/favicon.svg")
	if err != nil {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "image/svg+xml")
	w.Header().Set("Cache-Control", "max-age=86400")
	w.Write(b)
}

func (s *Server) notFound(w http.ResponseWriter, r *http.Request, msg string) {
	s.render(w, r, http.StatusNotFound, web.NotFound(msg))
}

func (s *Server) pageRuns(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	all := s.runs.list()
	p := web.RunsPage{All: len(all), Filter: readRunsQuery(q), Message: q.Get("msg"), Error: q.Get("err"), CanLaunch: s.opt.Launch != nil}
	for _, run := range filterRuns(all, p.Filter) {
		row := rowOf(run)
		row.Stoppable = s.opt.Launch != nil && run.Status == StatusRunning && s.opt.Launch.Running(run.ID)
		p.Runs = append(p.Runs, row)
	}
	s.render(w, r, http.StatusOK, web.Runs(p))
}

// rowOf formats a run for the pages.
func rowOf(r *Run) web.RunRow {
	row := web.RunRow{ID: r.ID, Kind: r.Kind, Status: r.Status, Method: r.Method, Model: r.Model,
		Step: r.Step, Total: r.Total, Launched: r.Launched}
	if !r.Started.IsZero() {
		row.Started = r.Started.Local().Format("2006-01-02 15:04")
	}
	keys := trainMetrics
	if r.Kind == "eval" {
		keys = []string{"asr", "refusal_rate", "over_refusal_rate"}
	}
	for _, k := range keys {
		if v, ok := r.Metrics[k].(float64); ok {
			row.Metrics = append(row.Metrics, web.Metric{Name: k, Value: fmtNum(v)})
		}
	}
	return row
}

// fmtNum shows a figure with four significant digits; below 1e-10 it is float noise
// (a DPO margin of -2.1e-14 at the first step) and shows as 0.
func fmtNum(v float64) string {
	if math.Abs(v) < 1e-10 {
		return "0"
	}
	if a := v; a < 1e-3 && a > -1e-3 {
		return strconv.FormatFloat(v, 'e', 2, 64)
	}
	return strconv.FormatFloat(v, 'g', 4, 64)
}

const samplesPerPage = 50

func (s *Server) pageRun(w http.ResponseWriter, r *http.Request) {
	run, err := s.runs.get(r.PathValue("id"), true)
	if err != nil {
		s.notFound(w, r, err.Error())
		return
	}
	p := web.RunPage{Run: rowOf(run)}
	p.Run.Stoppable = s.opt.Launch != nil && run.Status == StatusRunning && s.opt.Launch.Running(run.ID)
	if run.Kind == "train" {
		p.Charts = train.ChartsFor(run.Method)
		p.Stats = trainStats(run, recentEvents(filepath.Join(s.runs.dir, run.ID, rundir.EventsFile), statsWindow))
	}
	var pretty bytes.Buffer
	if json.Indent(&pretty, run.Config, "", "  ") == nil {
		p.Config = pretty.String()
	}
	if run.Kind == "eval" {
		rep, err := s.runs.report(filepath.Join(s.runs.dir, run.ID))
		if err == nil {
			p.Heatmap = heatmap(rep.Report)
			as := rep.attempts
			if as == nil {
				as, _ = eval.ReadAttempts(filepath.Join(s.runs.dir, run.ID, rundir.ResultsFile))
			}
			q := r.URL.Query()
			p.Filter = web.SampleFilter{Category: q.Get("category"), Attack: q.Get("attack"), UnsafeOnly: q.Get("unsafe") != ""}
			var keep []web.Sample
			for _, a := range as {
				sm := sampleOf(a)
				if (p.Filter.Category == "" || a.Category == p.Filter.Category) && (p.Filter.Attack == "" || a.Attack == p.Filter.Attack) && (!p.Filter.UnsafeOnly || sm.Unsafe) {
					keep = append(keep, sm)
				}
			}
			p.Total = len(keep)
			p.Filter.Pages = (len(keep) + samplesPerPage - 1) / samplesPerPage
			page, _ := strconv.Atoi(q.Get("page"))
			page = min(max(1, page), max(1, p.Filter.Pages))
			p.Filter.Page = page
			p.Samples = keep[min(len(keep), (page-1)*samplesPerPage):min(len(keep), page*samplesPerPage)]
		}
	}
	s.render(w, r, http.StatusOK, web.Run(p))
}

// statsWindow is how many of the last steps the rate and the ETA are measured over.
const statsWindow = 20

// trainStats are a training run's total steps, throughput over its last steps, and,
// while it runs, the time left at that pace.
func trainStats(r *Run, recent []event) []web.Metric {
	steps := strconv.Itoa(r.Step)
	switch {
	case r.Total > 0 && r.TotalEstimated:
		steps += " / ~" + strconv.Itoa(r.Total)
	case r.Total > 0:
		steps += " / " + strconv.Itoa(r.Total)
	}
	out := []web.Metric{{Name: "steps", Value: steps}}
	var tokens, secs float64
	for _, e := range recent {
		t, _ := e.Fields[rundir.Tokens].(float64)
		s, _ := e.Fields[rundir.Seconds].(float64)
		tokens += t
		secs += s
	}
	if secs <= 0 || len(recent) == 0 {
		return out
	}
	if tokens > 0 {
		out = append(out, web.Metric{Name: "tokens/s", Value: fmtRate(tokens / secs)})
	}
	per := secs / float64(len(recent))
	out = append(out, web.Metric{Name: "s/step", Value: fmtRate(per)})
	if r.Status == StatusRunning && r.Total > r.Step {
		eta := time.Duration(float64(r.Total-r.Step) * per * float64(time.Second))
		v := fmtETA(eta)
		if r.TotalEstimated {
			v = "~" + v
		}
		out = append(out, web.Metric{Name: "ETA", Value: v})
	}
	return out
}

// fmtRate shows a rate as people read one: whole numbers from 100 up, thousands grouped
// (12,345), one decimal from 10 (45.6), else three significant digits (0.123).
func fmtRate(v float64) string {
	switch {
	case v >= 99.95:
		s := strconv.FormatFloat(math.Round(v), 'f', 0, 64)
		for i := len(s) - 3; i > 0; i -= 3 {
			s = s[:i] + "," + s[i:]
		}
		return s
	case v >= 9.995:
		return strconv.FormatFloat(v, 'f', 1, 64)
	}
	return strconv.FormatFloat(v, 'g', 3, 64)
}

// fmtETA is a duration as people read a countdown: 45s, 3m 20s, 1h 05m, 2d 3h.
func fmtETA(d time.Duration) string {
	s := int(d.Round(time.Second).Seconds())
	switch {
	case s < 60:
		return fmt.Sprintf("%ds", s)
	case s < 3600:
		return fmt.Sprintf("%dm %02ds", s/60, s%60)
	case s < 86400:
		return fmt.Sprintf("%dh %02dm", s/3600, s%3600/60)
	}
	return fmt.Sprintf("%dd %dh", s/86400, s%86400/3600)
}

func sampleOf(a *eval.Attempt) web.Sample {
	sm := web.Sample{ID: a.ID, Status: a.Status, Category: a.Category, Attack: a.Attack, Prompt: a.Prompt, Error: a.Error}
	if a.Response != nil {
		sm.Response = *a.Response
	}
	if v := a.Verdict; v != nil && a.Status == eval.StatusJudged {
		sm.Judged, sm.Unsafe, sm.Refusal, sm.Score = true, v.Unsafe, v.Refusal, v.Score
	}
	return sm
}

// heatmap lays a report's category × attack cells out as a grid, with the benign
// prompts' over-refusal.
func heatmap(rep *eval.Report) *web.Heatmap {
	if rep == nil || len(rep.Cells) == 0 && rep.OverRefusal.N == 0 {
		return nil
	}
	var cats, atks []string
	for _, c := range rep.Cells {
		if !slices.Contains(cats, c.Category) {
			cats = append(cats, c.Category)
		}
		if !slices.Contains(atks, c.Attack) {
			atks = append(atks, c.Attack)
		}
	}
	h := &web.Heatmap{}
	if o := rep.OverRefusal; o.N > 0 {
		h.OverRefusal = &web.HeatCell{N: o.N, Unsafe: o.K, ASR: o.Rate, Lo: o.CILow, Hi: o.CIHigh}
		if !slices.Contains(atks, eval.AttackNone) { // benign prompts go unattacked
			atks = append(atks, eval.AttackNone)
		}
	}
	sort.Slice(cats, func(i, j int) bool { return categoryLess(cats[i], cats[j]) })
	sortAttacks(atks)
	h.Attacks = atks
	for _, cat := range cats {
		row := web.HeatRow{Category: cat, Cells: make([]web.HeatCell, len(atks))}
		for _, c := range rep.Cells {
			if c.Category == cat {
				row.Cells[slices.Index(atks, c.Attack)] = web.HeatCell{N: c.N, Unsafe: c.Unsafe, ASR: c.ASR, Lo: c.CILow, Hi: c.CIHigh}
			}
		}
		h.Rows = append(h.Rows, row)
	}
	return h
}

// sortAttacks orders attack styles by name, the unattacked column first.
func sortAttacks(atks []string) {
	sort.Slice(atks, func(i, j int) bool {
		if (atks[i] == eval.AttackNone) != (atks[j] == eval.AttackNone) {
			return atks[i] == eval.AttackNone
		}
		return atks[i] < atks[j]
	})
}

// categoryLess orders harm categories as the taxonomy numbers them (S1, S2, …, S14), then
// anything else by name.
func categoryLess(a, b string) bool {
	num := func(c string) int {
		if n, err := strconv.Atoi(strings.TrimPrefix(c, "S")); err == nil && strings.HasPrefix(c, "S") {
			return n
		}
		return 1 << 30
	}
	if na, nb := num(a), num(b); na != nb {
		return na < nb
	}
	return a < b
}

// maxCompare is the most runs one compare view takes.
const maxCompare = 8

// pageCompare compares the runs of ?run=ID (repeated, in order; ?a= and ?b= as before).
func (s *Server) pageCompare(w http.ResponseWriter, r *http.Request) {
	runs := s.runs.list()
	p := web.ComparePage{}
	for _, run := range runs {
		p.Runs = append(p.Runs, rowOf(run))
	}
	q := r.URL.Query()
	var ids []string
	for _, id := range append(append(q["a"], q["b"]...), q["run"]...) {
		if id != "" && !slices.Contains(ids, id) {
			ids = append(ids, id)
		}
	}
	if len(ids) > maxCompare {
		ids = ids[:maxCompare]
	}
	var picked []*Run
	for _, id := range ids {
		run, err := s.runs.get(id, true)
		if err != nil {
			s.notFound(w, r, fmt.Sprintf("run %q: %v", id, err))
			return
		}
		picked = append(picked, run)
		p.Picked = append(p.Picked, rowOf(run))
	}
	p.Rows = compareRows(picked)
	var methods []string
	for _, run := range picked {
		if run.Kind == "train" && !slices.Contains(methods, run.Method) {
			methods = append(methods, run.Method)
		}
		if run.Kind == "eval" {
			if rep, err := s.runs.report(filepath.Join(s.runs.dir, run.ID)); err == nil {
				if h := heatmap(rep.Report); h != nil {
					p.Heatmaps = append(p.Heatmaps, web.RunHeatmap{ID: run.ID, Heatmap: h})
				}
			}
		}
	}
	// The curves every picked method logs, loss first, each once.
	for _, m := range methods {
		for _, c := range train.ChartsFor(m) {
			if !slices.ContainsFunc(p.Charts, func(x rundir.Chart) bool { return x.Key == c.Key }) {
				p.Charts = append(p.Charts, c)
			}
		}
	}
	for _, h := range p.Heatmaps[min(1, len(p.Heatmaps)):] {
		p.Diffs = append(p.Diffs, diffHeatmap(p.Heatmaps[0], h))
	}
	s.render(w, r, http.StatusOK, web.Compare(p))
}

// diffHeatmap is after minus before, cell by cell, over both heatmaps' categories and
// attacks (ordered as heatmap orders them).
func diffHeatmap(before, after web.RunHeatmap) web.DiffHeatmap {
	b, a := before.Heatmap, after.Heatmap
	d := web.DiffHeatmap{Before: before.ID, After: after.ID}
	var cats []string
	for _, h := range []*web.Heatmap{b, a} {
		for _, at := range h.Attacks {
			if !slices.Contains(d.Attacks, at) {
				d.Attacks = append(d.Attacks, at)
			}
		}
		for _, r := range h.Rows {
			if !slices.Contains(cats, r.Category) {
				cats = append(cats, r.Category)
			}
		}
	}
	sortAttacks(d.Attacks)
	sort.Slice(cats, func(i, j int) bool { return categoryLess(cats[i], cats[j]) })
	cell := func(h *web.Heatmap, cat, atk string) web.HeatCell {
		i := slices.Index(h.Attacks, atk)
		for _, r := range h.Rows {
			if r.Category == cat && i >= 0 {
				return r.Cells[i]
			}
		}
		return web.HeatCell{}
	}
	diff := func(x, y web.HeatCell) web.DiffCell {
		c := web.DiffCell{Before: x, After: y, Both: x.N > 0 && y.N > 0}
		if c.Both {
			c.Delta = y.ASR - x.ASR
		}
		return c
	}
	for _, cat := range cats {
		row := web.DiffRow{Category: cat}
		for _, atk := range d.Attacks {
			row.Cells = append(row.Cells, diff(cell(b, cat, atk), cell(a, cat, atk)))
		}
		d.Rows = append(d.Rows, row)
	}
	if b.OverRefusal != nil && a.OverRefusal != nil {
		c := diff(*b.OverRefusal, *a.OverRefusal)
		d.OverRefusal = &c
	}
	return d
}

// compareRows lists the runs' headline figures and every config field whose value is
// not the same in all of them. A row that no run has (a metric none logged, a setting
// null or absent everywhere) is left out.
func compareRows(runs []*Run) []web.CompareRow {
	if len(runs) == 0 {
		return nil
	}
	var rows []web.CompareRow
	add := func(name string, f func(*Run) string) {
		row := web.CompareRow{Name: name}
		some := false
		for _, r := range runs {
			v := f(r)
			some = some || v != "–"
			row.Values = append(row.Values, v)
		}
		if some {
			rows = append(rows, row)
		}
	}
	add("status", func(r *Run) string { return orDash(r.Status) })
	add("method", func(r *Run) string { return orDash(r.Method) })
	add("model", func(r *Run) string { return orDash(r.Model) })
	add("step", func(r *Run) string {
		if r.Total > 0 {
			return fmt.Sprintf("%d/%d", r.Step, r.Total)
		}
		return strconv.Itoa(r.Step)
	})
	keys := map[string]bool{}
	for _, r := range runs {
		for k := range r.Metrics {
			keys[k] = true
		}
	}
	for _, k := range slices.Sorted(maps.Keys(keys)) {
		add(k, func(r *Run) string {
			if v, ok := r.Metrics[k].(float64); ok {
				return fmtNum(v)
			}
			return "–"
		})
	}
	cfgs := make([]map[string]any, len(runs))
	ck := map[string]bool{}
	for i, r := range runs {
		json.Unmarshal(r.Config, &cfgs[i])
		for k := range cfgs[i] {
			ck[k] = true
		}
	}
	for _, k := range slices.Sorted(maps.Keys(ck)) {
		if k == "model" || k == "method" {
			continue
		}
		var vals []string
		for _, c := range cfgs {
			b, _ := json.Marshal(c[k]) // absent is null
			vals = append(vals, string(b))
		}
		same, allNull := true, true
		for _, v := range vals {
			same = same && v == vals[0]
			allNull = allNull && v == "null"
		}
		if len(runs) > 1 && same || allNull {
			continue
		}
		row := web.CompareRow{Name: "config " + k}
		for _, v := range vals {
			if v == "null" {
				v = "–"
			}
			row.Values = append(row.Values, v)
		}
		rows = append(rows, row)
	}
	return rows
}

func orDash(s string) string {
	if s == "" {
		return "–"
	}
	return s
}

func (s *Server) pageOffline(w http.ResponseWriter, r *http.Request) {
	s.render(w, r, http.StatusOK, web.Offline())
}
