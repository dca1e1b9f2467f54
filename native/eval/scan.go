package eval

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/aegis-safety/aegis/native/data"
	"github.com/aegis-safety/aegis/native/jsonl"
	"github.com/aegis-safety/aegis/native/rundir"
)

// ErrExists is wrapped by the error of a scan into a folder that already has results,
// when the scan is told neither to resume nor to overwrite them.
var ErrExists = errors.New("exists: --resume continues it, --overwrite starts over")

// ErrOtherSetup is wrapped by the error of a resumed scan whose Setup differs from the
// one its folder records: resuming would mix the answers of two models or the verdicts
// of two judges in one report.
var ErrOtherSetup = errors.New("a different model or judge")

// Setup is what a scan measures: the model under test and its judge. Scan records it in
// the folder (rundir.ScanFile), and a resumed scan must have the same; fields left empty
// are not recorded. Paths (a local model folder, a judge .wasm file) should be absolute,
// so that a scan resumed from another folder compares equal.
type Setup struct {
	Endpoint      string `json:"endpoint,omitempty"`       // the model's OpenAI-compatible endpoint
	Model         string `json:"model,omitempty"`          // the endpoint's model name, or the local model folder
	Adapter       string `json:"adapter,omitempty"`        // a local model's adapter folder
	Judge         string `json:"judge,omitempty"`          // the judge module: a built-in name or a .wasm file
	JudgeEndpoint string `json:"judge_endpoint,omitempty"` // an LLM judge's endpoint
	JudgeModel    string `json:"judge_model,omitempty"`
	Rubric        string `json:"rubric,omitempty"`
}

// differences lists the fields of s that differ from was, as "name NEW (the scan has OLD)".
func (s Setup) differences(was Setup) []string {
	var out []string
	add := func(name, now, then string) {
		if now != then {
			show := func(v string) string {
				if v == "" {
					return "none"
				}
				return v
			}
			out = append(out, fmt.Sprintf("%s %s (the scan has %s)", name, show(now), show(then)))
		}
	}
	add("endpoint", s.Endpoint, was.Endpoint)
	add("model", s.Model, was.Model)
	add("adapter", s.Adapter, was.Adapter)
	add("judge", s.Judge, was.Judge)
	add("judge endpoint", s.JudgeEndpoint, was.JudgeEndpoint)
	add("judge model", s.JudgeModel, was.JudgeModel)
	add("rubric", s.Rubric, was.Rubric)
	return out
}

// ScanConfig describes a scan. Gen and Judge are required; the rest may be zero.
type ScanConfig struct {
	Dir     string        // the scan's folder (created): rundir.ResultsFile, rundir.ReportFile, rundir.ReportMarkdown
	Prompts []data.Prompt // what is sent, expanded into attempts by Expand
	Styles  []string      // attack styles harmful prompts are also rewritten in (none: nil)
	Attack  data.Attacker // rewrites prompts in Styles; needed with Styles
	Seed    uint64        // attack seeds derive from it and the prompt ids

	// Gen makes the model under test. It is called once, after the folder is checked and
	// the prompts expanded, so that a refused folder or a failing attack module costs no
	// model load.
	Gen   func() (Generator, error)
	Judge Judge

	// Resume continues the results already in Dir: a line torn by an interruption is cut,
	// finished attempts are kept, and only unfinished ones are sent. Overwrite discards
	// them instead. With neither, existing results are an error wrapping ErrExists.
	Resume, Overwrite bool
	// SkipPending leaves out the "pending" line each new attempt otherwise gets before
	// anything is sent (the demo's scans, which are never resumed, are written so).
	SkipPending bool

	Model    string // the report's model label
	Baseline string // results.jsonl of another scan: the report's win rates against it
	// Setup is what the scan measures, recorded in the folder and checked on resume
	// (zero: neither).
	Setup Setup

	// OnStart is called with the number of attempts to finish before any is sent, OnDone
	// as attempts finish (judged, or failed); never concurrently.
	OnStart func(todo int)
	OnDone  func(n int)
}

// ScanResult is what a scan did.
type ScanResult struct {
	Attempts []*Attempt // the scan's attempts in expansion order, in their latest state
	Report   *Report    // the report written, over every attempt of rundir.ResultsFile
	Todo     int        // attempts that were not finished when the scan started
	Failed   int        // attempts whose last try failed (see Attempt.Error)
}

// ScanError is a scan that ended with unfinished attempts: interrupted (it then wraps
// context.Canceled) or with failed attempts. Finished work is in Results, and a resumed
// scan continues it.
type ScanError struct {
	Interrupted bool
	Results     string // the attempts log
	Done, Of    int    // interrupted: judged attempts of the log; failed: failed of todo
}

func (e *ScanError) Error() string {
	if e.Interrupted {
		return fmt.Sprintf("interrupted: %d of %d attempts judged; finished work is in %s, continue with --resume", e.Done, e.Of, e.Results)
	}
	return fmt.Sprintf("%d of %d attempts failed (their errors are in %s); rerun with --resume to retry them", e.Done, e.Of, e.Results)
}

// Unwrap returns context.Canceled for an interrupted scan.
func (e *ScanError) Unwrap() error {
	if e.Interrupted {
		return context.Canceled
	}
	return nil
}

// Scan runs a scan end to end: it checks Dir (resume, overwrite or refuse), expands the
// prompts into attempts, merges them with the attempts a resumed scan already has, logs
// new ones as pending, generates and judges every unfinished one (see Run) and writes the
// report over every attempt in the log, also after an interruption or failures.
//
// The result is non-nil whenever the report was written. An interruption or failed
// attempts end in a *ScanError; other errors are returned as they are, the first one
// when several writes fail (a full disk fails the log, then the report).
func Scan(ctx context.Context, c ScanConfig) (*ScanResult, error) {
	results := filepath.Join(c.Dir, rundir.ResultsFile)
	release, err := rundir.Hold(c.Dir) // readers see the scan alive until Scan returns
	if err != nil {
		return nil, err
	}
	defer release()
	previous, err := c.prepare(results)
	if err != nil {
		return nil, err
	}
	attempts, err := Expand(ctx, c.Prompts, c.Styles, c.Attack, c.Seed)
	if err != nil {
		return nil, err
	}
	attempts, fresh, todo := merge(attempts, previous)
	gen, err := c.Gen()
	if err != nil {
		return nil, err
	}
	log, err := OpenLog(results)
	if err != nil {
		return nil, err
	}
	defer log.Close()
	if !c.SkipPending {
		for _, a := range fresh {
			if err := log.Append(a); err != nil {
				return nil, err
			}
		}
	}
	res := &ScanResult{Attempts: attempts, Todo: todo}
	var runErr error
	res.Failed, runErr = Run(ctx, attempts, Options{Gen: gen, Judge: c.Judge, Log: log, Progress: c.progress(todo)})
	if err := log.Close(); err != nil && runErr == nil {
		runErr = err
	}
	if res.Report, err = WriteReport(c.Dir, c.Model, c.Baseline); err != nil {
		if runErr != nil && !errors.Is(runErr, context.Canceled) {
			return nil, runErr // the first failure: the report's is its consequence
		}
		return nil, err
	}
	switch {
	case errors.Is(runErr, context.Canceled):
		return res, &ScanError{Interrupted: true, Results: results, Done: res.Report.Counts.Judged, Of: res.Report.Counts.Attempts}
	case runErr != nil:
		return res, runErr
	case res.Failed > 0:
		return res, &ScanError{Results: results, Done: res.Failed, Of: todo}
	}
	return res, nil
}

// prepare makes the folder and deals with results already in it: it returns them
// (Resume), removes them (Overwrite) or refuses.
func (c *ScanConfig) prepare(results string) ([]*Attempt, error) {
	if c.Resume && c.Overwrite {
		return nil, errors.New("resuming and overwriting a scan exclude each other")
	}
	if err := os.MkdirAll(c.Dir, 0o755); err != nil {
		return nil, err
	}
	if _, err := os.Stat(results); err != nil {
		return nil, c.writeSetup()
	}
	switch {
	case c.Resume:
		if err := c.checkSetup(); err != nil {
			return nil, err
		}
		if err := jsonl.TrimTorn(results); err != nil {
			return nil, err
		}
		prev, err := ReadAttempts(results)
		if err != nil {
			return nil, err
		}
		return prev, c.writeSetup()
	case c.Overwrite:
		if err := os.Remove(results); err != nil {
			return nil, err
		}
		return nil, c.writeSetup()
	}
	return nil, fmt.Errorf("%s %w", results, ErrExists)
}

// checkSetup refuses to resume a scan whose folder records another Setup. A folder
// without one (written before scans recorded it) is taken as it is.
func (c *ScanConfig) checkSetup() error {
	if c.Setup == (Setup{}) {
		return nil
	}
	path := filepath.Join(c.Dir, rundir.ScanFile)
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	} else if err != nil {
		return err
	}
	var was Setup
	if err := json.Unmarshal(b, &was); err != nil {
		return fmt.Errorf("%s: %v", path, err)
	}
	if d := c.Setup.differences(was); len(d) > 0 {
		return fmt.Errorf("the scan in %s is of %w: %s; resuming would mix them in one report: keep its settings, --overwrite it, or choose another --out",
			c.Dir, ErrOtherSetup, strings.Join(d, ", "))
	}
	return nil
}

// writeSetup records the scan's Setup in its folder.
func (c *ScanConfig) writeSetup() error {
	if c.Setup == (Setup{}) {
		return nil
	}
	return jsonl.WriteJSON(filepath.Join(c.Dir, rundir.ScanFile), c.Setup)
}

// progress reports the start and serializes OnDone.
func (c *ScanConfig) progress(todo int) func(int) {
	if c.OnStart != nil {
		c.OnStart(todo)
	}
	if c.OnDone == nil {
		return nil
	}
	var mu sync.Mutex
	return func(n int) {
		mu.Lock()
		defer mu.Unlock()
		c.OnDone(n)
	}
}

// merge replaces each attempt a resumed scan already has by its logged state. It returns
// the attempts, those new to the log, and how many are unfinished.
func merge(attempts, previous []*Attempt) (all, fresh []*Attempt, todo int) {
	have := make(map[string]*Attempt, len(previous))
	for _, a := range previous {
		have[a.ID] = a
	}
	for i, a := range attempts {
		if old, ok := have[a.ID]; ok {
			attempts[i] = old
		} else {
			fresh = append(fresh, a)
		}
		if attempts[i].Status != StatusJudged {
			todo++
		}
	}
	return attempts, fresh, todo
}

// WriteReport reads dir's results.jsonl and writes its report.json and report.md, with
// model as the report's label and, when baseline (another scan's results.jsonl) is set,
// win rates against it.
func WriteReport(dir, model, baseline string) (*Report, error) {
	results := filepath.Join(dir, rundir.ResultsFile)
	attempts, err := ReadAttempts(results)
	if err != nil {
		return nil, err
	}
	rep := NewReport(attempts)
	rep.Model = model
	if baseline != "" {
		base, err := ReadAttempts(baseline)
		if err != nil {
			return nil, err
		}
		rep.WinRates = Compare(results, attempts, baseline, base)
	}
	if err := jsonl.WriteJSON(filepath.Join(dir, rundir.ReportFile), rep); err != nil {
		return nil, err
	}
	return rep, jsonl.WriteBytes(filepath.Join(dir, rundir.ReportMarkdown), []byte(rep.Markdown()))
}
