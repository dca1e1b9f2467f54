package tokenizer

// pairTable maps a merge pair (two ids packed in a uint64) to rank<<32 | new id. It is an
// open-addressing hash table: merge lookups dominate BPE time on uncached words, and this
// is several times faster than a Go map with the same keys.
type pairTable struct {
	keys  []uint64
	vals  []uint64
	shift uint
}

const emptyPair = ^uint64(0) // no pair of non-negative int32 ids packs to this

func newPairTable(n int) *pairTable {
	size, shift := 16, uint(60)
	for size < 2*n {
		size *= 2
		shift--
	}
	t := &pairTable{keys: make([]uint64, size), vals: make([]uint64, size), shift: shift}
	for i := range t.keys {
		t.keys[i] = emptyPair
	}
	return t
}

func (t *pairTable) slot(k uint64) uint64 { return (k * 0x9E3779B97F4A7C15) >> t.shift }

// put stores v for k unless k is already present (the first, best-ranked merge wins).
func (t *pairTable) put(k, v uint64) {
	mask := uint64(len(t.keys) - 1)
	for i := t.slot(k); ; i = (i + 1) & mask {
		switch t.keys[i] {
		case k:
			return
		case emptyPair:
			t.keys[i], t.vals[i] = k, v
			return
		}
	}
}

func (t *pairTable) get(k uint64) (uint64, bool) {
	mask := uint64(len(t.keys) - 1)
	for i := t.slot(k); ; i = (i + 1) & mask {
		switch t.keys[i] {
		case k:
			return t.vals[i], true
		case emptyPair:
			return 0, false
		}
	}
}
