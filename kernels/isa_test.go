package kernels

import "testing"

// forEachISA runs f once under every instruction set this CPU supports, as a subtest
// when t is a *testing.T (benchmarks run it inline), restoring the ISA afterwards.
func forEachISA[TB testing.TB](t TB, f func(t TB)) {
	saved := ISA()
	defer SetISA(saved)
	for _, name := range Supported() {
		if err := SetISA(name); err != nil {
			t.Fatal(err)
		}
		if tt, ok := any(t).(*testing.T); ok {
			tt.Run(name, func(t *testing.T) { f(any(t).(TB)) })
		} else {
			f(t)
		}
	}
}
