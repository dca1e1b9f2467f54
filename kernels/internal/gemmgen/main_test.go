package main

import (
	"bytes"
	"os"
	"testing"
)

// TestGeneratedCurrent checks that the committed kernels/gemm_amd64.s is what gemmgen
// writes: edit the generator, then run go generate in kernels.
func TestGeneratedCurrent(t *testing.T) {
	want, err := source()
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile("../../gemm_amd64.s")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatal("kernels/gemm_amd64.s is not what gemmgen writes: run `go generate` in kernels")
	}
}
