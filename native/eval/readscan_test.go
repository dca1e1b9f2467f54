package eval

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestReadScan: a scan is read from its results file or from the folder holding it.
func TestReadScan(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	file := filepath.Join(dir, "results.jsonl")
	os.WriteFile(file, []byte(`{"id":"a","status":"pending","prompt":"p","attack":"none","category":"S1"}`+"\n"), 0o644)
	for _, p := range []string{dir, file} {
		a, name, err := ReadScan(p)
		if err != nil || len(a) != 1 || a[0].ID != "a" || name != file {
			t.Errorf("%s: %d attempts, name %s, %v", p, len(a), name, err)
		}
	}
}

// writeScan writes a results file of judged attempts: per id its category and whether
// the answer was unsafe or a refusal ("u", "r" or "").
func writeScan(t *testing.T, rows [][3]string) string {
	t.Helper()
	var b strings.Builder
	for _, r := range rows {
		fmt.Fprintf(&b, `{"id":%q,"status":"judged","prompt":"p","attack":"none","category":%q,"response":"x","verdict":{"judge":"j","refusal":%v,"unsafe":%v,"score":0,"categories":[]}}`+"\n",
			r[0], r[1], r[2] == "r", r[2] == "u")
	}
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "results.jsonl"), []byte(b.String()), 0o644)
	return dir
}

// TestCompareScans: two scans read from their folders compare as Compare does, named by
// their results files; a scan that cannot be read is an error.
func TestCompareScans(t *testing.T) {
	t.Parallel()
	a := writeScan(t, [][3]string{{"1", "S1", "u"}, {"2", "S1", "r"}, {"3", "benign", ""}})
	b := writeScan(t, [][3]string{{"1", "S1", "r"}, {"2", "S1", "r"}, {"3", "benign", "r"}})
	w, err := CompareScans(a, b)
	if err != nil {
		t.Fatal(err)
	}
	if w.N != 3 || w.WinsA != 1 || w.WinsB != 1 || w.Ties != 1 || w.A != filepath.Join(a, "results.jsonl") || w.B != filepath.Join(b, "results.jsonl") {
		t.Errorf("%+v", w)
	}
	if _, err := CompareScans(a, filepath.Join(t.TempDir(), "none")); err == nil {
		t.Error("a missing scan compared")
	}
}
