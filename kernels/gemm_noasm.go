//go:build !amd64 || purego

package kernels

// gemmKernelFor returns the pure-Go kernel: there is no assembly for this target.
func gemmKernelFor(string) *gemmKernel { return gemmGeneric }
