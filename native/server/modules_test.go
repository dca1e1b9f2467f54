package server

import (
	"bytes"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/aegis-safety/aegis/native/sandbox"
	"github.com/aegis-safety/aegis/wasm"
)

// attackKind turns a sandbox test module (a judge) into an attack module by editing its
// manifest in place, keeping its length: "judge"→"attack", description "test"→"tes".
func attackKind(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile("../sandbox/testdata/" + name + ".wasm")
	if err != nil {
		t.Fatal(err)
	}
	old := []byte(`"kind":"judge","version":"0","description":"test"`)
	if !bytes.Contains(b, old) {
		t.Fatalf("%s.wasm: manifest not found", name)
	}
	return bytes.Replace(b, old, []byte(`"kind":"attack","version":"0","description":"tes"`), 1)
}

func upload(t *testing.T, url string, code []byte) (int, string) {
	t.Helper()
	res, err := http.Post(url+"/api/modules", "application/wasm", bytes.NewReader(code))
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

func TestModuleUpload(t *testing.T) {
	_, ts := newServer(t, Options{ModuleLimits: sandbox.Limits{MemoryPages: 64, CallTimeout: 300 * time.Millisecond,
		MaxOutput: 1 << 20, MaxModule: 8 << 20, MaxInstances: 1}})

	var mods struct {
		Modules []struct{ Name, Kind, Source string }
	}
	getJSON(t, ts.URL+"/api/modules", &mods)
	if len(mods.Modules) != len(wasm.Builtins()) || mods.Modules[0].Source != "built-in" || mods.Modules[0].Kind == "" {
		t.Fatalf("%+v", mods)
	}

	attacks, _ := wasm.Builtin("attacks")
	judge, _ := wasm.Builtin("judge")
	cases := []struct {
		name string
		code []byte
		want string
	}{
		{"garbage", []byte("\x00asm garbage"), "invalid module"},
		{"loop", attackKind(t, "loop"), "time limit exceeded"},
		{"trap", attackKind(t, "trap"), "unreachable"},
		{"grow", attackKind(t, "grow"), "module"},
		{"echo", attackKind(t, "echo"), ""}, // echoes its input: no variants
		{"import", mustRead(t, "import"), "imports env.steal"},
		{"judge", judge, "only attack modules"},
		{"attacks", attacks, "taken by a built-in module"},
		{"too big", bytes.Repeat([]byte{0}, 9<<20), "larger than"},
	}
	for _, c := range cases {
		code, body := upload(t, ts.URL, c.code)
		var e struct{ Error string }
		json.Unmarshal([]byte(body), &e)
		if code/100 != 4 || !strings.Contains(e.Error, c.want) || strings.Contains(e.Error, "\n") {
			t.Errorf("%s: %d %s, want a one-line 4xx containing %q", c.name, code, body, c.want)
		}
	}
	// After all of that the server still answers.
	if code := getJSON(t, ts.URL+"/api/runs", nil); code != 200 {
		t.Fatal(code)
	}

	// The page's form upload redirects back with the error shown.
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	fw, _ := mw.CreateFormFile("module", "loop.wasm")
	fw.Write(attackKind(t, "loop"))
	mw.Close()
	res, err := http.Post(ts.URL+"/api/modules", mw.FormDataContentType(), &buf)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	d, _ := io.ReadAll(res.Body)
	if res.Request.URL.Path != "/modules" || !strings.Contains(string(d), "time limit exceeded") {
		t.Fatalf("form upload landed on %s", res.Request.URL)
	}
}

func mustRead(t *testing.T, name string) []byte {
	b, err := os.ReadFile("../sandbox/testdata/" + name + ".wasm")
	if err != nil {
		t.Fatal(err)
	}
	return b
}
