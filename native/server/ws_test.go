package server

import (
	"encoding/json"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

func dial(t *testing.T, url string, hdr http.Header) *websocket.Conn {
	t.Helper()
	c, res, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(url, "http"), hdr)
	if err != nil {
		code := 0
		if res != nil {
			code = res.StatusCode
		}
		t.Fatalf("dial %s: %v (%d)", url, err, code)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// readSteps reads n messages and returns their steps.
func readSteps(t *testing.T, c *websocket.Conn, n int) []int {
	t.Helper()
	var steps []int
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	for range n {
		typ, msg, err := c.ReadMessage()
		if err != nil {
			t.Fatalf("after steps %v: %v", steps, err)
		}
		var e struct{ Step int }
		if typ != websocket.TextMessage || json.Unmarshal(msg, &e) != nil {
			t.Fatalf("message %q", msg)
		}
		steps = append(steps, e.Step)
	}
	return steps
}

func TestWebsocketStream(t *testing.T) {
	runs := t.TempDir()
	dir := trainRun(t, runs, "live", 3, false)
	_, ts := newServer(t, Options{RunsDir: runs})

	c := dial(t, ts.URL+"/ws/runs/live", nil)
	if got := readSteps(t, c, 3); got[0] != 1 || got[2] != 3 {
		t.Fatalf("replay %v", got)
	}
	// Events appended as training goes show up, in order, once each.
	appendEvents(t, dir, 4, 6)
	if got := readSteps(t, c, 3); got[0] != 4 || got[2] != 6 {
		t.Fatalf("live %v", got)
	}
	// A torn line (a write in progress) waits for its end.
	f, _ := openAppend(dir)
	f.WriteString(`{"step":7,"loss":0.5`)
	time.Sleep(3 * pollInterval)
	f.WriteString("}\n")
	f.Close()
	if got := readSteps(t, c, 1); got[0] != 7 {
		t.Fatalf("torn line %v", got)
	}
	// Reconnecting from the last step seen resumes without repeats.
	c2 := dial(t, ts.URL+"/ws/runs/live?from=5", nil)
	if got := readSteps(t, c2, 2); got[0] != 6 || got[1] != 7 {
		t.Fatalf("from=5: %v", got)
	}
	// Another site's page cannot open the socket.
	_, res, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(ts.URL, "http")+"/ws/runs/live", http.Header{"Origin": {"https://evil.example"}})
	if err == nil || res == nil || res.StatusCode != http.StatusForbidden {
		t.Fatalf("cross-origin websocket: %v %v", err, res)
	}
}

// TestSlowClient: a client that never reads neither slows the writer of events.jsonl nor
// holds back other clients; once its writes stall it is dropped.
func TestSlowClient(t *testing.T) {
	defer func(w time.Duration) { writeWait = w }(writeWait)
	writeWait = 300 * time.Millisecond
	runs := t.TempDir()
	dir := trainRun(t, runs, "busy", 1, false)
	srv, ts := newServer(t, Options{RunsDir: runs})

	// The slow client's socket buffer is small, so the server's writes stall on it.
	d := websocket.Dialer{NetDial: func(network, addr string) (net.Conn, error) {
		c, err := net.Dial(network, addr)
		if err == nil {
			c.(*net.TCPConn).SetReadBuffer(4 << 10)
		}
		return c, err
	}}
	slow, _, err := d.Dial("ws"+strings.TrimPrefix(ts.URL, "http")+"/ws/runs/busy", nil) // never read
	if err != nil {
		t.Fatal(err)
	}
	defer slow.Close()
	fast := dial(t, ts.URL+"/ws/runs/busy", nil)
	const n = 20000 // ~6 MB of events: far more than the socket buffers hold
	start := time.Now()
	appendEvents(t, dir, 2, n)
	if d := time.Since(start); d > 3*time.Second {
		t.Fatalf("appending took %v", d)
	}
	got := readSteps(t, fast, n)
	if got[n-1] != n {
		t.Fatalf("fast client ended at %d", got[n-1])
	}
	// The slow client was cut off once a write to it stalled; the fast one stays.
	for deadline := time.Now().Add(5 * time.Second); srv.streams.Load() != 1; time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%d streams open; the slow client was not dropped", srv.streams.Load())
		}
	}
}

func TestWebsocketEval(t *testing.T) {
	runs := t.TempDir()
	evalRun(t, runs, "scan")
	_, ts := newServer(t, Options{RunsDir: runs})
	c := dial(t, ts.URL+"/ws/runs/scan?from=2", nil)
	if got := readSteps(t, c, 2); got[0] != 3 || got[1] != 4 {
		t.Fatalf("%v", got)
	}
}

func openAppend(dir string) (*os.File, error) {
	return os.OpenFile(filepath.Join(dir, "events.jsonl"), os.O_WRONLY|os.O_APPEND, 0o644)
}

// TestWebsocketPing: the connection's writer pings idle clients, and a client that answers
// (as browsers do) stays connected and still gets new events.
func TestWebsocketPing(t *testing.T) {
	defer func(p time.Duration) { pingInterval = p }(pingInterval)
	pingInterval = 100 * time.Millisecond
	runs := t.TempDir()
	dir := trainRun(t, runs, "quiet", 1, false)
	_, ts := newServer(t, Options{RunsDir: runs})
	c := dial(t, ts.URL+"/ws/runs/quiet", nil)
	pings := make(chan struct{}, 16)
	c.SetPingHandler(func(data string) error {
		pings <- struct{}{}
		return c.WriteControl(websocket.PongMessage, []byte(data), time.Now().Add(time.Second))
	})
	if got := readSteps(t, c, 1); got[0] != 1 {
		t.Fatal(got)
	}
	go func() { time.Sleep(500 * time.Millisecond); appendEvents(t, dir, 2, 2) }()
	if got := readSteps(t, c, 1); got[0] != 2 { // control frames are handled while reading
		t.Fatal(got)
	}
	if n := len(pings); n < 2 {
		t.Fatalf("%d pings in 500ms at a 100ms interval", n)
	}
}

// TestWebsocketBadRequests: unknown runs and bad ?from= are refused before the upgrade.
func TestWebsocketBadRequests(t *testing.T) {
	runs := t.TempDir()
	trainRun(t, runs, "r", 1, false)
	_, ts := newServer(t, Options{RunsDir: runs})
	for path, code := range map[string]int{"/ws/runs/nope": 404, "/ws/runs/r?from=x": 400, "/ws/runs/.r": 400} {
		_, res, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(ts.URL, "http")+path, nil)
		if err == nil || res == nil || res.StatusCode != code {
			t.Errorf("%s: %v %v, want %d", path, err, res, code)
		}
	}
}
