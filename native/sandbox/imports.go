package sandbox

import (
	"errors"
	"fmt"
)

// wasmImport is one entry of a module's import section.
type wasmImport struct {
	module, name, kind string
}

var importKinds = map[byte]string{0: "function", 1: "table", 2: "memory", 3: "global", 4: "tag"}

// importsOf lists the import section of a binary that wazero has already compiled
// (so its structure is valid). wazero reports imported functions and memories but not
// tables, globals or tags, which the host refuses as well: a module may import nothing
// but wasi_snapshot_preview1 functions.
func importsOf(b []byte) ([]wasmImport, error) {
	r := reader{b: b, off: 8} // after "\0asm" and the version
	for r.off < len(r.b) {
		id := r.byte()
		size := r.u32()
		if r.err != nil || size > uint32(len(r.b)-r.off) {
			return nil, errors.New("truncated section")
		}
		if id != 2 {
			r.off += int(size)
			continue
		}
		sec := reader{b: r.b[:r.off+int(size)], off: r.off}
		var out []wasmImport
		for n := sec.u32(); n > 0 && sec.err == nil; n-- {
			mod, name := sec.name(), sec.name()
			k := sec.byte()
			kind, ok := importKinds[k]
			if !ok {
				kind = fmt.Sprintf("kind %#x", k)
			}
			out = append(out, wasmImport{mod, name, kind})
			switch k {
			case 0: // function: type index
				sec.u32()
			case 1: // table: reference type, limits
				sec.byte()
				sec.limits()
			case 2: // memory: limits
				sec.limits()
			case 3: // global: value type, mutability
				sec.byte()
				sec.byte()
			case 4: // tag: attribute, type index
				sec.byte()
				sec.u32()
			default:
				return out, nil // cannot skip an unknown kind; what was read is enough
			}
		}
		return out, sec.err
	}
	return nil, r.err
}

type reader struct {
	b   []byte
	off int
	err error
}

func (r *reader) byte() byte {
	if r.err != nil || r.off >= len(r.b) {
		r.err = errors.New("truncated")
		return 0
	}
	r.off++
	return r.b[r.off-1]
}

// u32 reads an unsigned LEB128 number (wasm encodes at most 5 bytes for a u32).
func (r *reader) u32() uint32 {
	var v uint32
	for shift := 0; shift < 35; shift += 7 {
		c := r.byte()
		v |= uint32(c&0x7f) << shift
		if c&0x80 == 0 {
			return v
		}
	}
	r.err = errors.New("bad LEB128")
	return 0
}

// u64 reads an unsigned LEB128 number of up to 64 bits (memory64 limits).
func (r *reader) u64() {
	for i := 0; i < 10; i++ {
		if r.byte()&0x80 == 0 {
			return
		}
	}
	r.err = errors.New("bad LEB128")
}

func (r *reader) limits() {
	flags := r.byte()
	r.u64() // min
	if flags&1 != 0 {
		r.u64() // max
	}
}

func (r *reader) name() string {
	n := r.u32()
	if r.err != nil || n > uint32(len(r.b)-r.off) {
		r.err = errors.New("truncated name")
		return ""
	}
	s := string(r.b[r.off : r.off+int(n)])
	r.off += int(n)
	return s
}
