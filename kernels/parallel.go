package kernels

import (
	"runtime"
	"sync"
)

// parallelRows splits [0, m) into contiguous chunks run on up to GOMAXPROCS goroutines,
// keeping small problems on the calling goroutine where spawning costs more than it saves.
func parallelRows(m, n, k int, f func(i0, i1 int)) {
	workers := runtime.GOMAXPROCS(0)
	if work := m * n * k; work < 1<<16 || m < 2 || workers < 2 {
		f(0, m)
		return
	}
	if workers > m {
		workers = m
	}
	var wg sync.WaitGroup
	chunk := (m + workers - 1) / workers
	for i0 := 0; i0 < m; i0 += chunk {
		i1 := min(i0+chunk, m)
		wg.Add(1)
		go func() {
			defer wg.Done()
			f(i0, i1)
		}()
	}
	wg.Wait()
}

// ParallelFor runs f(i) for i in [0, n) on up to GOMAXPROCS goroutines.
func ParallelFor(n int, f func(i int)) {
	workers := min(runtime.GOMAXPROCS(0), n)
	if workers <= 1 {
		for i := 0; i < n; i++ {
			f(i)
		}
		return
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	next := 0
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				mu.Lock()
				i := next
				next++
				mu.Unlock()
				if i >= n {
					return
				}
				f(i)
			}
		}()
	}
	wg.Wait()
}

// ParallelRange splits [0, n) into one contiguous chunk per worker and runs f on each,
// or runs f(0, n) on the caller when n·cost (cost: rough work per item, e.g. its
// length) is too small for goroutines to pay off.
func ParallelRange(n, cost int, f func(lo, hi int)) {
	workers := min(runtime.GOMAXPROCS(0), n)
	if workers <= 1 || n*cost < 1<<15 {
		f(0, n)
		return
	}
	var wg sync.WaitGroup
	chunk := (n + workers - 1) / workers
	for lo := chunk; lo < n; lo += chunk {
		wg.Add(1)
		go func() {
			defer wg.Done()
			f(lo, min(lo+chunk, n))
		}()
	}
	f(0, min(chunk, n))
	wg.Wait()
}
