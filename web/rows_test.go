package web

import (
	"os/exec"
	"strings"
	"testing"
)

// TestOfflineRowsUnderNode runs rows.test.mjs (the offline page's JSONL reader: each
// attempt of an eval's results.jsonl once) with Node 20+ when it is installed.
func TestOfflineRowsUnderNode(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node not installed; the offline reader's test needs Node 20+")
	}
	v, _ := exec.Command(node, "--version").Output()
	if major := strings.TrimPrefix(strings.SplitN(string(v), ".", 2)[0], "v"); len(major) < 2 || major < "20" {
		t.Skipf("node %s is older than 20", strings.TrimSpace(string(v)))
	}
	out, err := exec.Command(node, "--test", "rows.test.mjs").CombinedOutput()
	if err != nil {
		t.Fatalf("node --test rows.test.mjs: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "# pass 3") {
		t.Fatalf("not every test ran:\n%s", out)
	}
}
