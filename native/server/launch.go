package server

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
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
	logf, err := os.OpenFile(filepath.Join(dir, rundir.LogFile), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
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
	p := web.LaunchPage{Methods: methods, Modules: s.modules.attackModules(), Message: q.Get("msg"), Error: q.Get("err")}
	if s.opt.Launch == nil {
		p.Error = "launching is disabled on this server"
	}
	if pl, ok := s.opt.Launch.(*ProcessLauncher); ok {
		p.Running, p.Ended = pl.list()
	}
	s.render(w, r, http.StatusOK, web.Launch(p))
}

// LaunchArgs turns the launch form into the CLI arguments of the run (exported for tests
// and for the documentation of what the form does).
func (s *Server) LaunchArgs(form url.Values) (id string, args []string, err error) {
	id = form.Get("id")
	if !validID(id) {
		return "", nil, badRequest("run name %q: use letters, digits, '.', '_' and '-'", id)
	}
	out := filepath.Join(s.runs.dir, id)
	if exists(out) {
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
	// The form's defaults are aegis train's (train.DefaultConfig), except the steps: a run
	// started from the browser is bounded by steps rather than epochs.
	def := train.DefaultConfig()
	num := func(k string, def int) (string, error) {
		v := form.Get(k)
		if v == "" {
			return strconv.Itoa(def), nil
		}
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return "", badRequest("%s: %q is not a count", k, v)
		}
		return strconv.Itoa(n), nil
	}
	switch form.Get("kind") {
	case "train":
		if err := need("method", "model", "data"); err != nil {
			return "", nil, err
		}
		steps, err := num("steps", 100)
		if err != nil {
			return "", nil, err
		}
		bs, err := num("batch_size", def.BatchSize)
		if err != nil {
			return "", nil, err
		}
		lr := form.Get("lr")
		if lr == "" {
			lr = flagFloat(def.LR)
		}
		if _, err := strconv.ParseFloat(lr, 64); err != nil {
			return "", nil, badRequest("lr: %q is not a number", lr)
		}
		args = []string{"train", "--method", form.Get("method"), "--model", form.Get("model"), "--data", form.Get("data"),
			"--steps", steps, "--lr", lr, "--batch-size", bs, "--out", out}
	case "eval":
		if err := need("model", "prompts"); err != nil {
			return "", nil, err
		}
		limit, err := num("limit", 0)
		if err != nil {
			return "", nil, err
		}
		attacks := form.Get("attacks")
		if attacks == "" {
			attacks = "none"
		}
		mod := form.Get("attack_module")
		if mod == "" {
			mod = "attacks"
		}
		if p, ok := s.modules.Path(mod); ok {
			mod = p
		} else if mod != "attacks" {
			return "", nil, badRequest("unknown attack module %q", mod)
		}
		args = []string{"eval", "--model", form.Get("model"), "--prompts", form.Get("prompts"), "--attacks", attacks,
			"--attack-module", mod, "--limit", limit, "--out", out}
	default:
		return "", nil, badRequest("kind must be train or eval")
	}
	return id, args, nil
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
