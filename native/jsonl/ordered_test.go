package jsonl

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestMapOrderedConcurrent: MapOrdered really has `workers` calls in flight at once (each
// call here waits until all four are), and still writes rows in input order.
func TestMapOrderedConcurrent(t *testing.T) {
	t.Parallel()
	const workers, n = 4, 12
	var mu sync.Mutex
	inFlight, peak := 0, 0
	release := make(chan struct{})
	var once sync.Once
	work := func(ctx context.Context, i int) ([]any, error) {
		mu.Lock()
		inFlight++
		peak = max(peak, inFlight)
		if inFlight == workers {
			once.Do(func() { close(release) })
		}
		mu.Unlock()
		select {
		case <-release:
		case <-time.After(10 * time.Second):
			return nil, errors.New("the other workers never started")
		}
		time.Sleep(time.Duration(n-i) * time.Millisecond) // later rows finish first
		mu.Lock()
		inFlight--
		mu.Unlock()
		return []any{map[string]int{"row": i}}, nil
	}
	var buf bytes.Buffer
	finished := 0
	written, err := MapOrdered(context.Background(), n, workers, work, &buf, func() { finished++ })
	if err != nil || written != n || peak != workers || finished != n {
		t.Fatalf("written %d, finished %d, peak %d in flight (want %d), err %v", written, finished, peak, workers, err)
	}
	for i, l := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
		if l != fmt.Sprintf(`{"row":%d}`, i) {
			t.Fatalf("line %d is %s", i, l)
		}
	}
}

// TestMapOrderedStops: after an error, or when the context ends, no further row starts,
// and the rows before the first unfinished one are written.
func TestMapOrderedStops(t *testing.T) {
	t.Parallel()
	boom := errors.New("boom")
	var buf bytes.Buffer
	written, err := MapOrdered(context.Background(), 10, 1, func(ctx context.Context, i int) ([]any, error) {
		if i == 3 {
			return nil, boom
		}
		return []any{i}, nil
	}, &buf, nil)
	if !errors.Is(err, boom) || written != 3 || buf.String() != "0\n1\n2\n" {
		t.Fatalf("error: written %d %q, err %v", written, buf.String(), err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	buf.Reset()
	written, err = MapOrdered(ctx, 10, 1, func(ctx context.Context, i int) ([]any, error) {
		if i == 1 {
			cancel()
		}
		return []any{i}, nil
	}, &buf, nil)
	if err == nil || err.Error() != "interrupted: the first 2 of 10 rows are written" || written != 2 || buf.String() != "0\n1\n" {
		t.Fatalf("cancelled: written %d %q, err %v", written, buf.String(), err)
	}
}
