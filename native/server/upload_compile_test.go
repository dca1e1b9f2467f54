package server

import (
	"bytes"
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// nestedWasm is a module of n functions () -> () whose bodies each nest depth empty
// blocks (3 bytes a level), with no exports: slow to compile when deep and many.
func nestedWasm(n, depth int) []byte {
	uleb := func(b []byte, v int) []byte {
		for ; v >= 0x80; v >>= 7 {
			b = append(b, byte(v&0x7f)|0x80)
		}
		return append(b, byte(v))
	}
	body := []byte{0}
	for range depth {
		body = append(body, 0x02, 0x40)
	}
	body = append(body, bytes.Repeat([]byte{0x0b}, depth+1)...)
	funcs, code := uleb(nil, n), uleb(nil, n)
	for range n {
		funcs = append(funcs, 0)
		code = append(uleb(code, len(body)), body...)
	}
	section := func(b []byte, id byte, c []byte) []byte { return append(uleb(append(b, id), len(c)), c...) }
	m := section([]byte("\x00asm\x01\x00\x00\x00"), 1, []byte{1, 0x60, 0, 0})
	return section(section(m, 3, funcs), 10, code)
}

// TestUploadCompileBounded: an uploaded module whose compilation would take minutes is
// refused at once when one function nests too deep, and a slow one is given up on when
// its client goes away, so that the server's two module checks are free again for the
// next upload.
func TestUploadCompileBounded(t *testing.T) {
	_, ts := newServer(t, Options{})
	start := time.Now()
	code, body := upload(t, ts.URL, nestedWasm(1, 100_000))
	if code != 400 || !strings.Contains(body, "nests blocks more than 4096 deep") || time.Since(start) > 3*time.Second {
		t.Fatalf("100,000 nested blocks: %d %s after %v", code, body, time.Since(start))
	}

	slow := nestedWasm(400, 3000) // seconds of compilation
	var wg sync.WaitGroup
	for range 2 { // as many as the server checks at once
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
			defer cancel()
			req, _ := http.NewRequestWithContext(ctx, http.MethodPost, ts.URL+"/api/modules", bytes.NewReader(slow))
			if res, err := http.DefaultClient.Do(req); err == nil {
				res.Body.Close()
				t.Errorf("the slow upload was answered (%d) before its client gave up", res.StatusCode)
			}
		}()
	}
	wg.Wait()
	start = time.Now()
	mod := wasmModule(`{"abi":1,"name":"quick","kind":"attack","version":"0","description":"x"}`, oneVariant)
	if code, body := upload(t, ts.URL, mod); code != 201 {
		t.Fatalf("upload after the abandoned ones: %d %s", code, body)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("the upload after two abandoned ones waited %v: their compilations went on", d)
	}
}
