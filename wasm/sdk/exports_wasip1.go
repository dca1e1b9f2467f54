//go:build wasip1

package sdk

import (
	"unsafe"

	"github.com/aegis-safety/aegis/shared"
)

// pinned keeps every buffer handed to the host reachable until aegis_free: the host holds
// only an integer address, which the garbage collector cannot see. Go's collector does not
// move objects, so a reachable buffer keeps its address.
var pinned = map[uint32][]byte{}

// pin records b and returns its address in linear memory.
func pin(b []byte) uint32 {
	if len(b) == 0 {
		b = make([]byte, 1) // a real address even for an empty document
	}
	p := uint32(uintptr(unsafe.Pointer(&b[0])))
	pinned[p] = b
	return p
}

//go:wasmexport aegis_abi_version
func abiVersion() int32 { return shared.ABIVersion }

//go:wasmexport aegis_alloc
func alloc(size int32) uint32 {
	if size < 0 {
		return 0
	}
	return pin(make([]byte, size))
}

//go:wasmexport aegis_free
func free(ptr uint32) { delete(pinned, ptr) }

//go:wasmexport aegis_manifest
func exportManifest() uint64 {
	b := Manifest()
	return shared.Pack(pin(b), uint32(len(b)))
}

//go:wasmexport aegis_run
func run(ptr, n uint32) uint64 {
	in, ok := pinned[ptr]
	if !ok || int(n) > len(in) {
		b := errorJSON("aegis_run: input was not allocated with aegis_alloc")
		return shared.Pack(pin(b), uint32(len(b)))
	}
	out := Call(in[:n])
	return shared.Pack(pin(out), uint32(len(out)))
}
