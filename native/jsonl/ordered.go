package jsonl

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"sync"
)

// MapOrdered calls work on rows 0..n-1 from workers goroutines and writes each row's
// values to w as JSON lines in input order, as soon as every earlier row is done, so
// that a long run's output is usable while it runs. On an error or when ctx ends it hands
// out no more rows, lets the running ones finish and writes what is contiguous: finished
// work is never lost. done, when set, is called (one goroutine at a time) for each row
// finished. It returns how many rows were written.
func MapOrdered(ctx context.Context, n, workers int, work func(ctx context.Context, i int) ([]any, error), w io.Writer, done func()) (int, error) {
	results := make([][]any, n)
	ready := make([]bool, n)
	var (
		mu       sync.Mutex
		next     int // first row not yet handed out
		written  int // rows written so far
		firstErr error
		wg       sync.WaitGroup
	)
	bw := bufio.NewWriterSize(w, 1<<16)
	enc := json.NewEncoder(bw)
	enc.SetEscapeHTML(false)
	flush := func() { // with mu held
		for written < n && ready[written] {
			for _, v := range results[written] {
				if err := enc.Encode(v); err != nil && firstErr == nil {
					firstErr = err
				}
			}
			results[written] = nil
			written++
		}
	}
	for range max(1, workers) {
		wg.Go(func() {
			for {
				mu.Lock()
				if next >= n || firstErr != nil || ctx.Err() != nil {
					mu.Unlock()
					return
				}
				i := next
				next++
				mu.Unlock()
				out, err := work(ctx, i)
				mu.Lock()
				if err != nil {
					if firstErr == nil && ctx.Err() == nil {
						firstErr = err
					}
				} else {
					results[i], ready[i] = out, true
					flush()
					if done != nil {
						done()
					}
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if err := bw.Flush(); err != nil && firstErr == nil {
		firstErr = err
	}
	if firstErr == nil && ctx.Err() != nil {
		firstErr = fmt.Errorf("interrupted: the first %d of %d rows are written", written, n)
	}
	return written, firstErr
}
