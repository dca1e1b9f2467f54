package tokenizer

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
)

// TestLines: one answer per non-blank line, in order, for text and ids; a bad line stops
// with its number after the lines before it; an ended context stops before the next line.
func TestLines(t *testing.T) {
	t.Parallel()
	tk, err := Load(filepath.Join("testdata", "train", "tokenizer.json"))
	if err != nil {
		t.Fatal(err)
	}
	ids, _ := json.Marshal(tk.Encode("hello world", false))
	var out strings.Builder
	in := `{"text":"hello world"}` + "\n\n" + `{"ids":` + string(ids) + "}\n" + `{"text":""}`
	if err := tk.Lines(context.Background(), strings.NewReader(in), &out, LineOptions{}); err != nil {
		t.Fatal(err)
	}
	want := `{"ids":` + string(ids) + "}\n" + `{"text":"hello world"}` + "\n" + `{"ids":[]}` + "\n"
	if out.String() != want {
		t.Fatalf("got %q, want %q", out.String(), want)
	}
	out.Reset()
	err = tk.Lines(context.Background(), strings.NewReader(`{"text":"a"}`+"\n"+`{"ids":[-1]}`+"\n"), &out, LineOptions{})
	if err == nil || !strings.HasPrefix(err.Error(), "line 2: token id -1 is outside the vocabulary") || strings.Count(out.String(), "\n") != 1 {
		t.Fatalf("bad line: %v, output %q", err, out.String())
	}
	if _, err := tk.Line([]byte(`{"other":1}`), LineOptions{}); err == nil || err.Error() != `need "text", "messages" or "ids"` {
		t.Fatalf("no known key: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := tk.Lines(ctx, strings.NewReader(`{"text":"a"}`), &out, LineOptions{}); err == nil || err.Error() != "interrupted after 0 lines" {
		t.Fatalf("cancelled: %v", err)
	}
}
