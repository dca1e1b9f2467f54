package kernels

import (
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// The GEMM team: helper goroutines that stay around between products and spin for a
// while after each one before they park.
//
// Waking a parked goroutine's thread costs tens of microseconds, more on a virtual
// machine whose idle vCPU has halted: as long as a mid-sized product takes on two
// cores. BLAS libraries keep their threads spinning after a call for the same reason.
// The caller works on its own job from the start, and the units of a job are claimed
// one at a time, so a helper that starts late only does less of it.

const (
	// gemmSpinIdle is how long an idle helper spins, yielding, waiting for the next job
	// before it parks.
	gemmSpinIdle = 200 * time.Microsecond
	// gemmSpinWait is how long a worker spins at a phase boundary before it starts to
	// sleep between checks.
	gemmSpinWait = 2 * time.Millisecond
)

var gemmTeam struct {
	mu      sync.Mutex // held by the caller whose job the team works on
	job     atomic.Pointer[gemmJob]
	seq     uint64 // jobs published, under mu
	helpers []*gemmHelper
}

type gemmHelper struct {
	parked atomic.Bool
	wake   chan struct{}
}

// gemmTeamRun does j on the calling goroutine and up to workers-1 helpers, returning when
// it is done. If another goroutine's product has the team, j runs on the caller alone:
// the processors are busy anyway.
func gemmTeamRun(j *gemmJob, workers int) {
	t := &gemmTeam
	if workers <= 1 || !t.mu.TryLock() {
		j.work()
		return
	}
	defer t.mu.Unlock()
	for len(t.helpers) < workers-1 {
		h := &gemmHelper{wake: make(chan struct{}, 1)}
		t.helpers = append(t.helpers, h)
		go h.run()
	}
	t.seq++
	j.seq = t.seq
	t.job.Store(j)
	for _, h := range t.helpers[:workers-1] {
		if h.parked.CompareAndSwap(true, false) {
			h.wake <- struct{}{}
		}
	}
	j.work()
	j.phases[len(j.phases)-1].wait()
	// Drop the job so that helpers do not keep the caller's matrices reachable; one that
	// still holds it finds nothing left to claim.
	t.job.Store(nil)
}

func (h *gemmHelper) run() {
	var last uint64
	for {
		j := h.await(last)
		last = j.seq
		j.work()
	}
}

// await returns the next job after the one numbered last, spinning for gemmSpinIdle and
// then parking until a caller wakes the helper.
func (h *gemmHelper) await(last uint64) *gemmJob {
	t := &gemmTeam
	fresh := func() *gemmJob {
		if j := t.job.Load(); j != nil && j.seq != last {
			return j
		}
		return nil
	}
	start := time.Now()
	for i := 0; ; i++ {
		if j := fresh(); j != nil {
			return j
		}
		if i%64 == 63 && time.Since(start) > gemmSpinIdle {
			break
		}
		runtime.Gosched()
	}
	for {
		h.parked.Store(true)
		if j := fresh(); j != nil {
			if !h.parked.CompareAndSwap(true, false) {
				<-h.wake // a caller saw us parked and is sending
			}
			return j
		}
		<-h.wake
		if j := fresh(); j != nil {
			return j
		}
	}
}
