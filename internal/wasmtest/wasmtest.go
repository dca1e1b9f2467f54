// Package wasmtest builds tiny WebAssembly modules for tests: a module of the aegis ABI
// v1 whose manifest and answer are fixed strings, with no toolchain needed.
package wasmtest

import "bytes"

// Module encodes a minimal ABI v1 module by hand: its manifest is manifest, and aegis_run
// answers output whatever the input. Its memory is one 64 KiB page: the manifest must
// fit in 2,000 bytes and the output in 6,000 (the input goes at 8 KiB).
func Module(manifest, output string) []byte {
	uleb := func(v uint64) []byte {
		var b []byte
		for {
			c := byte(v & 0x7f)
			v >>= 7
			if v != 0 {
				c |= 0x80
			}
			b = append(b, c)
			if v == 0 {
				return b
			}
		}
	}
	sleb := func(v int64) []byte {
		var b []byte
		for {
			c := byte(v & 0x7f)
			v >>= 7
			if (v == 0 && c&0x40 == 0) || (v == -1 && c&0x40 != 0) {
				return append(b, c)
			}
			b = append(b, c|0x80)
		}
	}
	vec := func(items ...[]byte) []byte {
		out := uleb(uint64(len(items)))
		for _, it := range items {
			out = append(out, it...)
		}
		return out
	}
	section := func(id byte, body []byte) []byte {
		return append(append([]byte{id}, uleb(uint64(len(body)))...), body...)
	}
	name := func(s string) []byte { return append(uleb(uint64(len(s))), s...) }
	cat := func(bs ...[]byte) []byte { return bytes.Join(bs, nil) }
	const manAt, outAt = 16, 2048
	packed := func(at, n int) []byte { return sleb(int64(at)<<32 | int64(n)) }
	body := func(code ...byte) []byte { b := append([]byte{0}, code...); return append(uleb(uint64(len(b))), b...) }

	types := vec([]byte{0x60, 0, 1, 0x7f}, []byte{0x60, 1, 0x7f, 1, 0x7f}, []byte{0x60, 1, 0x7f, 0}, []byte{0x60, 0, 1, 0x7e}, []byte{0x60, 2, 0x7f, 0x7f, 1, 0x7e})
	funcs := vec([]byte{0}, []byte{1}, []byte{2}, []byte{3}, []byte{4})
	exports := vec(cat(name("memory"), []byte{2, 0}), cat(name("aegis_abi_version"), []byte{0, 0}), cat(name("aegis_alloc"), []byte{0, 1}),
		cat(name("aegis_free"), []byte{0, 2}), cat(name("aegis_manifest"), []byte{0, 3}), cat(name("aegis_run"), []byte{0, 4}))
	code := vec(body(0x41, 1, 0x0b), body(cat([]byte{0x41}, sleb(8192), []byte{0x0b})...), body(0x0b),
		body(cat([]byte{0x42}, packed(manAt, len(manifest)), []byte{0x0b})...), body(cat([]byte{0x42}, packed(outAt, len(output)), []byte{0x0b})...))
	data := vec(cat([]byte{0, 0x41}, sleb(manAt), []byte{0x0b}, name(manifest)), cat([]byte{0, 0x41}, sleb(outAt), []byte{0x0b}, name(output)))
	return cat([]byte("\x00asm\x01\x00\x00\x00"), section(1, types), section(3, funcs), section(5, vec([]byte{0, 1})), section(7, exports),
		section(10, code), section(11, data))
}
