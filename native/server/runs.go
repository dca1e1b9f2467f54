package server

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"time"

	"github.com/aegis-safety/aegis/native/eval"
	"github.com/aegis-safety/aegis/native/rundir"
	"github.com/aegis-safety/aegis/native/train"
)

// idPattern is a run id: one path element of the runs folder, no dot files, no separators,
// so an id can never reach outside the folder.
var idPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$`)

// validID reports whether id is an acceptable run or module name.
func validID(id string) bool { return idPattern.MatchString(id) }

// Run describes one run folder.
type Run struct {
	ID      string    `json:"id"`
	Kind    string    `json:"kind"`   // train or eval
	Status  string    `json:"status"` // running, done, interrupted
	Method  string    `json:"method"` // training method, or "eval"
	Model   string    `json:"model"`
	Started time.Time `json:"started"`
	Updated time.Time `json:"updated"`
	Step    int       `json:"step"`            // training: last step; eval: attempts judged
	Total   int       `json:"total,omitempty"` // training: max_steps, APL rounds, or estimated from epochs; eval: attempts
	// TotalEstimated: Total is estimated from the epochs and the last step's epoch.
	TotalEstimated bool            `json:"total_estimated,omitempty"`
	Metrics        map[string]any  `json:"metrics"`
	Config         json.RawMessage `json:"config,omitempty"`
	// Launched: the run was started from the launch form (its folder has RUN/aegis.log);
	// only such runs can be stopped and deleted from the pages.
	Launched bool `json:"launched"`
}

// The statuses of a run.
const (
	StatusRunning     = "running"
	StatusDone        = "done"
	StatusInterrupted = "interrupted" // unfinished, and no process is writing it
)

// trainMetrics are the events.jsonl fields a training run's key metrics show, when logged:
// loss and lr, then each method's key metrics in the method table (TRL's preference
// metrics, PT-ALIGN's two terms, APL's harmfulness score and defender margin).
var trainMetrics = train.KeyMetrics()

// store reads run folders under dir.
type store struct {
	dir string
	// active reports runs this server launched whose process is alive; ended those whose
	// process has exited.
	active, ended func(id string) bool
	// stale is how long after its last write an unfinished run still counts as running,
	// for runs that do not say whether their process is alive (rundir.Alive: written by
	// an older aegis, or on a file system without locks).
	stale time.Duration
}

// path returns the folder of a run id, or an error for an invalid or missing id.
func (s *store) path(id string) (string, error) {
	if !validID(id) {
		return "", errBadID
	}
	p := filepath.Join(s.dir, id)
	if st, err := os.Stat(p); err != nil || !st.IsDir() {
		return "", errNoRun
	}
	return p, nil
}

var (
	errBadID = errors.New("invalid run id")
	errNoRun = errors.New("no such run")
)

// list returns every run, newest first. Folders that are not runs are skipped.
func (s *store) list() []*Run {
	ents, _ := os.ReadDir(s.dir)
	var runs []*Run
	for _, e := range ents {
		if !e.IsDir() || !validID(e.Name()) {
			continue
		}
		if r, err := s.get(e.Name(), false); err == nil {
			runs = append(runs, r)
		}
	}
	sort.Slice(runs, func(i, j int) bool {
		if !runs[i].Started.Equal(runs[j].Started) {
			return runs[i].Started.After(runs[j].Started)
		}
		return runs[i].ID < runs[j].ID
	})
	return runs
}

func modTime(p string) time.Time {
	if st, err := os.Stat(p); err == nil {
		return st.ModTime()
	}
	return time.Time{}
}

func exists(p string) bool { _, err := os.Stat(p); return err == nil }

// get describes run id; withConfig includes its config.json.
func (s *store) get(id string, withConfig bool) (*Run, error) {
	dir, err := s.path(id)
	if err != nil {
		return nil, err
	}
	r := &Run{ID: id, Metrics: map[string]any{}}
	cfgPath := filepath.Join(dir, rundir.ConfigFile)
	switch {
	case exists(cfgPath):
		if err := readTrain(r, dir, cfgPath, withConfig); err != nil {
			return nil, err
		}
	case exists(filepath.Join(dir, rundir.ResultsFile)) || exists(filepath.Join(dir, rundir.ReportFile)):
		if err := s.readEval(r, dir, withConfig); err != nil {
			return nil, err
		}
	default:
		return nil, errNoRun
	}
	r.Launched = exists(filepath.Join(dir, rundir.LogFile))
	if r.Status == "" {
		// The writer's lock says at once whether a process is writing the run; only runs
		// without one fall back on the age of their files.
		alive, known := rundir.Alive(dir)
		switch {
		case s.active != nil && s.active(id):
			r.Status = StatusRunning
		case known && alive:
			r.Status = StatusRunning
		case known:
			r.Status = StatusInterrupted
		case s.ended != nil && s.ended(id):
			r.Status = StatusInterrupted
		case time.Since(r.Updated) < s.stale:
			r.Status = StatusRunning
		default:
			r.Status = StatusInterrupted
		}
	}
	return r, nil
}

// readTrain fills r from a training run's config.json and events.
func readTrain(r *Run, dir, cfgPath string, withConfig bool) error {
	b, err := os.ReadFile(cfgPath)
	if err != nil {
		return err
	}
	var c struct {
		rundir.Config
		Epochs int `json:"num_train_epochs"`
		APL    struct {
			Rounds int `json:"rounds"`
		} `json:"apl"`
	}
	if err := json.Unmarshal(b, &c); err != nil || c.Method == "" {
		return fmt.Errorf("%s: not a training run's config.json", cfgPath)
	}
	r.Kind, r.Method, r.Model, r.Total = "train", c.Method, c.Model, c.Steps
	if c.APL.Rounds > 0 {
		r.Total = c.APL.Rounds // one event (step) a round
	}
	if withConfig {
		r.Config = b
	}
	// The trainer writes config.json once, at the start (a resume keeps it).
	r.Started = modTime(cfgPath)
	ev := filepath.Join(dir, rundir.EventsFile)
	r.Updated = later(r.Started, modTime(ev))
	if last, ok := lastEvent(ev); ok {
		r.Step = last.Step
		for _, k := range trainMetrics {
			if v, ok := last.Fields[k]; ok {
				r.Metrics[k] = v
			}
		}
		// A run bounded by epochs: its steps per epoch from how far into them the last
		// step got (the trainer's "epoch" is epochs done plus the share of this one).
		if e, ok := last.Fields[rundir.Epoch].(float64); ok && r.Total == 0 && c.Epochs > 0 && e > 0 && r.Step > 0 {
			r.Total = c.Epochs * int(math.Ceil(float64(r.Step)/e-1e-6))
			r.TotalEstimated = true
		}
	}
	// final/ is written after the last step: its presence is the one sure sign of a
	// finished run.
	if exists(filepath.Join(dir, rundir.FinalDir)) {
		r.Status = StatusDone
	}
	return nil
}

// readEval fills r from a scan's report (or its results, while it runs).
func (s *store) readEval(r *Run, dir string, withConfig bool) error {
	r.Kind, r.Method = "eval", "eval"
	rep, err := s.report(dir)
	if err != nil {
		return err
	}
	r.Model = rep.Model
	r.Step, r.Total = rep.Counts.Judged, rep.Counts.Attempts
	r.Metrics["asr"] = rep.ASR
	r.Metrics["refusal_rate"] = rep.RefusalRate
	r.Metrics["over_refusal_rate"] = rep.OverRefusalRate
	res := filepath.Join(dir, rundir.ResultsFile)
	// A scan writes nothing once at its start, but it creates results.jsonl then; the
	// folder's own time moves whenever a file is added (report.json at the end).
	r.Started = modTime(dir)
	if t, ok := created(res); ok && t.Before(r.Started) {
		r.Started = t
	}
	r.Updated = later(modTime(res), modTime(filepath.Join(dir, rundir.ReportFile)))
	if withConfig {
		r.Config, _ = json.Marshal(map[string]any{"model": rep.Model, "judge": rep.Judge, "counts": rep.Counts})
	}
	// The scan writes report.json at its end (also when interrupted): a report over
	// every attempt judged, written after the last result, means done.
	if rep.fromFile && rep.Counts.Pending+rep.Counts.Generated == 0 && !modTime(filepath.Join(dir, rundir.ReportFile)).Before(modTime(res)) {
		r.Status = StatusDone
	}
	return nil
}

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// report is an eval run's report: report.json when it is current, else computed from
// results.jsonl (a running scan).
type evalReport struct {
	*eval.Report
	fromFile bool
	attempts []*eval.Attempt // nil when read from report.json
}

func (s *store) report(dir string) (*evalReport, error) {
	res, rj := filepath.Join(dir, rundir.ResultsFile), filepath.Join(dir, rundir.ReportFile)
	if exists(rj) && !modTime(rj).Before(modTime(res)) {
		b, err := os.ReadFile(rj)
		if err == nil {
			var r eval.Report
			if json.Unmarshal(b, &r) == nil {
				return &evalReport{Report: &r, fromFile: true}, nil
			}
		}
	}
	as, err := eval.ReadAttempts(res)
	if err != nil {
		return nil, err
	}
	return &evalReport{Report: eval.NewReport(as), attempts: as}, nil
}

// event is one line of events.jsonl with its step and every field.
type event struct {
	Step   int
	Fields map[string]any
}

// lastEvent reads the last complete line of an events file.
func lastEvent(path string) (event, bool) {
	f, err := os.Open(path)
	if err != nil {
		return event{}, false
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil || st.Size() == 0 {
		return event{}, false
	}
	// Events are a few hundred bytes; the tail holds the last complete one.
	const tail = 16 << 10
	off := max(0, st.Size()-tail)
	buf := make([]byte, st.Size()-off)
	if _, err := f.ReadAt(buf, off); err != nil {
		return event{}, false
	}
	lines := bytes.Split(buf, []byte("\n"))
	for i := len(lines) - 1; i >= 0; i-- {
		if i == len(lines)-1 && len(lines[i]) > 0 {
			continue // torn last line, still being written
		}
		var m map[string]any
		if json.Unmarshal(lines[i], &m) == nil {
			step, _ := m[rundir.Step].(float64)
			return event{Step: int(step), Fields: m}, true
		}
	}
	return event{}, false
}

// eventsFile is the file whose lines are a run's events: events.jsonl, or an eval
// scan's results.jsonl.
func eventsFile(kind string) string {
	if kind == "eval" {
		return rundir.ResultsFile
	}
	return rundir.EventsFile
}

// readEvents returns the complete lines of a run's event file with step > from, each a
// JSON object with "step". Eval runs' events are results.jsonl lines numbered from 1.
func readEvents(dir, kind string, from int) ([]json.RawMessage, error) {
	f, err := os.Open(filepath.Join(dir, eventsFile(kind)))
	if errors.Is(err, os.ErrNotExist) {
		return []json.RawMessage{}, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	out := []json.RawMessage{}
	t := &tailer{kind: kind}
	sc := bufio.NewReaderSize(f, 1<<16)
	for {
		line, err := sc.ReadBytes('\n')
		if err != nil {
			break // EOF: a line without '\n' is still being written
		}
		if msg, step, ok := t.message(line); ok && step > from {
			out = append(out, msg)
		}
	}
	return out, nil
}

// recentEvents returns up to n of the last complete events of an events file (from its
// last 256 KiB), oldest first.
func recentEvents(path string, n int) []event {
	f, err := os.Open(path)
	if err != nil {
		return nil
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil
	}
	off := max(0, st.Size()-256<<10)
	buf := make([]byte, st.Size()-off)
	if _, err := f.ReadAt(buf, off); err != nil {
		return nil
	}
	lines := bytes.Split(buf, []byte("\n"))
	lines = lines[:len(lines)-1] // the last is empty or still being written
	if off > 0 && len(lines) > 0 {
		lines = lines[1:] // the first may be cut
	}
	var out []event
	for i := len(lines) - 1; i >= 0 && len(out) < n; i-- {
		var m map[string]any
		if json.Unmarshal(lines[i], &m) == nil {
			step, _ := m[rundir.Step].(float64)
			out = append(out, event{Step: int(step), Fields: m})
		}
	}
	slices.Reverse(out)
	return out
}
