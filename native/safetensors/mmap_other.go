//go:build !unix

package safetensors

import (
	"io"
	"os"
)

// mapFile reads the first size bytes of f into memory, where mmap is unavailable
// (wasip1, js, windows, plan9).
func mapFile(f *os.File, size int) ([]byte, func([]byte) error, error) {
	data := make([]byte, size)
	if _, err := io.ReadFull(io.NewSectionReader(f, 0, int64(size)), data); err != nil {
		return nil, nil, err
	}
	return data, func([]byte) error { return nil }, nil
}
