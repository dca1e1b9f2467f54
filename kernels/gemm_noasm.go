//go:build !amd64 || purego

package kernels

// gemmKernelFor returns the pure-Go kernel: there is no assembly for this target.
func gemmKernelFor(string) *gemmKernel { return gemmGeneric }

const gemmAsmPack = false

func gemmTransposeF32(*float32, int, *float32, int, int, int)  { panic("unreachable") }
func gemmTransposeBF16(*float32, int, *uint16, int, int, int)  { panic("unreachable") }
func gemmCopyRows(*float32, int, int, *float32, int, int, int) { panic("unreachable") }
func gemmWidenRows(*float32, int, *uint16, int, int, int)      { panic("unreachable") }
