package jsonl

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

type row struct {
	ID   string `json:"id"`
	Text string `json:"text"`
}

func write(t *testing.T, s string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "in.jsonl")
	if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestEachPositionsBlankLinesBOM(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("x", 3<<20) // beyond bufio.Scanner's default limit
	p := write(t, "\ufeff{\"id\":\"a\"}\n\n  \n{\"id\":\"b\",\"text\":\""+long+"\"}\r\n{\"id\":\"c\"}")
	var pos []string
	var ids []string
	err := Each(p, func(at string, line []byte) error {
		var r row
		if err := Decode(line, &r); err != nil {
			return err
		}
		pos, ids = append(pos, at), append(ids, r.ID)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{p + ":1", p + ":4", p + ":5"}
	if strings.Join(pos, ",") != strings.Join(want, ",") || strings.Join(ids, "") != "abc" {
		t.Fatalf("positions %v ids %v, want %v abc", pos, ids, want)
	}
}

func TestReadNamesTheBadLine(t *testing.T) {
	t.Parallel()
	p := write(t, "{\"id\":\"a\"}\n{\"id\":\"b\"} {\"id\":\"c\"}\n")
	_, err := Read[row](p, nil)
	if err == nil || !strings.HasPrefix(err.Error(), p+":2: ") || !strings.Contains(err.Error(), "trailing data") {
		t.Fatalf("err = %v, want %s:2: ... trailing data", err, p)
	}
	p = write(t, "{\"id\":\"a\"}\n{\"id\":\"\"}\n")
	_, err = Read(p, func(r *row) error {
		if r.ID == "" {
			return errors.New(`missing "id"`)
		}
		return nil
	})
	if err == nil || err.Error() != p+`:2: missing "id"` {
		t.Fatalf("err = %v", err)
	}
}

func TestTornLastLine(t *testing.T) {
	t.Parallel()
	p := write(t, "{\"id\":\"a\"}\n{\"id\":\"b\",\"te")
	_, err := Read[row](p, nil)
	if !errors.Is(err, ErrTorn) || !strings.HasPrefix(err.Error(), p+":2: ") {
		t.Fatalf("err = %v, want a torn line 2", err)
	}
	// The same bad line followed by a newline is not torn.
	p2 := write(t, "{\"id\":\"b\",\"te\n{\"id\":\"a\"}\n")
	if _, err := Read[row](p2, nil); err == nil || errors.Is(err, ErrTorn) {
		t.Fatalf("err = %v, want a plain error", err)
	}
	if err := TrimTorn(p); err != nil {
		t.Fatal(err)
	}
	rows, err := Read[row](p, nil)
	if err != nil || len(rows) != 1 || rows[0].ID != "a" {
		t.Fatalf("after TrimTorn: %v %v", rows, err)
	}
}

func TestWriterIsAtomic(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	p := filepath.Join(dir, "out.jsonl")
	if err := os.WriteFile(p, []byte("old\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	w, err := Create(p)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Encode(row{ID: "a", Text: "<b> & c"}); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(p); string(b) != "old\n" {
		t.Fatalf("final name changed before Commit: %q", b)
	}
	w.Abort()
	if b, _ := os.ReadFile(p); string(b) != "old\n" {
		t.Fatalf("Abort touched the final file: %q", b)
	}
	if err := WriteFile(p, []row{{ID: "a", Text: "<b> & c"}, {ID: "b"}}); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(p)
	if string(b) != "{\"id\":\"a\",\"text\":\"<b> & c\"}\n{\"id\":\"b\",\"text\":\"\"}\n" {
		t.Fatalf("wrote %q", b)
	}
	if st, _ := os.Stat(p); st.Mode().Perm() != 0o644 {
		t.Fatalf("mode %v, want 0644", st.Mode().Perm())
	}
	ents, _ := os.ReadDir(dir)
	if len(ents) != 1 {
		t.Fatalf("temporaries left behind: %v", ents)
	}
}

func TestWriterCommitFailsCleanly(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	target := filepath.Join(dir, "sub")
	if err := os.Mkdir(target, 0o755); err != nil {
		t.Fatal(err)
	}
	// Renaming a file over a non-empty folder fails: Commit must say so and clean up.
	if err := os.WriteFile(filepath.Join(target, "x"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := WriteJSON(target, map[string]int{"a": 1}); err == nil {
		t.Fatal("Commit over a folder succeeded")
	}
	ents, _ := os.ReadDir(dir)
	if len(ents) != 1 {
		t.Fatalf("temporaries left behind: %v", ents)
	}
}

func TestLogConcurrentAppends(t *testing.T) {
	t.Parallel()
	p := filepath.Join(t.TempDir(), "log.jsonl")
	l, err := CreateLog(p)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range 50 {
				if err := l.Append(row{ID: strings.Repeat(string(rune('a'+i)), j+1)}); err != nil {
					t.Error(err)
				}
			}
		}()
	}
	wg.Wait()
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	rows, err := Read[row](p, nil)
	if err != nil || len(rows) != 400 {
		t.Fatalf("%d rows, %v", len(rows), err)
	}
	l, _ = OpenLog(p)
	l.Append(row{ID: "z"})
	l.Close()
	if rows, _ := Read[row](p, nil); len(rows) != 401 {
		t.Fatalf("OpenLog did not append: %d rows", len(rows))
	}
}

func FuzzEach(f *testing.F) {
	f.Add([]byte("{\"id\":\"a\"}\n\n{\"id\":\"b\"}"))
	f.Add([]byte("\ufeff{\"id\":1}\r\n{"))
	f.Add([]byte("\n\n\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		p := filepath.Join(t.TempDir(), "f.jsonl")
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		n := 0
		err := Each(p, func(pos string, line []byte) error {
			n++
			if len(line) == 0 || !strings.HasPrefix(pos, p+":") {
				t.Fatalf("empty line or bad position %q", pos)
			}
			var v any
			return Decode(line, &v)
		})
		// Objects are JSON values: where Read accepts every line, so does Each, line for line.
		rows, rerr := Read[map[string]any](p, nil)
		if rerr == nil && (err != nil || len(rows) != n) {
			t.Fatalf("Read found %d rows, Each %d lines (%v)", len(rows), n, err)
		}
	})
}

func TestWriterToDevice(t *testing.T) {
	t.Parallel()
	if err := WriteFile(os.DevNull, []row{{ID: "a"}}); err != nil {
		t.Fatalf("writing to %s: %v", os.DevNull, err)
	}
}
