package main

import (
	"bytes"
	"os"
	"testing"
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
