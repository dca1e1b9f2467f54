package main

import (
	"bytes"
	"os"
	"strings"
	"testing"

	"github.com/aegis-safety/aegis/wasm/judge/classify"
)

const corpus = "../../data/judge.jsonl"

// TestWeightsCurrent retrains on the committed corpus and checks that the committed
// weights are what training gives: the module embeds exactly what the repo's data and
// code make.
func TestWeightsCurrent(t *testing.T) {
	if testing.Short() {
		t.Skip("skipped in -short: trains the judge")
	}
	rows, err := read(corpus)
	if err != nil {
		t.Fatal(err)
	}
	train, _ := splitRows(rows)
	got := fit(train, defaultConfig()).Marshal()
	want, err := os.ReadFile("../../classify/weights.bin")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatal("wasm/judge/classify/weights.bin is stale: run `task wasm:judge:train`")
	}
}

// TestReportDocumented evaluates the committed weights on the held-out test split and
// requires README.md to quote the resulting metric and per-category tables exactly: the
// documented numbers are what the shipped judge measures. It also checks that the test
// split is held out: no prompt of it is a training prompt.
func TestReportDocumented(t *testing.T) {
	rows, err := read(corpus)
	if err != nil {
		t.Fatal(err)
	}
	train, test := splitRows(rows)
	trainPrompts := map[string]bool{}
	for _, r := range train {
		trainPrompts[r.Prompt] = true
	}
	for _, r := range test {
		if trainPrompts[r.Prompt] {
			t.Fatalf("held-out prompt %q is also in the training split", r.Prompt)
		}
	}
	var buf bytes.Buffer
	report(&buf, classify.Default(), test)
	doc, err := os.ReadFile("../../../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	tables := strings.SplitN(buf.String(), "\n\n", 3) // metrics, categories, the rest
	for _, l := range strings.Split(tables[0]+"\n"+tables[1], "\n") {
		if strings.HasPrefix(l, "| ") && !strings.HasPrefix(l, "|---") && !strings.Contains(string(doc), l) {
			t.Errorf("README.md does not say %q; the report is:\n%s", l, buf.String())
		}
	}
}
