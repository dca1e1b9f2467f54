package web

import (
	"os/exec"
	"strings"
	"testing"
)

// TestShimUnderNode runs wasi.test.mjs with Node (20 or newer) when it is installed.
func TestShimUnderNode(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node not installed; the WASI shim test needs Node 20+")
	}
	v, _ := exec.Command(node, "--version").Output()
	if major := strings.TrimPrefix(strings.SplitN(string(v), ".", 2)[0], "v"); len(major) < 2 || major < "20" {
		t.Skipf("node %s is older than 20", strings.TrimSpace(string(v)))
	}
	out, err := exec.Command(node, "--test", "wasi.test.mjs").CombinedOutput()
	if err != nil {
		t.Fatalf("node --test wasi.test.mjs: %v\n%s", err, out)
	}
}
