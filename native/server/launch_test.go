package server

import (
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
)

// TestLaunchChoices: the launch form offers the models and data the server knows, by
// name: the named folders (the embedded model by its name, not its cache path), the
// model folders under ModelsDir, the finished runs' full models (both forms) and LoRA
// adapters (eval only, over their base), the JSONL files under DataDir and the runs'
// pairs.jsonl. The form's keys become paths on the server; anything else is refused.
func TestLaunchChoices(t *testing.T) {
	runs, models, data := t.TempDir(), t.TempDir(), t.TempDir()
	cache := filepath.Join(t.TempDir(), "cache", "demo-model-0123", "aegis-organism")
	for _, d := range []string{cache, filepath.Join(models, "llama-tiny"), filepath.Join(models, "not-a-model")} {
		os.MkdirAll(d, 0o755)
	}
	os.WriteFile(filepath.Join(cache, "config.json"), []byte("{}"), 0o644)
	os.WriteFile(filepath.Join(models, "llama-tiny", "config.json"), []byte("{}"), 0o644)
	os.MkdirAll(filepath.Join(data, "sets", "deeper", "too-deep"), 0o755)
	for _, f := range []string{"pairs.jsonl", "notes.txt", "sets/prompts.jsonl", "sets/deeper/too-deep/x.jsonl"} {
		os.WriteFile(filepath.Join(data, f), []byte("{}\n"), 0o644)
	}
	merged := trainRun(t, runs, "merged", 2, true)
	os.WriteFile(filepath.Join(merged, "final", "config.json"), []byte("{}"), 0o644)
	adapted := trainRun(t, runs, "adapted", 2, true)
	os.WriteFile(filepath.Join(adapted, "final", "adapter_config.json"), []byte(`{"base_model_name_or_path":"`+cache+`"}`), 0o644)
	os.WriteFile(filepath.Join(adapted, "pairs.jsonl"), []byte("{}\n"), 0o644)
	trainRun(t, runs, "unfinished", 2, false)
	fl := &fakeLauncher{}
	s, ts := newServer(t, Options{RunsDir: runs, Launch: fl, ModelsDir: models, DataDir: data,
		Models: []NamedDir{{Name: "aegis-organism", Dir: cache, Note: "embedded"}}})

	d := doc(t, ts.URL+"/launch")
	opts := func(sel *goquery.Selection) string {
		var out []string
		sel.Each(func(_ int, o *goquery.Selection) { out = append(out, o.AttrOr("value", "")+"="+o.Text()) })
		return strings.Join(out, "|")
	}
	if got := opts(d.Find(`#launch-train select[name="model"] option`)); got != "aegis-organism=aegis-organism (embedded)|models/llama-tiny=llama-tiny|runs/merged=merged (trained by dpo)" {
		t.Errorf("training models %s", got)
	}
	if got := opts(d.Find(`#launch-eval select[name="model"] option`)); !strings.Contains(got, "|runs/adapted=adapted (dpo adapter on aegis-organism)") || strings.Count(got, "|") != 3 {
		t.Errorf("eval models %s", got)
	}
	if got := opts(d.Find(`#launch-train select[name="data"] option`)); got != "data/pairs.jsonl=pairs.jsonl|data/sets/prompts.jsonl=sets/prompts.jsonl|runs/adapted/pairs.jsonl=adapted/pairs.jsonl" {
		t.Errorf("data %s", got)
	}
	if strings.Contains(d.Text(), "cache") {
		t.Error("the page shows the embedded model's cache path")
	}

	form := url.Values{"kind": {"eval"}, "id": {"scan"}, "model": {"runs/adapted"}, "prompts": {"data/sets/prompts.jsonl"}, "limit": {"5"}, "temperature": {"0.7"}}
	_, args, err := s.LaunchArgs(form)
	want := "eval --model " + cache + " --adapter " + filepath.Join(adapted, "final") + " --prompts " + filepath.Join(data, "sets", "prompts.jsonl") +
		" --attacks none --attack-module attacks --limit 5 --max-new-tokens 256 --temperature 0.7 --batch-size 8 --seed 0 --out " + filepath.Join(runs, "scan")
	if err != nil || strings.Join(args, " ") != want {
		t.Fatalf("%v\n%s\nwant\n%s", err, strings.Join(args, " "), want)
	}
	form = url.Values{"kind": {"train"}, "id": {"t"}, "method": {"sft"}, "model": {"aegis-organism"}, "data": {"runs/adapted/pairs.jsonl"},
		"lr": {"1e-4"}, "lr_scheduler": {"cosine"}, "full": {"1"}, "epochs": {"2"}, "steps": {"0"}}
	if _, args, err := s.LaunchArgs(form); err != nil || !strings.Contains(strings.Join(args, " "), "--model "+cache+" --data "+filepath.Join(adapted, "pairs.jsonl")+" --steps 0 --epochs 2 --lr 0.0001 --lr-scheduler cosine") ||
		!slices.Contains(args, "--full") {
		t.Fatalf("%v %v", args, err)
	}
	for _, bad := range []url.Values{
		{"kind": {"train"}, "id": {"x"}, "method": {"dpo"}, "model": {cache}, "data": {"data/pairs.jsonl"}},             // a path, not a name
		{"kind": {"train"}, "id": {"x"}, "method": {"dpo"}, "model": {"runs/adapted"}, "data": {"data/pairs.jsonl"}},    // an adapter: eval only
		{"kind": {"train"}, "id": {"x"}, "method": {"dpo"}, "model": {"runs/unfinished"}, "data": {"data/pairs.jsonl"}}, // no result yet
		{"kind": {"train"}, "id": {"x"}, "method": {"dpo"}, "model": {"aegis-organism"}, "data": {"data/notes.txt"}},
		{"kind": {"train"}, "id": {"x"}, "method": {"dpo"}, "model": {"aegis-organism"}, "data": {"data/sets/deeper/too-deep/x.jsonl"}},
		{"kind": {"train"}, "id": {"x"}, "method": {"dpo"}, "model": {"aegis-organism"}, "data": {"data/../../etc/passwd"}},
		{"kind": {"train"}, "id": {"x"}, "method": {"apl"}, "model": {"aegis-organism"}, "data": {"data/pairs.jsonl"}},
		{"kind": {"train"}, "id": {"x"}, "method": {"dpo"}, "model": {"aegis-organism"}, "data": {"data/pairs.jsonl"}, "lr": {"fast"}},
		{"kind": {"train"}, "id": {"x"}, "method": {"dpo"}, "model": {"aegis-organism"}, "data": {"data/pairs.jsonl"}, "lr": {"NaN"}},
		{"kind": {"train"}, "id": {"x"}, "method": {"dpo"}, "model": {"aegis-organism"}, "data": {"data/pairs.jsonl"}, "steps": {"-3"}},
		{"kind": {"train"}, "id": {"x"}, "method": {"dpo"}, "model": {"aegis-organism"}, "data": {"data/pairs.jsonl"}, "lr_scheduler": {"zigzag"}},
		{"kind": {"eval"}, "id": {"x"}, "model": {"aegis-organism"}, "prompts": {"data/pairs.jsonl"}, "attacks": {"dan,nope"}},
	} {
		if _, args, err := s.LaunchArgs(bad); err == nil {
			t.Errorf("%v accepted: %v", bad, args)
		}
	}
}

// TestLaunchModuleStyles: an uploaded attack module's own styles are offered by the
// launch form and accepted from it (the built-in module's are the catalogue's).
func TestLaunchModuleStyles(t *testing.T) {
	s, ts := newServer(t, withChoices(t, Options{Launch: &fakeLauncher{}}))
	if code, body := upload(t, ts.URL, wasmModule(`{"abi":1,"name":"novelist","kind":"attack","version":"0.1","description":"x","styles":["novel","screenplay"]}`, oneVariant)); code != 201 {
		t.Fatal(body)
	}
	d := doc(t, ts.URL+"/launch")
	if d.Find(`select[name="attack_module"] option[value="novelist"]`).AttrOr("data-styles", "") != "novel,screenplay" {
		t.Fatal("the form does not offer the module's styles")
	}
	eval := func(module, attacks string) ([]string, error) {
		_, args, err := s.LaunchArgs(url.Values{"kind": {"eval"}, "id": {"scan"}, "model": {"m"}, "prompts": {"data/p.jsonl"}, "attack_module": {module}, "attacks": {attacks}})
		return args, err
	}
	if args, err := eval("novelist", "novel, screenplay"); err != nil || !strings.Contains(strings.Join(args, " "), "--attacks novel,screenplay --attack-module "+filepath.Join(s.runs.dir, ".modules", "novelist.wasm")) {
		t.Fatalf("%v %v", args, err)
	}
	if _, err := eval("novelist", "dan"); err == nil || !strings.Contains(err.Error(), "module novelist has novel, screenplay") {
		t.Fatalf("a style the module lacks: %v", err)
	}
	if args, err := eval("attacks", "dan,rot13"); err != nil || !strings.Contains(strings.Join(args, " "), "--attacks dan,rot13 --attack-module attacks") {
		t.Fatalf("%v %v", args, err)
	}
	if args, err := eval("novelist", "all"); err != nil || !slices.Contains(args, "all") {
		t.Fatalf("%v %v", args, err)
	}
}

// TestFailedLaunchFreesItsName: a launch whose process fails before its run writes
// anything leaves only RUN/aegis.log; the same name can be launched again (and its log
// starts over), while a folder holding a run keeps its name.
func TestFailedLaunchFreesItsName(t *testing.T) {
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Skip("no sh")
	}
	pl := &ProcessLauncher{Exe: sh}
	s, _ := newServer(t, withChoices(t, Options{Launch: pl}))
	dir := filepath.Join(s.runs.dir, "retry")
	if err := pl.Start("retry", dir, []string{"-c", "echo 'aegis train: model /nope: no such folder' >&2; exit 1"}); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(5 * time.Second); pl.Running("retry"); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("still running")
		}
	}
	form := url.Values{"kind": {"train"}, "id": {"retry"}, "method": {"dpo"}, "model": {"m"}, "data": {"data/d.jsonl"}}
	if _, _, err := s.LaunchArgs(form); err != nil {
		t.Fatalf("the failed launch's name: %v", err)
	}
	if err := pl.Start("retry", dir, []string{"-c", "echo second"}); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(5 * time.Second); pl.Running("retry"); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("still running")
		}
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "aegis.log")); string(b) != "second\n" {
		t.Fatalf("log %q", b)
	}
	trainRun(t, s.runs.dir, "taken", 1, false)
	if _, _, err := s.LaunchArgs(url.Values{"kind": {"train"}, "id": {"taken"}, "method": {"dpo"}, "model": {"m"}, "data": {"data/d.jsonl"}}); err == nil || !strings.Contains(err.Error(), "exists already") {
		t.Fatalf("a run's name: %v", err)
	}
}
