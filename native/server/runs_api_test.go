package server

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"github.com/aegis-safety/aegis/native/rundir"
)

// TestStatusFromLock: a run whose writer holds the run folder's lock is running however
// old its files; once the writer is gone it is interrupted at once, however fresh its
// files (it used to show "running" for two more minutes).
func TestStatusFromLock(t *testing.T) {
	runs := t.TempDir()
	old := trainRun(t, runs, "slow", 2, false)
	past := time.Now().Add(-time.Hour)
	for _, f := range []string{"config.json", "events.jsonl"} {
		os.Chtimes(filepath.Join(old, f), past, past)
	}
	fresh := trainRun(t, runs, "gone", 2, false)
	scan := evalRun(t, runs, "scan")
	releaseOld, err := rundir.Hold(old)
	if err != nil {
		t.Fatal(err)
	}
	defer releaseOld()
	releaseFresh, err := rundir.Hold(fresh)
	if err != nil {
		t.Fatal(err)
	}
	releaseScan, err := rundir.Hold(scan)
	if err != nil {
		t.Fatal(err)
	}
	s, _ := newServer(t, Options{RunsDir: runs})
	status := func(id string) string {
		r, err := s.runs.get(id, false)
		if err != nil {
			t.Fatal(err)
		}
		return r.Status
	}
	for _, id := range []string{"slow", "gone", "scan"} {
		if st := status(id); st != "running" {
			t.Errorf("%s while held: %s", id, st)
		}
	}
	releaseFresh()
	releaseScan()
	for _, id := range []string{"gone", "scan"} {
		if st := status(id); st != "interrupted" {
			t.Errorf("%s after its writer ended: %s", id, st)
		}
	}
	if st := status("slow"); st != "running" {
		t.Errorf("slow: %s", st)
	}
}

// TestRunsListQuery: the runs list (page and API) searches, filters by status and kind,
// and sorts by a column either way; the page keeps the query in its controls and links.
func TestRunsListQuery(t *testing.T) {
	runs := t.TempDir()
	for i, id := range []string{"dpo-a", "dpo-b", "sft-c"} {
		dir := trainRun(t, runs, id, 2+i, id == "dpo-b")
		if id == "sft-c" {
			os.WriteFile(filepath.Join(dir, "config.json"), []byte(`{"method":"sft","model":"/models/other","max_steps":4}`), 0o644)
		}
		at := time.Now().Add(time.Duration(i-10) * time.Minute)
		os.Chtimes(filepath.Join(dir, "config.json"), at, at)
	}
	evalRun(t, runs, "scan")
	_, ts := newServer(t, Options{RunsDir: runs})
	ids := func(path string) string {
		t.Helper()
		var out []string
		doc(t, ts.URL+path).Find("#runs tbody tr").Each(func(_ int, s *goquery.Selection) { out = append(out, s.AttrOr("data-id", "")) })
		var list struct{ Runs []Run }
		getJSON(t, ts.URL+"/api/runs"+strings.TrimPrefix(path, "/"), &list)
		var api []string
		for _, r := range list.Runs {
			api = append(api, r.ID)
		}
		if strings.Join(api, " ") != strings.Join(out, " ") {
			t.Errorf("%s: page %v, API %v", path, out, api)
		}
		return strings.Join(out, " ")
	}
	for path, want := range map[string]string{
		"/":                          "scan sft-c dpo-b dpo-a", // newest first
		"/?sort=started&order=asc":   "dpo-a dpo-b sft-c scan",
		"/?sort=id":                  "dpo-a dpo-b scan sft-c",
		"/?sort=id&order=desc":       "sft-c scan dpo-b dpo-a",
		"/?sort=progress&order=desc": "scan sft-c dpo-b dpo-a", // 3/3 and 4/4 (then by id), 3/50, 2/50
		"/?q=dpo":                    "dpo-b dpo-a",
		"/?q=DPO+done":               "dpo-b",
		"/?q=other":                  "sft-c",
		"/?status=done":              "dpo-b",
		"/?kind=eval":                "scan",
		"/?kind=train&sort=method":   "dpo-a dpo-b sft-c",
		"/?q=nothing-like-it":        "",
	} {
		if got := ids(path); got != want {
			t.Errorf("%s: %q, want %q", path, got, want)
		}
	}
	d := doc(t, ts.URL+"/?q=dpo&status=done&sort=id&order=asc")
	if d.Find(`#runs-filter input[name="q"]`).AttrOr("value", "") != "dpo" || d.Find(`#runs-filter select[name="status"] option[selected]`).AttrOr("value", "") != "done" ||
		d.Find("#runs-count").Text() != "1 of 4 runs" {
		t.Fatalf("filter controls: %q", d.Find("#runs-count").Text())
	}
	th := d.Find("#runs thead th.sorted")
	if th.Length() != 1 || !strings.HasPrefix(th.Text(), "run") || th.AttrOr("aria-sort", "") != "ascending" {
		t.Fatalf("sorted header %q", th.Text())
	}
	if href := th.Find("a").AttrOr("href", ""); href != "/?order=desc&q=dpo&sort=id&status=done" {
		t.Fatalf("the sorted column's link %q", href)
	}
	if d := doc(t, ts.URL+"/?q=nothing"); d.Find("#runs tbody tr").Length() != 0 || d.Find("#runs-count").Text() != "0 of 4 runs" {
		t.Fatal("an empty match")
	}
}

// TestStopAndDelete: a run started from the launch form has a stop button while it runs;
// stop interrupts its process, which then shows interrupted at once; it can then be
// deleted, folder and all. Runs not started here are neither stopped nor deleted, and a
// running one is not deleted.
func TestStopAndDelete(t *testing.T) {
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Skip("no sh")
	}
	runs := t.TempDir()
	trainRun(t, runs, "mine", 2, false) // started from the command line
	pl := &ProcessLauncher{Exe: sh}
	s, ts := newServer(t, Options{RunsDir: runs, Launch: pl})
	dir := filepath.Join(s.runs.dir, "launched")
	script := `cd "$1" && printf '{"method":"dpo","model":"m","max_steps":9}\n' > config.json && printf '{"step":1,"loss":1}\n' > events.jsonl &&
trap 'echo interrupted; exit 130' INT; echo started; while :; do sleep 0.05; done`
	if err := pl.Start("launched", dir, []string{"-c", script, "sh", dir}); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(5 * time.Second); !exists(filepath.Join(dir, "events.jsonl")); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the run did not start")
		}
	}
	d := doc(t, ts.URL+"/")
	row := d.Find(`#runs tr[data-id="launched"]`)
	if row.Find(".status").Text() != "running" || row.Find(`form[action="/api/runs/launched/stop"] button`).Length() != 1 || row.Find("form.delete").Length() != 0 {
		t.Fatalf("the launched run's row: %q", row.Text())
	}
	if mine := d.Find(`#runs tr[data-id="mine"]`); mine.Find("form").Length() != 0 {
		t.Fatal("a run started elsewhere has buttons")
	}
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	post := func(path string, form url.Values) *http.Response {
		t.Helper()
		res, err := noRedirect.PostForm(ts.URL+path, form)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res
	}
	// Deleting a running run is refused.
	if res := post("/api/runs/launched/delete", url.Values{"next": {"/?q=x"}}); res.StatusCode != 303 || !strings.Contains(res.Header.Get("Location"), "err=") || !exists(dir) {
		t.Fatalf("delete while running: %d %s", res.StatusCode, res.Header.Get("Location"))
	}
	res := post("/api/runs/launched/stop", url.Values{"next": {"/?q=launch"}})
	if loc := res.Header.Get("Location"); res.StatusCode != 303 || !strings.HasPrefix(loc, "/?") || !strings.Contains(loc, "q=launch") || !strings.Contains(loc, "msg=stopping") {
		t.Fatalf("stop: %d %s", res.StatusCode, loc)
	}
	for deadline := time.Now().Add(5 * time.Second); pl.Running("launched"); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("still running after stop")
		}
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "aegis.log")); !strings.Contains(string(b), "interrupted") {
		t.Fatalf("the process was not interrupted: %q", b)
	}
	row = doc(t, ts.URL+"/").Find(`#runs tr[data-id="launched"]`)
	if row.Find(".status").Text() != "interrupted" || row.Find("form.stop").Length() != 0 || row.Find(`form[action="/api/runs/launched/delete"]`).Length() != 1 {
		t.Fatalf("after stop: %q", row.Text())
	}
	if e := doc(t, ts.URL+"/launch").Find(`#ended tr[data-id="launched"]`); !strings.Contains(e.Text(), "stopped from the page") || e.Find("td.err").Length() != 0 {
		t.Fatalf("launch page: %q", e.Text())
	}
	// The API: stopping a run not running here, deleting one not started here.
	for _, c := range []struct{ method, path, want string }{
		{"POST", "/api/runs/mine/stop", "only runs started from its launch form"},
		{"DELETE", "/api/runs/mine", "only runs started from the launch form"},
		{"DELETE", "/api/runs/nope", "no such run"},
		{"DELETE", "/api/runs/..%2Fx", "invalid run id"},
	} {
		req, _ := http.NewRequest(c.method, ts.URL+c.path, nil)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var e struct{ Error string }
		json.NewDecoder(res.Body).Decode(&e)
		res.Body.Close()
		if res.StatusCode/100 != 4 || !strings.Contains(e.Error, c.want) {
			t.Errorf("%s %s: %d %q", c.method, c.path, res.StatusCode, e.Error)
		}
	}
	if !exists(filepath.Join(runs, "mine")) {
		t.Fatal("a run started elsewhere was deleted")
	}
	req, _ := http.NewRequest("DELETE", ts.URL+"/api/runs/launched", nil)
	res, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || exists(dir) {
		t.Fatalf("delete: %d %s", res.StatusCode, b)
	}
	if doc(t, ts.URL+"/launch").Find(`#ended tr[data-id="launched"]`).Length() != 0 {
		t.Fatal("the deleted run is still listed as ended")
	}
}
