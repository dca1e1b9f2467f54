package eval

import (
	"os"
	"path/filepath"
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
