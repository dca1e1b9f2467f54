// Package kernels holds the compute kernels of aegis: GEMM, dtype conversion and the
// element-wise loops of the numeric core. Each kernel has a plain Go version that is the
// tests' oracle; faster versions, where they exist, are chosen at run time.
package kernels
