package server

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/aegis-safety/aegis/native/rundir"
	"github.com/aegis-safety/aegis/native/train"
	"github.com/aegis-safety/aegis/web"
)

// Launcher starts runs for the launch form.
type Launcher interface {
	// Start runs `aegis ARGS...` for run id, whose folder is dir, and returns once it started.
	Start(id, dir string, args []string) error
	// Running reports whether the run id it started is still going.
	Running(id string) bool
	// Stop interrupts the run id it started, as Ctrl-C would (the run saves what it has
	// and exits); ErrNotLaunched when it did not start id or id has ended.
	Stop(id string) error
}

// ErrNotLaunched is Stop's error for a run this server is not running.
var ErrNotLaunched = errors.New("this server is not running that run (only runs started from its launch form can be stopped)")

// ProcessLauncher runs each run as a child process of the aegis binary Exe, with its
// output in RUN/aegis.log. A child process (rather than a goroutine) keeps a run's
// memory, crashes and Ctrl-C semantics exactly those of the CLI, and lets the server be
// restarted without killing a long training run's state: the run folder is the contract.
type ProcessLauncher struct {
	Exe      string
	mu       sync.Mutex
	run      map[string]*exec.Cmd
	stopping map[string]bool      // runs Stop has interrupted once
	ended    map[string]web.Ended // runs started here that exited, by id
}

// Start starts the child and reaps it in the background.
func (l *ProcessLauncher) Start(id, dir string, args []string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	// A new log: a folder reused after a failed launch starts over.
	logf, err := os.OpenFile(filepath.Join(dir, rundir.LogFile), os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	cmd := exec.Command(l.Exe, args...)
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		logf.Close()
		return err
	}
	l.mu.Lock()
	if l.run == nil {
		l.run = map[string]*exec.Cmd{}
	}
	l.run[id] = cmd
	delete(l.ended, id) // a name reused after a failed launch
	l.mu.Unlock()
	go func() {
		err := cmd.Wait()
		logf.Close()
		e := web.Ended{ID: id, Status: "exited normally"}
		if err != nil {
			e.Status = err.Error()
			e.Failed = true
		}
		e.LastLine = lastLine(filepath.Join(dir, rundir.LogFile))
		l.mu.Lock()
		delete(l.run, id)
		if l.stopping[id] {
			e.Status, e.Failed = "stopped from the page ("+e.Status+")", false
			delete(l.stopping, id)
		}
		if l.ended == nil {
			l.ended = map[string]web.Ended{}
		}
		l.ended[id] = e
		l.mu.Unlock()
	}()
	return nil
}

// lastLine is the last non-empty line of a log (its last 4 KiB), for the launch page.
func lastLine(path string) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return ""
	}
	off := max(0, st.Size()-4<<10)
	buf := make([]byte, st.Size()-off)
	n, _ := f.ReadAt(buf, off)
	lines := strings.Split(strings.ReplaceAll(string(buf[:n]), "\r", "\n"), "\n")
	for i := len(lines) - 1; i >= 0; i-- {
		if l := strings.TrimSpace(lines[i]); l != "" {
			return l
		}
	}
	return ""
}

// Running reports whether the child of run id is alive.
func (l *ProcessLauncher) Running(id string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	_, ok := l.run[id]
	return ok
}

// Stop sends the run's process an interrupt (Ctrl-C: a training run checkpoints, a scan
// writes its report, then each exits); a second Stop of the same run kills it.
func (l *ProcessLauncher) Stop(id string) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	cmd, ok := l.run[id]
	if !ok {
		return ErrNotLaunched
	}
	if l.stopping[id] {
		return cmd.Process.Kill()
	}
	if l.stopping == nil {
		l.stopping = map[string]bool{}
	}
	l.stopping[id] = true
	if err := cmd.Process.Signal(os.Interrupt); err != nil {
		return cmd.Process.Kill() // no interrupts on this system
	}
	return nil
}

// Ended reports whether the run id was started here and has exited.
func (l *ProcessLauncher) Ended(id string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	_, ok := l.ended[id]
	return ok
}

// forget drops an ended run from the launch page's list (its folder was deleted).
func (l *ProcessLauncher) forget(id string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.ended, id)
}

// list returns the runs started here that are still going, and those that ended.
func (l *ProcessLauncher) list() (running []string, ended []web.Ended) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for id := range l.run {
		running = append(running, id)
	}
	for _, e := range l.ended {
		ended = append(ended, e)
	}
	sort.Strings(running)
	sort.Slice(ended, func(i, j int) bool { return ended[i].ID < ended[j].ID })
	return running, ended
}

func (s *Server) pageLaunch(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	var methods []string
	for _, m := range train.Methods(true) {
		methods = append(methods, m.Name)
	}
	p := web.LaunchPage{Methods: methods, Modules: s.modules.attackStyles(), Data: s.data(),
		TrainParams: params(trainParams), EvalParams: params(evalParams), Message: q.Get("msg"), Error: q.Get("err")}
	for _, m := range s.models() {
		c := web.Choice{Key: m.Key, Label: m.Label}
		if m.Adapter == "" {
			p.Models = append(p.Models, c)
		}
		p.EvalModels = append(p.EvalModels, c)
	}
	if s.opt.Launch == nil {
		p.Error = "launching is disabled on this server"
	}
	if pl, ok := s.opt.Launch.(*ProcessLauncher); ok {
		p.Running, p.Ended = pl.list()
	}
	s.render(w, r, http.StatusOK, web.Launch(p))
}

// launchParam is a setting of the launch form and the flag it becomes.
type launchParam struct {
	form, flag, label, kind, def, hint string
	choices                            []string
}

// trainParams are the main hyperparameters of a training run, with `aegis train`'s
// defaults (train.DefaultConfig), except the steps: a run started from the browser is
// bounded by steps rather than epochs.
var trainParams = func() []launchParam {
	d := train.DefaultConfig()
	return []launchParam{
		{"steps", "--steps", "steps", "int", "100", "optimizer steps; 0: epochs", nil},
		{"epochs", "--epochs", "epochs", "int", strconv.Itoa(d.Epochs), "passes over the data when steps is 0", nil},
		{"lr", "--lr", "learning rate", "float", flagFloat(d.LR), "", nil},
		{"lr_scheduler", "--lr-scheduler", "schedule", "choice", d.Schedule, "", []string{"linear", "cosine", "constant"}},
		{"warmup_steps", "--warmup-steps", "warmup steps", "int", strconv.Itoa(d.Warmup), "", nil},
		{"batch_size", "--batch-size", "batch size", "int", strconv.Itoa(d.BatchSize), "", nil},
		{"grad_accum", "--grad-accum", "gradient accumulation", "int", strconv.Itoa(d.GradAccum), "micro-batches per step", nil},
		{"beta", "--beta", "beta", "float", flagFloat(d.Beta), "dpo and ipo", nil},
		{"lora_rank", "--lora-rank", "LoRA rank", "int", strconv.Itoa(d.LoRARank), "", nil},
		{"full", "--full", "full fine-tuning", "bool", "", "every weight instead of a LoRA adapter", nil},
		{"seed", "--seed", "seed", "int", strconv.FormatUint(d.Seed, 10), "", nil},
		{"save_steps", "--save-steps", "checkpoint every", "int", strconv.Itoa(d.SaveSteps), "steps", nil},
	}
}()

// evalParams are the main settings of a scan, with `aegis eval`'s defaults.
var evalParams = []launchParam{
	{"limit", "--limit", "limit", "int", "0", "first N prompts; 0: all", nil},
	{"max_new_tokens", "--max-new-tokens", "max new tokens", "int", "256", "", nil},
	{"temperature", "--temperature", "temperature", "float", "0", "0: greedy", nil},
	{"batch_size", "--batch-size", "batch size", "int", "8", "prompts decoded together", nil},
	{"seed", "--seed", "seed", "int", "0", "sampling and the attack module", nil},
}

func params(ps []launchParam) []web.Param {
	out := make([]web.Param, len(ps))
	for i, p := range ps {
		out[i] = web.Param{Name: p.form, Label: p.label, Kind: p.kind, Value: p.def, Hint: p.hint, Choices: p.choices}
	}
	return out
}

// paramArgs turns the form's values of ps into flags: every number (its default when
// left empty), the choices, and the checked boxes.
func paramArgs(form url.Values, ps []launchParam) ([]string, error) {
	var args []string
	for _, p := range ps {
		v := strings.TrimSpace(form.Get(p.form))
		switch p.kind {
		case "bool":
			if v != "" && v != "0" && v != "false" {
				args = append(args, p.flag)
			}
			continue
		case "int":
			if v == "" {
				v = p.def
			}
			if n, err := strconv.ParseUint(v, 10, 63); err != nil {
				return nil, badRequest("%s: %q is not a count", p.label, v)
			} else {
				v = strconv.FormatUint(n, 10)
			}
		case "float":
			if v == "" {
				v = p.def
			}
			f, err := strconv.ParseFloat(v, 64)
			if err != nil || math.IsNaN(f) || math.IsInf(f, 0) || f < 0 {
				return nil, badRequest("%s: %q is not a number >= 0", p.label, v)
			}
			v = flagFloat(f)
		case "choice":
			if v == "" {
				v = p.def
			}
			if !slices.Contains(p.choices, v) {
				return nil, badRequest("%s: %q is not one of %s", p.label, v, strings.Join(p.choices, ", "))
			}
		}
		args = append(args, p.flag, v)
	}
	return args, nil
}

// LaunchArgs turns the launch form into the CLI arguments of the run (exported for tests
// and for the documentation of what the form does). The model and the data are keys of
// the lists the form offers (see models and data), never paths.
func (s *Server) LaunchArgs(form url.Values) (id string, args []string, err error) {
	id = form.Get("id")
	if !validID(id) {
		return "", nil, badRequest("run name %q: use letters, digits, '.', '_' and '-'", id)
	}
	out := filepath.Join(s.runs.dir, id)
	if exists(out) && !s.reusable(id) {
		return "", nil, badRequest("run %s exists already", id)
	}
	need := func(keys ...string) error {
		for _, k := range keys {
			if form.Get(k) == "" {
				return badRequest("%s is required", k)
			}
		}
		return nil
	}
	model := func(evalToo bool) ([]string, error) {
		m, ok := s.model(form.Get("model"))
		if !ok || (m.Adapter != "" && !evalToo) {
			return nil, badRequest("model %q: choose one of the models the form lists", form.Get("model"))
		}
		if m.Adapter != "" {
			return []string{"--model", m.Dir, "--adapter", m.Adapter}, nil
		}
		return []string{"--model", m.Dir}, nil
	}
	data := func(key string) (string, error) {
		p := s.dataPath(form.Get(key))
		if p == "" {
			return "", badRequest("%s %q: choose one of the files the form lists", key, form.Get(key))
		}
		return p, nil
	}
	switch form.Get("kind") {
	case "train":
		if err := need("method", "model", "data"); err != nil {
			return "", nil, err
		}
		method := form.Get("method")
		if m, ok := train.Lookup(method); !ok || !slices.ContainsFunc(train.Methods(true), func(x train.Method) bool { return x.Name == m.Name }) {
			return "", nil, badRequest("method %q: want %s", method, train.MethodNames(true))
		}
		margs, err := model(false)
		if err != nil {
			return "", nil, err
		}
		d, err := data("data")
		if err != nil {
			return "", nil, err
		}
		ps, err := paramArgs(form, trainParams)
		if err != nil {
			return "", nil, err
		}
		args = append(append(append([]string{"train", "--method", method}, margs...), "--data", d), ps...)
		args = append(args, "--out", out)
	case "eval":
		if err := need("model", "prompts"); err != nil {
			return "", nil, err
		}
		margs, err := model(true)
		if err != nil {
			return "", nil, err
		}
		prompts, err := data("prompts")
		if err != nil {
			return "", nil, err
		}
		mod := form.Get("attack_module")
		if mod == "" {
			mod = "attacks"
		}
		var styles []string
		for _, m := range s.modules.attackStyles() {
			if m.Name == mod {
				styles = m.Styles
			}
		}
		if styles == nil {
			return "", nil, badRequest("unknown attack module %q", mod)
		}
		attacks, err := checkAttacks(form.Get("attacks"), mod, styles)
		if err != nil {
			return "", nil, err
		}
		if p, ok := s.modules.Path(mod); ok {
			mod = p
		}
		ps, err := paramArgs(form, evalParams)
		if err != nil {
			return "", nil, err
		}
		args = append(append(append([]string{"eval"}, margs...), "--prompts", prompts, "--attacks", attacks, "--attack-module", mod), ps...)
		args = append(args, "--out", out)
	default:
		return "", nil, badRequest("kind must be train or eval")
	}
	return id, args, nil
}

// checkAttacks reads the form's attack styles: none (the default), all, or styles of the
// attack module, as `aegis eval --attacks` takes them.
func checkAttacks(v, module string, styles []string) (string, error) {
	v = strings.TrimSpace(v)
	if v == "" || v == "none" || v == "all" {
		return cmp.Or(v, "none"), nil
	}
	var list []string
	for _, st := range strings.Split(v, ",") {
		st = strings.TrimSpace(st)
		if st == "" {
			continue
		}
		if !slices.Contains(styles, st) {
			return "", badRequest("attack style %q: module %s has %s", st, module, strings.Join(styles, ", "))
		}
		list = append(list, st)
	}
	if len(list) == 0 {
		return "none", nil
	}
	return strings.Join(list, ","), nil
}

// reusable reports whether an existing folder may take a new launch of the same name: a
// launch that failed before its run wrote anything leaves a folder that is no run (only
// RUN/aegis.log), and nothing runs in it.
func (s *Server) reusable(id string) bool {
	dir := filepath.Join(s.runs.dir, id)
	if _, err := s.runs.get(id, false); !errors.Is(err, errNoRun) {
		return false
	}
	if alive, _ := rundir.Alive(dir); alive || s.opt.Launch != nil && s.opt.Launch.Running(id) {
		return false
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		return false
	}
	for _, e := range ents {
		if n := e.Name(); n != rundir.LogFile && n != rundir.LockFile {
			return false
		}
	}
	return true
}

// flagFloat formats a flag value as people write it: Go's shortest form without a
// zero-padded exponent (5e-5, not 5e-05).
func flagFloat(v float64) string {
	f := strconv.FormatFloat(v, 'g', -1, 64)
	f = strings.Replace(f, "e-0", "e-", 1)
	return strings.Replace(f, "e+0", "e+", 1)
}

func (s *Server) apiLaunch(w http.ResponseWriter, r *http.Request) {
	bodyRead := limitBody(w, r, 64<<10)
	back := func(key, msg string) {
		http.Redirect(w, r, "/launch?"+url.Values{key: {msg}}.Encode(), http.StatusSeeOther)
	}
	if s.opt.Launch == nil {
		back("err", "launching is disabled on this server")
		return
	}
	err := r.ParseForm()
	bodyRead()
	if err != nil {
		back("err", "bad form: "+err.Error())
		return
	}
	id, args, err := s.LaunchArgs(r.PostForm)
	if err == nil {
		err = s.opt.Launch.Start(id, filepath.Join(s.runs.dir, id), args)
	}
	if id != "" {
		logNote(r, "run", id)
	} else if f := r.PostForm.Get("id"); f != "" {
		logNote(r, "run", f)
	}
	if err != nil {
		logNote(r, "error", oneLine(err.Error()))
		back("err", oneLine(err.Error()))
		return
	}
	logNote(r, "kind", args[0])
	back("msg", fmt.Sprintf("started %s (aegis %s); it appears in the runs list once it writes its first files", id, args[0]))
}
