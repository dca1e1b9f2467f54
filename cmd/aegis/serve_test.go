package main

import (
	"strings"
	"testing"
)

// TestServeNeedsToken: binding beyond loopback without --token is a usage error.
func TestServeNeedsToken(t *testing.T) {
	_, errOut, code := aegis(t, "serve", "--addr", "0.0.0.0:0", "--runs", t.TempDir())
	if code != 2 || !strings.Contains(errOut, "--token") {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if _, errOut, code := aegis(t, "serve", "--model", t.TempDir(), "--runs", t.TempDir(), "--addr", "127.0.0.1:0"); code != 1 || strings.Count(errOut, "\n") != 1 {
		t.Fatalf("bad --model: exit %d: %q", code, errOut)
	}
}
