package server

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"path"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"

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

func fmtNum(v float64) string {
	if a := v; a != 0 && (a < 1e-3 && a > -1e-3) {
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
	if run.Kind == "train" {
		p.Charts = train.ChartsFor(run.Method)
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

// heatmap lays a report's category × attack cells out as a grid.
func heatmap(rep *eval.Report) *web.Heatmap {
	if rep == nil || len(rep.Cells) == 0 {
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
	sort.Slice(cats, func(i, j int) bool { return categoryLess(cats[i], cats[j]) })
	sort.Slice(atks, func(i, j int) bool { // the unattacked column first
		if (atks[i] == eval.AttackNone) != (atks[j] == eval.AttackNone) {
			return atks[i] == eval.AttackNone
		}
		return atks[i] < atks[j]
	})
	h := &web.Heatmap{Attacks: atks}
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

func (s *Server) pageCompare(w http.ResponseWriter, r *http.Request) {
	runs := s.runs.list()
	p := web.ComparePage{}
	for _, run := range runs {
		p.Runs = append(p.Runs, rowOf(run))
	}
	q := r.URL.Query()
	var picked [2]*Run
	for i, k := range []string{"a", "b"} {
		if id := q.Get(k); id != "" {
			run, err := s.runs.get(id, true)
			if err != nil {
				s.notFound(w, r, fmt.Sprintf("run %q: %v", id, err))
				return
			}
			picked[i] = run
		}
	}
	if picked[0] != nil && picked[1] != nil {
		a, b := rowOf(picked[0]), rowOf(picked[1])
		p.A, p.B = &a, &b
		p.Rows = compareRows(picked[0], picked[1])
		for i, run := range picked {
			if run.Kind == "eval" {
				if rep, err := s.runs.report(filepath.Join(s.runs.dir, run.ID)); err == nil {
					p.Heatmap[i] = heatmap(rep.Report)
				}
			}
		}
	}
	s.render(w, r, http.StatusOK, web.Compare(p))
}

// compareRows lists the two runs' headline figures and every config field that differs.
func compareRows(a, b *Run) []web.CompareRow {
	rows := []web.CompareRow{
		{Name: "status", A: a.Status, B: b.Status},
		{Name: "method", A: a.Method, B: b.Method},
		{Name: "model", A: a.Model, B: b.Model},
		{Name: "step", A: strconv.Itoa(a.Step), B: strconv.Itoa(b.Step)},
	}
	keys := map[string]bool{}
	for k := range a.Metrics {
		keys[k] = true
	}
	for k := range b.Metrics {
		keys[k] = true
	}
	str := func(m map[string]any, k string) string {
		if v, ok := m[k].(float64); ok {
			return fmtNum(v)
		}
		return "–"
	}
	for _, k := range slices.Sorted(maps.Keys(keys)) {
		rows = append(rows, web.CompareRow{Name: k, A: str(a.Metrics, k), B: str(b.Metrics, k)})
	}
	var ca, cb map[string]any
	json.Unmarshal(a.Config, &ca)
	json.Unmarshal(b.Config, &cb)
	ck := map[string]bool{}
	for k := range ca {
		ck[k] = true
	}
	for k := range cb {
		ck[k] = true
	}
	for _, k := range slices.Sorted(maps.Keys(ck)) {
		va, _ := json.Marshal(ca[k])
		vb, _ := json.Marshal(cb[k])
		if !bytes.Equal(va, vb) && k != "model" && k != "method" {
			rows = append(rows, web.CompareRow{Name: "config " + k, A: string(va), B: string(vb)})
		}
	}
	return rows
}

func (s *Server) pageOffline(w http.ResponseWriter, r *http.Request) {
	s.render(w, r, http.StatusOK, web.Offline())
}
