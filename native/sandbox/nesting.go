package sandbox

import (
	"errors"
	"fmt"
)

// MaxNesting is the deepest nesting of blocks (block, loop, if, try) a module's function
// may have. wazero's optimizing compiler takes time quadratic in a function's nesting and
// checks for cancellation only between functions, so one function of 100,000 nested
// blocks (300 KB) would compile for about a minute, beyond the reach of a time limit.
// Compilers nest far less: Go's deepest function in the built-in modules nests a few
// hundred blocks.
const MaxNesting = 4096

// checkNesting scans the code section of a binary for a function nested deeper than max
// and names it. It is a cheap pass before compilation: it decodes instructions only to
// find where each ends, and leaves the rest of a function it cannot decode (an opcode it
// does not know) to the compiler's validation.
func checkNesting(b []byte, max int) error {
	r := reader{b: b, off: 8}
	imported := 0
	for r.off < len(r.b) {
		id := r.byte()
		size := r.u32()
		if r.err != nil || size > uint32(len(r.b)-r.off) {
			return nil // the compiler reports a malformed binary better
		}
		end := r.off + int(size)
		switch id {
		case 2:
			imported = countImportedFuncs(reader{b: r.b[:end], off: r.off})
		case 10:
			sec := reader{b: r.b[:end], off: r.off}
			for i, n := 0, int(sec.u32()); i < n && sec.err == nil; i++ {
				fsize := sec.u32()
				if sec.err != nil || fsize > uint32(len(sec.b)-sec.off) {
					return nil
				}
				fend := sec.off + int(fsize)
				if d, _ := funcNesting(sec.b[sec.off:fend], max); d > max {
					return fmt.Errorf("function %d nests blocks more than %d deep (the limit; compilers nest far less)", imported+i, max)
				}
				sec.off = fend
			}
			return nil
		}
		r.off = end
	}
	return nil
}

// countImportedFuncs counts the function imports of an import section.
func countImportedFuncs(sec reader) int {
	n := 0
	for k := sec.u32(); k > 0 && sec.err == nil; k-- {
		sec.name()
		sec.name()
		switch sec.byte() {
		case 0:
			sec.u32()
			n++
		case 1:
			sec.byte()
			sec.limits()
		case 2:
			sec.limits()
		case 3:
			sec.byte()
			sec.byte()
		case 4:
			sec.byte()
			sec.u32()
		default:
			return n
		}
	}
	return n
}

// errUnknownOp stops the scan of a function at an opcode the scanner does not know.
var errUnknownOp = errors.New("unknown opcode")

// funcNesting returns the deepest block nesting of a function body (its locals, then its
// instructions), stopping as soon as it exceeds max; a body it cannot decode counts as
// nested as far as it was read. complete says whether it read the body to its end.
func funcNesting(body []byte, max int) (deepest int, complete bool) {
	r := reader{b: body}
	for n := r.u32(); n > 0 && r.err == nil; n-- { // locals: count, value type
		r.u32()
		r.byte()
	}
	depth := 1 // the function's own block
	deepest = 1
	for r.err == nil && r.off < len(r.b) && depth > 0 {
		op := r.byte()
		switch op {
		case 0x02, 0x03, 0x04, 0x06: // block, loop, if, try: a block type
			r.s64()
			depth++
		case 0x1f: // try_table: a block type and catch clauses
			r.s64()
			for k := r.u32(); k > 0 && r.err == nil; k-- {
				if r.byte() < 2 { // catch, catch_ref: a tag
					r.u32()
				}
				r.u32() // the label
			}
			depth++
		case 0x0b: // end
			depth--
		case 0x18: // delegate: ends a try
			r.u32()
			depth--
		default:
			if err := skipImmediates(&r, op); err != nil {
				return deepest, false
			}
		}
		if depth > deepest {
			deepest = depth
			if deepest > max {
				return deepest, false
			}
		}
	}
	return deepest, r.err == nil && depth == 0 && r.off == len(r.b)
}

// skipImmediates reads the immediates of an instruction other than the block ones.
func skipImmediates(r *reader, op byte) error {
	switch {
	case op <= 0x01, op == 0x05, op == 0x0a, op == 0x0f, op == 0x19, op == 0x1a, op == 0x1b, op == 0xd1,
		op >= 0x45 && op <= 0xc4: // no immediates
	case op == 0x07, op == 0x08, op == 0x09, op == 0x0c, op == 0x0d, op == 0x10, op == 0x12,
		op >= 0x20 && op <= 0x26, op == 0x3f, op == 0x40, op == 0xd2: // one index
		r.u32()
	case op == 0x0e: // br_table
		for k := r.u32(); k > 0 && r.err == nil; k-- {
			r.u32()
		}
		r.u32()
	case op == 0x11, op == 0x13: // call_indirect, return_call_indirect
		r.u32()
		r.u32()
	case op == 0x1c: // select with types
		for k := r.u32(); k > 0 && r.err == nil; k-- {
			r.byte()
		}
	case op >= 0x28 && op <= 0x3e: // loads and stores
		r.memarg()
	case op == 0x41, op == 0x42, op == 0xd0: // i32.const, i64.const, ref.null
		r.s64()
	case op == 0x43:
		r.skip(4)
	case op == 0x44:
		r.skip(8)
	case op == 0xfc:
		switch sub := r.u32(); {
		case sub <= 7:
		case sub == 8, sub == 10, sub == 12, sub == 14: // two indexes
			r.u32()
			r.u32()
		case sub <= 17:
			r.u32()
		default:
			return errUnknownOp
		}
	case op == 0xfd:
		switch sub := r.u32(); {
		case sub <= 11, sub == 92, sub == 93: // v128 loads and stores
			r.memarg()
		case sub == 12, sub == 13: // v128.const, i8x16.shuffle
			r.skip(16)
		case sub >= 21 && sub <= 34: // lane accesses
			r.byte()
		case sub >= 84 && sub <= 91: // lane loads and stores
			r.memarg()
			r.byte()
		case sub > 0xff:
			return errUnknownOp
		}
	case op == 0xfe:
		if r.u32() == 3 { // atomic.fence
			r.byte()
		} else {
			r.memarg()
		}
	default:
		return errUnknownOp
	}
	return r.err
}

// s64 reads a signed LEB128 number of up to 64 bits (a block type is an s33).
func (r *reader) s64() {
	for i := 0; i < 10; i++ {
		if r.byte()&0x80 == 0 {
			return
		}
	}
	r.err = errors.New("bad LEB128")
}

// memarg reads a memory access's alignment (with a memory index when its bit 6 is set)
// and offset.
func (r *reader) memarg() {
	if r.u32()&0x40 != 0 {
		r.u32()
	}
	r.u64()
}

func (r *reader) skip(n int) {
	if r.err != nil || n > len(r.b)-r.off {
		r.err = errors.New("truncated")
		return
	}
	r.off += n
}
