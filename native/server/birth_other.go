//go:build !linux

package server

import "time"

// created is when the file at path was created; unknown on this system.
func created(path string) (time.Time, bool) { return time.Time{}, false }
