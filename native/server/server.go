package server

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/a-h/templ"
	"github.com/gorilla/websocket"

	"github.com/aegis-safety/aegis/native/sandbox"
)

// Options configures a Server.
type Options struct {
	RunsDir string
	// Token, when set, is required on every page, API, websocket and upload request
	// (Authorization: Bearer T, ?token=T, or the cookie ?token= sets). Without a token the
	// server answers only requests addressed to a loopback host name.
	Token string
	// Chat is the model behind /v1; nil answers 503 there.
	Chat *ChatModel
	// CORSOrigin, when set, is a browser origin ("https://app.example:8443", as CheckOrigin
	// reads it) allowed to call /v1 from its pages: preflights are answered and /v1
	// answers carry Access-Control-Allow-Origin for it. Other origins get no CORS headers,
	// and the rest of the server never answers another origin.
	CORSOrigin string
	// Launch starts a run (the launch form); nil disables the form.
	Launch Launcher
	// Models are model folders the launch form offers by name (the embedded model, the
	// model /v1 serves); it also offers the model folders in ModelsDir and the finished
	// training runs' results. DataDir holds the JSONL files it offers (two levels deep),
	// besides the runs' pairs.jsonl. The form sends names, never paths.
	Models             []NamedDir
	ModelsDir, DataDir string
	// ModuleLimits bound uploaded modules when they are checked and run.
	ModuleLimits sandbox.Limits
	// MaxBody bounds JSON request bodies (default 1 MiB).
	MaxBody int64
	// Stale is how long after its last write an unfinished run counts as running (default 2 minutes).
	Stale time.Duration
	Log   *log.Logger
	// AccessLog, when set, gets one line per request (see accesslog.go): `aegis serve`
	// writes it to stderr or to --access-log FILE.
	AccessLog io.Writer
}

// Server is the monitor's HTTP handler.
type Server struct {
	opt      Options
	runs     *store
	mux      *http.ServeMux
	upgrader websocket.Upgrader
	modules  *moduleStore
	done     chan struct{}
	streams  atomic.Int64 // open websocket streams
	stopOnce sync.Once
	access   *accessLog // nil: no access log
}

// New returns a server over opt.RunsDir.
func New(opt Options) (*Server, error) {
	if opt.RunsDir == "" {
		return nil, errors.New("server: no runs folder")
	}
	if err := os.MkdirAll(opt.RunsDir, 0o755); err != nil {
		return nil, err
	}
	if opt.MaxBody <= 0 {
		opt.MaxBody = 1 << 20
	}
	if opt.Stale <= 0 {
		opt.Stale = 2 * time.Minute
	}
	if opt.Log == nil {
		opt.Log = log.New(os.Stderr, "serve: ", log.LstdFlags)
	}
	if opt.CORSOrigin != "" {
		o, err := CheckOrigin(opt.CORSOrigin)
		if err != nil {
			return nil, err
		}
		opt.CORSOrigin = o
	}
	s := &Server{opt: opt, mux: http.NewServeMux(), done: make(chan struct{})}
	if opt.AccessLog != nil {
		s.access = &accessLog{w: opt.AccessLog}
	}
	s.runs = &store{dir: opt.RunsDir, stale: opt.Stale}
	if opt.Launch != nil {
		s.runs.active = opt.Launch.Running
		if e, ok := opt.Launch.(interface{ Ended(id string) bool }); ok {
			s.runs.ended = e.Ended
		}
	}
	s.upgrader = websocket.Upgrader{ReadBufferSize: 1 << 10, WriteBufferSize: 16 << 10, CheckOrigin: sameOrigin}
	var err error
	if s.modules, err = newModuleStore(opt.RunsDir, opt.ModuleLimits); err != nil {
		return nil, err
	}
	s.routes()
	return s, nil
}

// Close ends websocket streams; the caller shuts the http.Server down.
func (s *Server) Close() { s.stopOnce.Do(func() { close(s.done) }) }

func (s *Server) routes() {
	m := s.mux
	m.Handle("GET /static/", http.HandlerFunc(s.handleStatic))
	m.HandleFunc("GET /favicon.ico", s.handleFavicon)
	m.HandleFunc("GET /{$}", s.pageRuns)
	m.HandleFunc("GET /runs/{id}", s.pageRun)
	m.HandleFunc("GET /compare", s.pageCompare)
	m.HandleFunc("GET /modules", s.pageModules)
	m.HandleFunc("GET /launch", s.pageLaunch)
	m.HandleFunc("GET /offline", s.pageOffline)

	m.HandleFunc("GET /api/runs", s.apiRuns)
	m.HandleFunc("GET /api/runs/{id}", s.apiRun)
	m.HandleFunc("GET /api/runs/{id}/events", s.apiEvents)
	m.HandleFunc("POST /api/runs/{id}/stop", s.apiStop)
	m.HandleFunc("POST /api/runs/{id}/delete", s.apiDelete)
	m.HandleFunc("DELETE /api/runs/{id}", s.apiDelete)
	m.HandleFunc("GET /api/modules", s.apiModules)
	m.HandleFunc("POST /api/modules", s.apiUpload)
	m.HandleFunc("POST /api/launch", s.apiLaunch)
	m.HandleFunc("GET /ws/runs/{id}", s.handleWS)

	m.HandleFunc("GET /v1/models", s.apiModels)
	m.HandleFunc("GET /v1/models/{model...}", s.apiModel)
	m.HandleFunc("POST /v1/chat/completions", s.apiChat)
	m.HandleFunc("POST /v1/completions", s.apiCompletions)
	m.HandleFunc("/v1/", s.v1Fallback) // every other /v1 request: a JSON 404 or 405
	m.HandleFunc("/v1", s.v1Fallback)
}

// ServeHTTP checks the request's host, token and origin, then routes it. Under /v1 every
// refusal is an OpenAI error object. Every request, refused or not, goes to the access log.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.withAccessLog(w, r, s.serve)
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("X-Frame-Options", "DENY")
	v1 := isV1(r.URL.Path)
	refuse := func(code int, typ, errCode, msg string) {
		if v1 {
			apiErr(code, typ, "", errCode, msg).write(w)
		} else {
			http.Error(w, msg, code)
		}
	}
	cors := v1 && s.corsAllowed(r)
	if cors {
		s.corsHeaders(w)
	}
	if s.opt.Token == "" {
		// Without a token the server is for this machine only. Checking Host also stops
		// DNS rebinding: a web page cannot make the browser call us under its own name.
		if !loopbackHost(r.Host) {
			refuse(http.StatusForbidden, "invalid_request_error", "forbidden", "this server answers only on a loopback address (start it with --token to allow others)")
			return
		}
	}
	if cors && r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != "" {
		s.preflight(w, r) // a preflight carries no credentials
		return
	}
	if s.opt.Token != "" && !strings.HasPrefix(r.URL.Path, "/static/") && r.URL.Path != "/favicon.ico" {
		if !s.authorized(w, r) {
			w.Header().Set("WWW-Authenticate", `Bearer realm="aegis"`)
			refuse(http.StatusUnauthorized, "invalid_request_error", "invalid_api_key", "missing or wrong token: send Authorization: Bearer TOKEN or ?token=TOKEN")
			return
		}
	}
	// A state-changing request from another site's page (CSRF) carries that site's Origin.
	if r.Method != http.MethodGet && r.Method != http.MethodHead && !sameOrigin(r) && !cors {
		refuse(http.StatusForbidden, "invalid_request_error", "forbidden", "cross-origin request refused")
		return
	}
	s.mux.ServeHTTP(w, r)
}

// isV1 reports whether path is under the OpenAI-compatible API.
func isV1(path string) bool { return path == "/v1" || strings.HasPrefix(path, "/v1/") }

// v1Methods is the method a /v1 path answers ("" for a path it does not know).
func v1Methods(path string) string {
	switch {
	case path == "/v1/models" || strings.HasPrefix(path, "/v1/models/"):
		return "GET, HEAD"
	case path == "/v1/chat/completions" || path == "/v1/completions":
		return "POST"
	}
	return ""
}

// v1Fallback answers the /v1 requests no route takes, as OpenAI does: 405 for a known
// path with another method, else 404.
func (s *Server) v1Fallback(w http.ResponseWriter, r *http.Request) {
	if m := v1Methods(r.URL.Path); m != "" {
		w.Header().Set("Allow", m)
		apiErr(http.StatusMethodNotAllowed, "invalid_request_error", "", "method_not_allowed",
			fmt.Sprintf("Invalid method for URL (%s %s): use %s.", r.Method, r.URL.Path, strings.ReplaceAll(m, ", ", " or "))).write(w)
		return
	}
	apiErr(http.StatusNotFound, "invalid_request_error", "", "unknown_url",
		fmt.Sprintf("Invalid URL (%s %s): this server answers GET /v1/models, GET /v1/models/{model}, POST /v1/chat/completions and POST /v1/completions.", r.Method, r.URL.Path)).write(w)
}

const tokenCookie = "aegis_token"

// authorized checks the token in the Authorization header, the query or the cookie; a
// correct ?token= sets the cookie so the pages' own requests carry it.
func (s *Server) authorized(w http.ResponseWriter, r *http.Request) bool {
	want := []byte(s.opt.Token)
	eq := func(got string) bool { return got != "" && subtle.ConstantTimeCompare([]byte(got), want) == 1 }
	if h, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok && eq(strings.TrimSpace(h)) {
		return true
	}
	if q := r.URL.Query().Get("token"); eq(q) {
		http.SetCookie(w, &http.Cookie{Name: tokenCookie, Value: q, Path: "/", HttpOnly: true, SameSite: http.SameSiteStrictMode})
		return true
	}
	if c, err := r.Cookie(tokenCookie); err == nil && eq(c.Value) {
		return true
	}
	return false
}

// sameOrigin accepts requests without an Origin (non-browser clients) and those whose
// Origin names the host they were sent to.
func sameOrigin(r *http.Request) bool {
	o := r.Header.Get("Origin")
	if o == "" {
		return true
	}
	u, err := url.Parse(o)
	return err == nil && strings.EqualFold(u.Host, r.Host)
}

func loopbackHost(hostport string) bool {
	h := hostport
	if hh, _, err := net.SplitHostPort(hostport); err == nil {
		h = hh
	}
	h = strings.Trim(h, "[]")
	if strings.EqualFold(h, "localhost") {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}

// IsLoopbackAddr reports whether a listen address binds only the loopback interface.
func IsLoopbackAddr(addr string) bool {
	h, _, err := net.SplitHostPort(addr)
	if err != nil || h == "" {
		return false // ":8080" binds every interface
	}
	return loopbackHost(h)
}

// apiError answers err as JSON {"error"} with a fitting status.
func (s *Server) apiError(w http.ResponseWriter, err error) {
	code := http.StatusInternalServerError
	var mbe *http.MaxBytesError
	switch {
	case errors.Is(err, errBadID):
		code = http.StatusBadRequest
	case errors.Is(err, errNoRun):
		code = http.StatusNotFound
	case errors.As(err, &mbe):
		code = http.StatusRequestEntityTooLarge
	case errors.As(err, new(*userError)):
		code = http.StatusBadRequest
	}
	writeJSON(w, code, map[string]string{"error": err.Error()})
}

// bodyWait bounds the time a request body may take to arrive, so a client trickling bytes
// cannot hold a handler (the http.Server has no ReadTimeout: websockets and streamed
// answers are long-lived).
var bodyWait = time.Minute

// limitBody bounds r's body to n bytes and to bodyWait; call the returned func once the
// body is read, to lift the deadline for the rest of the exchange.
func limitBody(w http.ResponseWriter, r *http.Request, n int64) (done func()) {
	r.Body = http.MaxBytesReader(w, r.Body, n)
	rc := http.NewResponseController(w)
	rc.SetReadDeadline(time.Now().Add(bodyWait))
	return func() { rc.SetReadDeadline(time.Time{}) }
}

// userError is a request the client got wrong (400).
type userError struct{ msg string }

func (e *userError) Error() string { return e.msg }

func badRequest(format string, a ...any) error { return &userError{fmt.Sprintf(format, a...)} }

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.Encode(v)
}

func (s *Server) render(w http.ResponseWriter, r *http.Request, code int, c templ.Component) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Security-Policy", "default-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; worker-src 'self'; script-src 'self' 'wasm-unsafe-eval'")
	w.WriteHeader(code)
	if err := c.Render(r.Context(), w); err != nil && !errors.Is(err, context.Canceled) {
		s.opt.Log.Printf("rendering %s: %v", r.URL.Path, err)
	}
}

// apiRuns lists the runs, filtered and ordered by the runs list's query (?q=&status=&kind=
// &sort=&order=; by default every run, newest first).
func (s *Server) apiRuns(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{"runs": nonNil(filterRuns(s.runs.list(), readRunsQuery(r.URL.Query())))})
}

func nonNil(rs []*Run) []*Run {
	if rs == nil {
		return []*Run{}
	}
	return rs
}

func (s *Server) apiRun(w http.ResponseWriter, r *http.Request) {
	run, err := s.runs.get(r.PathValue("id"), true)
	if err != nil {
		s.apiError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, run)
}

func (s *Server) apiEvents(w http.ResponseWriter, r *http.Request) {
	run, err := s.runs.get(r.PathValue("id"), false)
	if err != nil {
		s.apiError(w, err)
		return
	}
	from, err := fromStep(r)
	if err != nil {
		s.apiError(w, err)
		return
	}
	evs, err := readEvents(s.runs.dir+string(os.PathSeparator)+run.ID, run.Kind, from)
	if err != nil {
		s.apiError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"id": run.ID, "events": evs})
}

// fromStep reads ?from=STEP (default 0: everything).
func fromStep(r *http.Request) (int, error) {
	v := r.URL.Query().Get("from")
	if v == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		return 0, badRequest("from=%q is not a step", v)
	}
	return n, nil
}
