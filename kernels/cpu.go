package kernels

import (
	"fmt"
	"runtime"

	"golang.org/x/sys/cpu"
)

// The instruction set the kernels use, chosen once at start-up from the CPU's features
// and changeable (for tests and benchmarks) with SetISA.
const (
	Generic = "generic" // pure Go: the oracle, and the fallback on any CPU
	AVX2    = "avx2"    // AVX2 + FMA
	AVX512  = "avx512"  // AVX-512 F (+ VL, BW, DQ)
)

var isa = detectISA()

func detectISA() string {
	if runtime.GOARCH != "amd64" {
		return Generic // the assembly exists for amd64 only
	}
	x := cpu.X86
	switch {
	case x.HasAVX512F && x.HasAVX512VL && x.HasAVX512BW && x.HasAVX512DQ:
		return AVX512
	case x.HasAVX2 && x.HasFMA:
		return AVX2
	}
	return Generic
}

// ISA returns the instruction set in use.
func ISA() string { return isa }

// Supported lists the instruction sets this CPU can run, best first.
func Supported() []string {
	switch detectISA() {
	case AVX512:
		return []string{AVX512, AVX2, Generic}
	case AVX2:
		return []string{AVX2, Generic}
	}
	return []string{Generic}
}

// SetISA selects the instruction set for all kernels. It is not safe to call while
// kernels run.
func SetISA(name string) error {
	for _, s := range Supported() {
		if s == name {
			isa = name
			return nil
		}
	}
	return fmt.Errorf("kernels: instruction set %q is not supported here (have %v)", name, Supported())
}
