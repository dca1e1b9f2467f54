package main

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestExperimentSecvecFlags: --help explains the experiment and its figures; a bad
// flag, a stray argument and a missing model are one error line each, before any work.
// (TestSecVecExperiment in internal/demo runs the experiment itself.)
func TestExperimentSecvecFlags(t *testing.T) {
	t.Parallel()
	stdout, _, code := aegis(t, "experiment", "secvec", "--help")
	if code != 0 {
		t.Fatalf("--help: exit %d", code)
	}
	for _, w := range []string{"harmful_rate", "benign_helpfulness", "security vector", "-ft-lr", "-vector-examples", "aegis serve"} {
		if !strings.Contains(stdout, w) {
			t.Errorf("--help does not mention %q:\n%s", w, stdout)
		}
	}
	for _, args := range [][]string{{"--ft-lr", "x"}, {"extra"}} {
		if _, errOut, code := aegis(t, append([]string{"experiment", "secvec"}, args...)...); code != 2 || strings.Count(strings.TrimSpace(errOut), "\n") != 0 {
			t.Errorf("%v: exit %d, stderr %q", args, code, errOut)
		}
	}
	_, errOut, code := aegis(t, "experiment", "secvec", "--model", filepath.Join(t.TempDir(), "none"), "--runs", t.TempDir())
	if code == 0 || strings.Count(strings.TrimSpace(errOut), "\n") != 0 {
		t.Errorf("missing model: exit %d, stderr %q", code, errOut)
	}
}
