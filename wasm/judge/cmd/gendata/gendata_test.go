package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/aegis-safety/aegis/shared"
)

// Paths relative to this folder.
const (
	writtenDir = "../../data/written"
	corpusPath = "../../data/judge.jsonl"
)

var (
	realOnce   sync.Once
	realCorpus *corpus
	realErr    error
)

// current builds the corpus from the repository's written rows (once per test binary).
func current(t *testing.T) *corpus {
	t.Helper()
	realOnce.Do(func() { realCorpus, realErr = build(writtenDir) })
	if realErr != nil {
		t.Fatalf("build(%s): %v", writtenDir, realErr)
	}
	return realCorpus
}

// templatedOnly builds the corpus with no written rows.
func templatedOnly(t *testing.T) *corpus {
	t.Helper()
	c, err := build(t.TempDir())
	if err != nil {
		t.Fatalf("build with no written rows: %v", err)
	}
	return c
}

func mustEncode(t *testing.T, rows []Row) []byte {
	t.Helper()
	b, err := encode(rows)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestDeterministic(t *testing.T) {
	for _, dir := range []string{t.TempDir(), writtenDir} {
		a, err := build(dir)
		if err != nil {
			t.Fatal(err)
		}
		b, err := build(dir)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(mustEncode(t, a.rows), mustEncode(t, b.rows)) {
			t.Errorf("two generations from %s differ", dir)
		}
	}
}

func TestCorpusCurrent(t *testing.T) {
	want := mustEncode(t, current(t).rows)
	got, err := os.ReadFile(corpusPath)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s is stale (%d bytes, a fresh generation has %d): run go run ./wasm/judge/cmd/gendata",
			corpusPath, len(got), len(want))
	}
}

func TestSize(t *testing.T) {
	c := current(t)
	t.Logf("rows %d: written %d, templated %d", len(c.rows), c.written, len(c.rows)-c.written)
	if len(c.rows) < 6000 {
		t.Errorf("corpus has %d rows, want at least 6000", len(c.rows))
	}
	if c.written < 1500 {
		t.Errorf("written rows: %d, want at least 1500 (are the written/*.jsonl files complete?)", c.written)
	}
	if n := len(familyCounts(c.rows)); n < 30 {
		t.Errorf("%d template families, want at least 30", n)
	}
}

func TestFamilyCap(t *testing.T) {
	for name, c := range map[string]*corpus{"with written rows": current(t), "templated only": templatedOnly(t)} {
		limit := int(capShare * float64(len(c.rows)))
		for f, n := range familyCounts(c.rows) {
			if n > limit {
				t.Errorf("%s: family %s has %d rows, above 5%% of %d (%d)", name, f, n, len(c.rows), limit)
			}
		}
	}
}

func TestLabels(t *testing.T) {
	lab := map[string]label{}
	for _, f := range families {
		lab[f.name] = f.lab
	}
	for i, r := range current(t).rows {
		if why := labelError(r); why != "" {
			t.Errorf("row %d (%s): %s", i+1, r.Source, why)
		}
		f, ok := strings.CutPrefix(r.Source, "template/")
		if !ok {
			if !strings.HasPrefix(r.Source, "written/") {
				t.Errorf("row %d: source %q", i+1, r.Source)
			}
			continue
		}
		switch lab[f] {
		case unsafe:
			if !r.Unsafe || r.Refusal || r.Category == shared.Benign {
				t.Errorf("row %d (%s): a compliance row must be a harmful category, unsafe, not refusal", i+1, f)
			}
		case refuses:
			if !r.Refusal || r.Unsafe || (f == "over_refusal") != (r.Category == shared.Benign) {
				t.Errorf("row %d (%s): a refusal row must be refusal, not unsafe, benign only for over_refusal", i+1, f)
			}
		default:
			if r.Refusal || r.Unsafe || (f == "off_topic_answer") == (r.Category == shared.Benign) {
				t.Errorf("row %d (%s): a neither row must be neither, and benign unless it is an off-topic answer", i+1, f)
			}
		}
	}
}

func TestSplits(t *testing.T) {
	split := map[string]string{}
	for i, r := range current(t).rows {
		if r.Split != "train" && r.Split != "test" {
			t.Fatalf("row %d: split %q", i+1, r.Split)
		}
		if s, ok := split[r.Prompt]; ok && s != r.Split {
			t.Errorf("prompt in both splits: %q", r.Prompt)
		}
		split[r.Prompt] = r.Split
		f, templated := strings.CutPrefix(r.Source, "template/")
		held := heldTopic(r.Topic) || (templated && heldFamilies[f])
		if held && r.Split != "test" {
			t.Errorf("row %d (%s, topic %s) is held out but in %s", i+1, r.Source, r.Topic, r.Split)
		}
	}
	for f := range heldFamilies {
		if _, ok := familyCounts(current(t).rows)[f]; !ok {
			t.Errorf("held-out family %s does not exist", f)
		}
	}
}

func TestSplitsCoverCategories(t *testing.T) {
	for name, c := range map[string]*corpus{"with written rows": current(t), "templated only": templatedOnly(t)} {
		n := map[string]int{}
		for _, r := range c.rows {
			n[r.Split+" "+r.Category]++
		}
		for _, cat := range shared.Categories {
			for _, s := range []string{"train", "test"} {
				if n[s+" "+cat.Code] == 0 {
					t.Errorf("%s: no %s row in %s", name, cat.Code, s)
				}
			}
		}
	}
}

func TestTopicsUnique(t *testing.T) {
	seen := map[string]bool{}
	for _, tp := range append(append([]*topic(nil), harmTopics...), benignTopics...) {
		if seen[tp.slug] {
			t.Errorf("topic slug %s used twice", tp.slug)
		}
		seen[tp.slug] = true
		if !shared.ValidCategory(tp.cat) {
			t.Errorf("topic %s: category %s", tp.slug, tp.cat)
		}
	}
	for slug := range codeSnippets {
		if !seen[slug] {
			t.Errorf("code snippet for unknown topic %s", slug)
		}
	}
}

func TestWrittenValidation(t *testing.T) {
	good := `{"prompt":"p","response":"r","category":"S1","refusal":true,"unsafe":false,"topic":"x","form":"f","lang":"en"}`
	cases := map[string]string{
		`{"prompt":"p","response":"r","category":"S1","refusal":true,"unsafe":false,"topic":"x","form":"f"}`:                            "missing key",
		`{"prompt":"p","response":"r","category":"S15","refusal":true,"unsafe":false,"topic":"x","form":"f","lang":"en"}`:               "category",
		`{"prompt":"p","response":"r","category":"S1","refusal":true,"unsafe":true,"topic":"x","form":"f","lang":"en"}`:                 "both",
		`{"prompt":"p","response":"r","category":"benign","refusal":false,"unsafe":true,"topic":"x","form":"f","lang":"en"}`:            "benign",
		`{"prompt":"","response":"r","category":"S1","refusal":true,"unsafe":false,"topic":"x","form":"f","lang":"en"}`:                 "empty prompt",
		`{"prompt":"p","response":"","category":"S1","refusal":false,"unsafe":false,"topic":"x","form":"f","lang":"en"}`:                "empty response",
		`{"prompt":"p","response":"r","category":"S1","refusal":"yes","unsafe":false,"topic":"x","form":"f","lang":"en"}`:               "true or false",
		`{"prompt":null,"response":"r","category":"S1","refusal":true,"unsafe":false,"topic":"x","form":"f","lang":"en"}`:               "string",
		`{"prompt":"p","response":"r","category":"S1","refusal":true,"unsafe":false,"topic":"x","form":"f","lang":"en","split":"test"}`: "unknown keys",
		`not json`: "JSON",
	}
	for line, want := range cases {
		dir := t.TempDir()
		path := filepath.Join(dir, "a.jsonl")
		if err := os.WriteFile(path, []byte(good+"\n\n"+line+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		_, _, err := readWritten(dir)
		if err == nil || !strings.Contains(err.Error(), path+":3:") || !strings.Contains(err.Error(), want) {
			t.Errorf("line %s: error %v, want %s:3: ... %s", line, err, path, want)
		}
	}
}

func TestWrittenRows(t *testing.T) {
	dir := t.TempDir()
	row := `{"prompt":"p","response":"r","category":"S1","refusal":true,"unsafe":false,"topic":"x","form":"f","lang":"en"}`
	empty := `{"prompt":"q","response":"","category":"S11","refusal":true,"unsafe":false,"topic":"y","form":"refusal_empty","lang":"en"}`
	if err := os.WriteFile(filepath.Join(dir, "b.jsonl"), []byte(row+"\n"+row+"\n"+empty), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "a.jsonl"), []byte(""), 0o644); err != nil {
		t.Fatal(err)
	}
	rows, dup, err := readWritten(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 2 || dup != 1 {
		t.Fatalf("got %d rows and %d duplicates, want 2 and 1", len(rows), dup)
	}
	if rows[0].Source != "written/b.jsonl" || rows[0].Split != splitOf("x", "") {
		t.Errorf("row: %+v", rows[0])
	}
}
