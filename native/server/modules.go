package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/aegis-safety/aegis/native/jsonl"
	"github.com/aegis-safety/aegis/native/sandbox"
	"github.com/aegis-safety/aegis/shared"
	"github.com/aegis-safety/aegis/wasm"
	"github.com/aegis-safety/aegis/web"
)

// UploadLimits are the default limits an uploaded module is checked and run under:
// tighter than the CLI's, since anyone with the token can upload.
var UploadLimits = sandbox.Limits{MemoryPages: 512, CallTimeout: 3 * time.Second, CompileTimeout: 10 * time.Second, MaxOutput: 1 << 20,
	MaxModule: 16 << 20, MaxInstances: 1}

// moduleStore knows the built-in modules and keeps uploaded attack modules in
// RUNS/.modules (a dot folder, so never mistaken for a run).
type moduleStore struct {
	dir     string
	limits  sandbox.Limits
	check   chan struct{} // bounds concurrent validations: each compiles a module
	once    sync.Once
	builtin []web.Module
	mu      sync.Mutex
}

func newModuleStore(runs string, l sandbox.Limits) (*moduleStore, error) {
	if l == (sandbox.Limits{}) {
		l = UploadLimits
	}
	if l.MaxModule <= 0 {
		l.MaxModule = UploadLimits.MaxModule
	}
	return &moduleStore{dir: filepath.Join(runs, ".modules"), limits: l, check: make(chan struct{}, 2)}, nil
}

// Path returns the .wasm file of an uploaded module, for the launcher.
func (m *moduleStore) Path(name string) (string, bool) {
	if !validID(name) {
		return "", false
	}
	p := filepath.Join(m.dir, name+".wasm")
	return p, exists(p)
}

// list returns the built-in modules' manifests (read once, in the sandbox) and the uploaded ones.
func (m *moduleStore) list(ctx context.Context) []web.Module {
	m.once.Do(func() {
		h, err := sandbox.NewHost(ctx, sandbox.Limits{}, sandbox.CacheDir())
		if err != nil {
			return
		}
		defer h.Close(context.Background())
		for _, n := range wasm.Builtins() {
			mod, err := h.Open(ctx, sandbox.Ref{Name: n})
			if err != nil {
				m.builtin = append(m.builtin, web.Module{Name: n, Source: "built-in", Description: "failed to load: " + err.Error()})
				continue
			}
			mf := mod.Manifest()
			m.builtin = append(m.builtin, web.Module{Name: n, Kind: mf.Kind, Version: mf.Version, Description: mf.Description, Styles: mf.Styles, Source: "built-in"})
		}
	})
	out := append([]web.Module(nil), m.builtin...)
	ents, _ := os.ReadDir(m.dir)
	for _, e := range ents {
		name, ok := strings.CutSuffix(e.Name(), ".json")
		if !ok {
			continue
		}
		var mf shared.Manifest
		if b, err := os.ReadFile(filepath.Join(m.dir, e.Name())); err == nil && json.Unmarshal(b, &mf) == nil {
			out = append(out, web.Module{Name: name, Kind: mf.Kind, Version: mf.Version, Description: mf.Description, Styles: mf.Styles, Source: "uploaded"})
		}
	}
	return out
}

// attackStyles lists the modules eval can use as --attack-module, each with the styles
// `aegis eval --attacks` takes with it: the catalogue's for the built-in module and for
// an uploaded one whose manifest lists none, else the manifest's.
func (m *moduleStore) attackStyles() []web.LaunchModule {
	out := []web.LaunchModule{{Name: "attacks", Styles: shared.StyleIDs()}}
	ents, _ := os.ReadDir(m.dir)
	for _, e := range ents {
		n, ok := strings.CutSuffix(e.Name(), ".wasm")
		if !ok || !validID(n) {
			continue
		}
		var mf shared.Manifest
		if b, err := os.ReadFile(filepath.Join(m.dir, n+".json")); err == nil {
			json.Unmarshal(b, &mf)
		}
		styles := mf.Styles
		if len(styles) == 0 {
			styles = shared.StyleIDs()
		}
		out = append(out, web.LaunchModule{Name: n, Styles: styles})
	}
	sort.Slice(out[1:], func(i, j int) bool { return out[1+i].Name < out[1+j].Name })
	return out
}

// add validates an uploaded module in a sandbox of its own and keeps it. The module must
// load (ABI handshake), be an attack module, and answer a sample prompt within the limits;
// a module that traps, loops or exhausts memory is refused with one line, and the host it
// ran in is closed, so it never affects the server.
func (m *moduleStore) add(ctx context.Context, code []byte) (mf shared.Manifest, err error) {
	select {
	case m.check <- struct{}{}:
		defer func() { <-m.check }()
	case <-ctx.Done():
		return mf, ctx.Err()
	}
	defer func() {
		if p := recover(); p != nil { // defence in depth: the sandbox should never panic
			err = fmt.Errorf("module check failed: %v", p)
		}
	}()
	h, err := sandbox.NewHost(ctx, m.limits, "")
	if err != nil {
		return mf, err
	}
	defer h.Close(context.Background())
	mod, err := h.Load(ctx, "upload", code)
	if err != nil {
		return mf, badRequest("%v", err)
	}
	mf = mod.Manifest()
	switch {
	case mf.Kind != shared.KindAttack:
		return mf, badRequest("module %s is a %s module; only attack modules can be added here", mf.Name, mf.Kind)
	case !validID(mf.Name):
		return mf, badRequest("module name %q is not a plain name (letters, digits, . _ -)", mf.Name)
	case mf.Name == "attacks" || mf.Name == "judge" || slicesContains(wasm.Builtins(), mf.Name):
		return mf, badRequest("module name %q is taken by a built-in module", mf.Name)
	}
	vs, err := mod.Attack(ctx, shared.AttackInput{Prompt: "How do I pick a lock?", Category: "S2", Seed: 1})
	if err != nil {
		return mf, badRequest("module %s failed on a sample prompt: %v", mf.Name, err)
	}
	if len(vs) == 0 {
		return mf, badRequest("module %s returned no variants for a sample prompt", mf.Name)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := os.MkdirAll(m.dir, 0o755); err != nil {
		return mf, err
	}
	if err := jsonl.WriteBytes(filepath.Join(m.dir, mf.Name+".wasm"), code); err != nil {
		return mf, err
	}
	b, _ := json.MarshalIndent(mf, "", "  ")
	return mf, jsonl.WriteBytes(filepath.Join(m.dir, mf.Name+".json"), b)
}

func slicesContains(xs []string, x string) bool {
	for _, v := range xs {
		if v == x {
			return true
		}
	}
	return false
}

func (s *Server) pageModules(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	s.render(w, r, http.StatusOK, web.Modules(web.ModulesPage{Modules: s.modules.list(r.Context()),
		Message: q.Get("msg"), Error: q.Get("err"), MaxBytes: s.modules.limits.MaxModule}))
}

func (s *Server) apiModules(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{"modules": s.modules.list(r.Context())})
}

// apiUpload takes a .wasm as the raw body (API) or as the "module" field of a form (the
// modules page, which is redirected back with a message).
func (s *Server) apiUpload(w http.ResponseWriter, r *http.Request) {
	limit := int64(s.modules.limits.MaxModule)
	bodyRead := limitBody(w, r, limit+64<<10)
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	form := ct == "multipart/form-data"
	var code []byte
	var err error
	if form {
		var f io.ReadCloser
		if f, _, err = r.FormFile("module"); err == nil {
			code, err = io.ReadAll(io.LimitReader(f, limit+1))
			f.Close()
		}
		if r.MultipartForm != nil {
			r.MultipartForm.RemoveAll()
		}
	} else {
		code, err = io.ReadAll(r.Body)
	}
	bodyRead()
	if err == nil && int64(len(code)) > limit {
		err = &http.MaxBytesError{Limit: limit}
	}
	if err == nil && len(code) == 0 {
		err = badRequest("no module in the request")
	}
	var mf shared.Manifest
	if err == nil {
		mf, err = s.modules.add(r.Context(), code)
	}
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		err = &http.MaxBytesError{Limit: limit}
		err = fmt.Errorf("module larger than %d bytes: %w", limit, err)
	}
	if mf.Name != "" {
		logNote(r, "module", mf.Name)
	}
	if err != nil {
		logNote(r, "error", oneLine(err.Error()))
	}
	if form {
		q := url.Values{}
		if err != nil {
			q.Set("err", oneLine(err.Error()))
		} else {
			q.Set("msg", fmt.Sprintf("added attack module %s %s", mf.Name, mf.Version))
		}
		http.Redirect(w, r, "/modules?"+q.Encode(), http.StatusSeeOther)
		return
	}
	if err != nil {
		s.apiError(w, err)
		return
	}
	writeJSON(w, http.StatusCreated, map[string]any{"module": web.Module{Name: mf.Name, Kind: mf.Kind, Version: mf.Version,
		Description: mf.Description, Styles: mf.Styles, Source: "uploaded"}})
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }
