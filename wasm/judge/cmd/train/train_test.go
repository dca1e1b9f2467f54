package main

import (
	"bytes"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/aegis-safety/aegis/wasm/judge/classify"
)

// TestWeightsCurrent retrains on the committed data and checks that the committed weights
// are what training gives: the module embeds exactly what the repo's data and code make.
func TestWeightsCurrent(t *testing.T) {
	rows, err := read("../../data/judge.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	var train []*row
	for _, r := range rows {
		if r.Split != "test" {
			train = append(train, r)
		}
	}
	for _, r := range train {
		r.f = featuresOf(r)
	}
	got := fit(train, 60).Marshal()
	want, err := os.ReadFile("../../classify/weights.bin")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatal("wasm/judge/classify/weights.bin is stale: run go run ./wasm/judge/cmd/train")
	}
}

// TestReportDocumented evaluates the committed weights on the held-out test split and
// requires wasm/README.md to quote the resulting precision/recall table and category
// figure exactly: the documented numbers are what the shipped judge measures.
func TestReportDocumented(t *testing.T) {
	rows, err := read("../../data/judge.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	var test []*row
	trainPrompts := map[string]bool{}
	for _, r := range rows {
		if r.Split == "test" {
			test = append(test, r)
		} else {
			trainPrompts[r.Prompt] = true
		}
	}
	for _, r := range test {
		if trainPrompts[r.Prompt] {
			t.Fatalf("held-out prompt %q is also in the training split", r.Prompt)
		}
	}
	var buf bytes.Buffer
	report(&buf, classify.Default(), test)
	doc, err := os.ReadFile("../../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, l := range strings.Split(buf.String(), "\n") {
		if strings.HasPrefix(l, "| unsafe (learned)") || strings.HasPrefix(l, "| refusal (") {
			want = append(want, l)
		}
		if n, ok := strings.CutPrefix(l, "category top-1 accuracy on correctly flagged unsafe rows: "); ok {
			want = append(want, "(top-1 "+n+")")
		}
	}
	want = append(want, fmt.Sprintf("Held-out test split (%d rows", len(test)))
	if len(want) != 5 {
		t.Fatalf("report has an unexpected shape:\n%s", buf.String())
	}
	for _, w := range want {
		if !strings.Contains(string(doc), w) {
			t.Errorf("wasm/README.md does not say %q; the report is:\n%s", w, buf.String())
		}
	}
}
