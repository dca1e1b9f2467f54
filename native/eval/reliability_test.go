package eval

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aegis-safety/aegis/native/rundir"
)

// TestClientUnreachable: a connection refused before the endpoint has ever answered is
// not retried (ErrUnreachable, at once); once it has answered, a refused connection is
// retried, as a server restarting would refuse it.
func TestClientUnreachable(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	c := &Client{Endpoint: "http://" + addr + "/v1", Model: "m", Retries: 3, Backoff: time.Second}
	start := time.Now()
	_, err = c.Complete(context.Background(), "hi")
	if !errors.Is(err, ErrUnreachable) || time.Since(start) > 500*time.Millisecond ||
		err.Error() != "endpoint http://"+addr+"/v1 is unreachable (dial tcp "+addr+": connect: connection refused)" {
		t.Fatalf("after %v: %v", time.Since(start), err)
	}

	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(`{"choices":[{"message":{"role":"assistant","content":"ok"}}]}`))
	}))
	c = &Client{Endpoint: srv.URL, Model: "m", Retries: 2, Backoff: time.Millisecond}
	if out, err := c.Complete(context.Background(), "hi"); err != nil || out != "ok" {
		t.Fatal(out, err)
	}
	srv.Close()
	_, err = c.Complete(context.Background(), "hi")
	if err == nil || errors.Is(err, ErrUnreachable) || !strings.Contains(err.Error(), "try 3/3") {
		t.Fatalf("after the server went away: %v", err)
	}
}

// unreachableGen fails every prompt as an unreachable endpoint does.
type unreachableGen struct{ calls int }

func (g *unreachableGen) Generate(_ context.Context, ps []string) ([]string, []error) {
	errs := make([]error, len(ps))
	for i := range ps {
		g.calls++
		errs[i] = &unreachableError{"http://x/v1", errors.New("connection refused")}
	}
	return make([]string, len(ps)), errs
}
func (g *unreachableGen) BatchSize() int { return 1 }
func (g *unreachableGen) Parallel() int  { return 1 }

// TestScanStopsWhenUnreachable: the first unreachable answer stops the scan with that
// error; no attempt is marked failed.
func TestScanStopsWhenUnreachable(t *testing.T) {
	dir := t.TempDir()
	g := &unreachableGen{}
	_, err := Scan(context.Background(), ScanConfig{Dir: dir, Prompts: scanPrompts("a", "b", "c", "d"), Judge: okJudge{},
		Gen: func() (Generator, error) { return g, nil }})
	if !errors.Is(err, ErrUnreachable) || g.calls != 1 {
		t.Fatalf("%v after %d calls", err, g.calls)
	}
	if got := strings.Join(statuses(t, dir), " "); got != "a:pending b:pending c:pending d:pending" {
		t.Errorf("log %s", got)
	}
}

// TestScanResumeSameSetup: a scan records what it measures; resuming it with another
// endpoint, model or judge is refused, listing each difference; the same setup resumes.
func TestScanResumeSameSetup(t *testing.T) {
	dir := t.TempDir()
	setup := Setup{Endpoint: "http://a/v1", Model: "m1", Judge: "judge"}
	cfg := ScanConfig{Dir: dir, Prompts: scanPrompts("a", "b"), Judge: okJudge{}, Setup: setup,
		Gen: func() (Generator, error) { return &failGen{}, nil }}
	if _, err := Scan(context.Background(), cfg); err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(filepath.Join(dir, rundir.ScanFile)); err != nil || !strings.Contains(string(b), `"model": "m1"`) {
		t.Fatalf("scan.json: %s %v", b, err)
	}
	cfg.Resume = true
	cfg.Setup = Setup{Endpoint: "http://b/v1", Model: "m2", Judge: "judge", JudgeEndpoint: "http://j/v1", JudgeModel: "guard", Rubric: "llamaguard"}
	_, err := Scan(context.Background(), cfg)
	want := "model m2 (the scan has m1)"
	if !errors.Is(err, ErrOtherSetup) || !strings.Contains(err.Error(), "endpoint http://b/v1 (the scan has http://a/v1), "+want) ||
		!strings.Contains(err.Error(), "judge endpoint http://j/v1 (the scan has none)") {
		t.Fatalf("other setup: %v", err)
	}
	cfg.Setup = setup
	if _, err := Scan(context.Background(), cfg); err != nil {
		t.Fatalf("same setup: %v", err)
	}
}
