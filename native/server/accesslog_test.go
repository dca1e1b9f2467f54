package server

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode"
)

// syncBuffer is a bytes.Buffer safe for the server's goroutines and the test's.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestAccessLog: every request gets one line with method, path, status and duration;
// launches and uploads name their run or module (and why they were refused); websockets
// are logged as 101; a ?token= never reaches the log.
func TestAccessLog(t *testing.T) {
	runs := t.TempDir()
	trainRun(t, runs, "r", 2, false)
	var log syncBuffer
	fl := &fakeLauncher{}
	_, ts := newServer(t, withChoices(t, Options{RunsDir: runs, AccessLog: &log, Launch: fl, Token: "s3cret"}))
	get := func(path string) {
		t.Helper()
		req, _ := http.NewRequest("GET", ts.URL+path, nil)
		req.Header.Set("Authorization", "Bearer s3cret")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
	}
	get("/runs/r?token=s3cret")
	get("/runs/nope")
	postForm := func(v url.Values) {
		t.Helper()
		req, _ := http.NewRequest("POST", ts.URL+"/api/launch", strings.NewReader(v.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Authorization", "Bearer s3cret")
		res, err := http.DefaultTransport.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
	}
	postForm(url.Values{"kind": {"train"}, "id": {"new-run"}, "method": {"dpo"}, "model": {"m"}, "data": {"data/d.jsonl"}})
	postForm(url.Values{"kind": {"train"}, "id": {"bad run"}, "method": {"dpo"}, "model": {"m"}, "data": {"data/d.jsonl"}})
	req, _ := http.NewRequest("POST", ts.URL+"/api/modules", bytes.NewReader(wasmModule(`{"abi":1,"name":"novelist","kind":"attack","version":"0.1","description":"x"}`, oneVariant)))
	req.Header.Set("Authorization", "Bearer s3cret")
	if res, err := http.DefaultClient.Do(req); err != nil || res.StatusCode != 201 {
		t.Fatalf("upload: %v %v", err, res)
	}
	conn := dial(t, ts.URL+"/ws/runs/r?token=s3cret", nil)
	readSteps(t, conn, 2)
	conn.Close()
	get("/favicon.ico")

	want := []string{
		`^\S+Z 127\.0\.0\.1 GET /runs/r 200 [0-9.]+[µm]?s \d+B$`,
		`^\S+Z 127\.0\.0\.1 GET /runs/nope 404 [0-9.]+[µm]?s \d+B$`,
		`^\S+Z 127\.0\.0\.1 POST /api/launch 303 [0-9.]+[µm]?s \d+B run=new-run kind=train$`,
		`^\S+Z 127\.0\.0\.1 POST /api/launch 303 [0-9.]+[µm]?s \d+B run="bad run" error="run name \\"bad run\\": use letters, digits, '\.', '_' and '-'"$`,
		`^\S+Z 127\.0\.0\.1 POST /api/modules 201 [0-9.]+[µm]?s \d+B module=novelist$`,
		`^\S+Z 127\.0\.0\.1 GET /ws/runs/r 101 [0-9.]+[µm]?s \d+B$`,
		`^\S+Z 127\.0\.0\.1 GET /favicon.ico 200 [0-9.]+[µm]?s \d+B$`,
	}
	var lines []string
	for deadline := 0; deadline < 100; deadline++ { // the websocket's line comes when its handler returns
		lines = strings.Split(strings.TrimSpace(log.String()), "\n")
		if len(lines) >= len(want) {
			break
		}
		waitABit()
	}
	for _, w := range want {
		re := regexp.MustCompile(w)
		found := false
		for _, l := range lines {
			found = found || re.MatchString(l)
		}
		if !found {
			t.Errorf("no line matches %s in\n%s", w, strings.Join(lines, "\n"))
		}
	}
	if strings.Contains(log.String(), "s3cret") {
		t.Errorf("the token reached the log:\n%s", log.String())
	}
}

// TestModulesFieldNames: GET /api/modules and the upload's answer use the manifest's
// lower-case JSON names throughout, and the same for both.
func TestModulesFieldNames(t *testing.T) {
	_, ts := newServer(t, Options{})
	code, body := upload(t, ts.URL, wasmModule(`{"abi":1,"name":"novelist","kind":"attack","version":"0.1","description":"x","styles":["novel"]}`, oneVariant))
	if code != 201 {
		t.Fatalf("%d %s", code, body)
	}
	var up struct{ Module map[string]any }
	json.Unmarshal([]byte(body), &up)
	var list struct{ Modules []map[string]any }
	getJSON(t, ts.URL+"/api/modules", &list)
	if len(list.Modules) < 2 {
		t.Fatalf("%v", list)
	}
	for _, m := range append(list.Modules, up.Module) {
		for k := range m {
			if strings.IndexFunc(k, unicode.IsUpper) >= 0 {
				t.Errorf("field %q in %v", k, m)
			}
		}
		if m["name"] == nil || m["kind"] == nil || m["source"] == nil {
			t.Errorf("%v lacks name, kind or source", m)
		}
	}
	last := list.Modules[len(list.Modules)-1]
	if last["name"] != "novelist" || last["source"] != "uploaded" || up.Module["source"] != "uploaded" || strings.Join(anyStrings(last["styles"]), ",") != "novel" {
		t.Errorf("%v / %v", last, up.Module)
	}
}

func waitABit() { time.Sleep(50 * time.Millisecond) }

func anyStrings(v any) []string {
	var out []string
	xs, _ := v.([]any)
	for _, x := range xs {
		s, _ := x.(string)
		out = append(out, s)
	}
	return out
}

// TestFavicon: /favicon.ico is an SVG icon, served without the token like the static
// files, and every page links it.
func TestFavicon(t *testing.T) {
	_, ts := newServer(t, Options{Token: "s3cret"})
	res, err := http.Get(ts.URL + "/favicon.ico")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 200 || res.Header.Get("Content-Type") != "image/svg+xml" {
		t.Fatalf("%d %s", res.StatusCode, res.Header.Get("Content-Type"))
	}
	if res, _ := http.Get(ts.URL + "/static/favicon.svg"); res.StatusCode != 200 {
		t.Fatal(res.StatusCode)
	}
	d := doc(t, ts.URL+"/?token=s3cret")
	if d.Find(`link[rel="icon"][href="/static/favicon.svg"]`).Length() != 1 {
		t.Fatal("the page does not link the icon")
	}
}
