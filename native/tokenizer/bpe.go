package tokenizer

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"unicode/utf8"
)

// bpe is the BPE model: merges applied by rank to a word's initial symbols.
type bpe struct {
	vocab  map[string]int32 // token text (as in tokenizer.json) → id
	tokens []string         // id → token text ("" for gaps)
	merges *pairTable

	unk                   int32 // -1 when there is no unk_token
	fuseUnk, byteFallback bool
	ignoreMerges          bool
	prefix, suffix        string
	fallbackIDs           [256]int32 // <0xNN> tokens, -1 when absent
	byteIDs               [256]int32 // byte-level rune of each byte, -1 when absent
	rawVocab              map[string]int32
	rawOK                 bool // every byte has a byteIDs entry: the fast byte path is exact
	metaSplit             bool // no token has "▁" after another character: see appendWord
	cacheMu               sync.RWMutex
	cache                 map[string][]int32
	cacheCap              int

	// runBlock is the block, in symbols, that long runs of one repeated symbol are
	// encoded in (see encodeRun): a power of two at least 8 times the longest token.
	runBlock int
	runMu    sync.Mutex
	runs     map[string]*runCode // by the repeated unit ("r" or "t" for raw or not, then the unit)
}

// runCode is how a run of one repeated unit encodes: exact says that blocks of runBlock
// units encode independently (checked once), block is one block's ids.
type runCode struct {
	exact bool
	block []int32
}

const (
	cacheMaxWord = 256 // HF caches only words shorter than this
	cacheCap     = 1 << 17
)

func pairKey(a, b int32) uint64 { return uint64(uint32(a))<<32 | uint64(uint32(b)) }

// newBPE builds the model; merges are pairs of token texts in rank order.
func newBPE(vocab map[string]int32, merges [][2]string, unk string, fuseUnk, byteFallback, ignoreMerges bool, prefix, suffix string) (*bpe, error) {
	m := &bpe{vocab: vocab, merges: newPairTable(len(merges)), unk: -1,
		fuseUnk: fuseUnk, byteFallback: byteFallback, ignoreMerges: ignoreMerges,
		prefix: prefix, suffix: suffix, cache: map[string][]int32{}, cacheCap: cacheCap}
	maxID := int32(-1)
	for _, id := range vocab {
		if id < 0 {
			return nil, fmt.Errorf("negative token id %d", id)
		}
		maxID = max(maxID, id)
	}
	m.tokens = make([]string, maxID+1)
	for t, id := range vocab {
		m.tokens[id] = t
	}
	if unk != "" {
		id, ok := vocab[unk]
		if !ok {
			return nil, fmt.Errorf("unk_token %q is not in the vocabulary", unk)
		}
		m.unk = id
	}
	for i, mg := range merges {
		a, ok1 := vocab[mg[0]]
		b, ok2 := vocab[mg[1]]
		if !ok1 || !ok2 {
			return nil, fmt.Errorf("merge %d (%q %q) uses a token missing from the vocabulary", i, mg[0], mg[1])
		}
		right := mg[1]
		if prefix != "" {
			right = strings.TrimPrefix(right, prefix)
		}
		n, ok := vocab[mg[0]+right]
		if !ok {
			return nil, fmt.Errorf("merge %d (%q %q) makes %q, which is not in the vocabulary", i, mg[0], mg[1], mg[0]+right)
		}
		m.merges.put(pairKey(a, b), uint64(i)<<32|uint64(uint32(n))) // the first (best) rank wins, as in HF
	}
	longest := 1
	for t := range vocab {
		longest = max(longest, utf8.RuneCountInString(t))
	}
	m.runBlock = 128
	for m.runBlock < 8*longest {
		m.runBlock *= 2
	}
	m.runs = map[string]*runCode{}
	m.metaSplit = prefix == "" && suffix == ""
	if _, ok := vocab[meta]; !ok {
		m.metaSplit = false
	}
	for t := range vocab {
		if !m.metaSplit {
			break
		}
		if k := strings.Index(t, meta); k >= 0 {
			m.metaSplit = !strings.Contains(strings.TrimLeft(t, meta), meta)
		}
	}
	for b := 0; b < 256; b++ {
		m.fallbackIDs[b] = -1
		if id, ok := vocab[fmt.Sprintf("<0x%02X>", b)]; ok {
			m.fallbackIDs[b] = id
		}
		m.byteIDs[b] = -1
		if id, ok := vocab[string(byteToRune[b])]; ok {
			m.byteIDs[b] = id
		}
	}
	return m, nil
}

// enableBytes prepares the fast path for byte-level pipelines: words arrive as raw bytes
// and map to symbols through byteIDs without building the byte-level string.
func (m *bpe) enableBytes() {
	m.rawVocab = make(map[string]int32, len(m.vocab))
	for t, id := range m.vocab {
		if raw, ok := unByteLevel(t); ok {
			m.rawVocab[raw] = id
		}
	}
	m.rawOK = m.prefix == "" && m.suffix == ""
	for b := 0; b < 256 && m.rawOK; b++ {
		m.rawOK = m.byteIDs[b] >= 0
	}
}

// appendWord appends the ids of one pre-tokenized word. raw says the word is raw bytes
// that the byte-level pre-tokenizer maps to runes before the model sees them.
func (m *bpe) appendWord(dst []int32, w string, raw bool) []int32 {
	if w == "" {
		return dst
	}
	if raw && !m.rawOK {
		w, raw = byteLevelString(w), false
	}
	if m.ignoreMerges {
		v := m.vocab
		if raw {
			v = m.rawVocab
		}
		if id, ok := v[w]; ok {
			return append(dst, id)
		}
	}
	if !raw && m.metaSplit && len(w) >= cacheMaxWord {
		// SentencePiece-style text reaches the model as one long word. When no token
		// holds "▁" after another character, no merge can cross a "▁" that follows
		// another character, so the pieces cut there encode independently (and cache).
		for len(w) > 0 {
			k := nextMetaCut(w)
			dst = m.encodeWord(dst, w[:k], false)
			w = w[k:]
		}
		return dst
	}
	return m.encodeWord(dst, w, raw)
}

// encodeWord is appendWord for one word that is not cut further.
func (m *bpe) encodeWord(dst []int32, w string, raw bool) []int32 {
	if len(w) >= 3*m.runBlock && m.prefix == "" && m.suffix == "" {
		if u := repeatedUnit(w, raw); u > 0 && len(w)/u >= 3*m.runBlock {
			if out, ok := m.encodeRun(dst, w, u, raw); ok {
				return out
			}
		}
	}
	return m.encodeWhole(dst, w, raw)
}

// repeatedUnit returns the length of the unit w repeats when w is one symbol's text
// repeated (a byte for raw words, else a character), or 0.
func repeatedUnit(w string, raw bool) int {
	u := 1
	if !raw {
		_, u = utf8.DecodeRuneInString(w)
	}
	if len(w)%u != 0 || w[u:] != w[:len(w)-u] {
		return 0
	}
	return u
}

// encodeRun encodes a long run of one repeated symbol (a line of spaces, say) in blocks
// of runBlock symbols, the first ones all alike and encoded once, and the rest (between
// one and two blocks) as a word of its own. BPE merges the pairs of a repeated symbol
// from the left, level by level, so a block boundary that is a multiple of a power of two
// longer than any token is never crossed by a merge, and the end of the run affects only
// its last tokens. Memory is then one block's, not 30 bytes per symbol of the run. The
// first time a unit is seen, the blocked encoding is checked against the whole one on
// runs of 3 to 4 blocks; a unit (or merge table) for which they differ is encoded whole.
func (m *bpe) encodeRun(dst []int32, w string, u int, raw bool) ([]int32, bool) {
	unit := w[:u]
	if !raw {
		if syms := m.initialSymbols(nil, unit); len(syms) != 1 {
			return dst, false // unknown or byte-fallback characters: not one symbol each
		}
	}
	key := "t" + unit
	if raw {
		key = "r" + unit
	}
	m.runMu.Lock()
	rc := m.runs[key]
	if rc == nil {
		rc = m.checkRun(unit, raw)
		m.runs[key] = rc
	}
	m.runMu.Unlock()
	if !rc.exact {
		return dst, false
	}
	B := m.runBlock
	blocks := len(w)/u/B - 1
	for range blocks {
		dst = append(dst, rc.block...)
	}
	return m.encodeWhole(dst, w[blocks*B*u:], raw), true
}

// checkRun encodes a block of unit and compares blocked with whole encodings of runs of 3
// to 4 blocks.
func (m *bpe) checkRun(unit string, raw bool) *runCode {
	B := m.runBlock
	rc := &runCode{block: m.encodeWhole(nil, strings.Repeat(unit, B), raw), exact: true}
	for _, extra := range []int{0, 1, B/2 + 1, B - 1} {
		n := 3*B + extra
		whole := m.encodeWhole(nil, strings.Repeat(unit, n), raw)
		blocked := append(append(slices.Clone(rc.block), rc.block...), m.encodeWhole(nil, strings.Repeat(unit, n-2*B), raw)...)
		if !slices.Equal(whole, blocked) {
			rc.exact = false
			break
		}
	}
	return rc
}

// encodeWhole encodes one word as BPE does: its symbols, merged by rank.
func (m *bpe) encodeWhole(dst []int32, w string, raw bool) []int32 {
	if w == "" {
		return dst
	}
	cacheable := len(w) < cacheMaxWord
	if cacheable {
		m.cacheMu.RLock()
		ids, ok := m.cache[w]
		m.cacheMu.RUnlock()
		if ok {
			return append(dst, ids...)
		}
	}
	var buf [64]int32
	var syms []int32
	if raw {
		syms = buf[:0]
		for i := 0; i < len(w); i++ {
			syms = append(syms, m.byteIDs[w[i]])
		}
	} else {
		syms = m.initialSymbols(buf[:0], w)
	}
	syms = m.mergeAll(syms)
	if cacheable {
		ids := append([]int32(nil), syms...)
		m.cacheMu.Lock()
		if len(m.cache) < m.cacheCap {
			m.cache[strings.Clone(w)] = ids
		}
		m.cacheMu.Unlock()
	}
	return append(dst, syms...)
}

// initialSymbols splits a word into its characters' ids, with HF's byte fallback and
// unknown-token rules (including its quirk that a pending unk is emitted after any
// byte-fallback tokens that follow it).
func (m *bpe) initialSymbols(dst []int32, w string) []int32 {
	unkID, unkPending := int32(-1), false
	for i := 0; i < len(w); {
		_, n := utf8.DecodeRuneInString(w[i:])
		s := w[i : i+n]
		if i > 0 && m.prefix != "" {
			s = m.prefix + s
		}
		if i+n == len(w) && m.suffix != "" {
			s += m.suffix
		}
		i += n
		if id, ok := m.vocab[s]; ok {
			if unkPending {
				dst = append(dst, unkID)
				unkPending = false
			}
			dst = append(dst, id)
			continue
		}
		if m.byteFallback {
			all := true
			for j := 0; j < len(s); j++ {
				all = all && m.fallbackIDs[s[j]] >= 0
			}
			if all {
				for j := 0; j < len(s); j++ {
					dst = append(dst, m.fallbackIDs[s[j]])
				}
				continue
			}
		}
		if m.unk < 0 {
			continue // HF fails here ("unk token missing"); we drop the character
		}
		if unkPending && !m.fuseUnk {
			dst = append(dst, unkID)
		}
		unkID, unkPending = m.unk, true
	}
	if unkPending {
		dst = append(dst, unkID)
	}
	return dst
}

// mergeAll applies merges lowest rank first, leftmost first among equal ranks, which is
// the order HF's priority queue yields.
func (m *bpe) mergeAll(s []int32) []int32 {
	if len(s) > 48 {
		return m.mergeHeap(s)
	}
	for len(s) > 1 {
		best, bestRank, bestNew := -1, uint64(1<<63), int32(0)
		for i := 0; i+1 < len(s); i++ {
			if v, ok := m.merges.get(pairKey(s[i], s[i+1])); ok && v>>32 < bestRank {
				best, bestRank, bestNew = i, v>>32, int32(uint32(v))
			}
		}
		if best < 0 {
			break
		}
		s[best] = bestNew
		s = append(s[:best+1], s[best+2:]...)
	}
	return s
}

// mergeHeap is mergeAll for long words: a linked list of symbols and a min-heap of
// candidate merges keyed by (rank, position). Its memory is about 30 bytes a symbol (the
// links as int32, a merged-away symbol marked -1 in s, 12-byte candidates heapified in
// place), since a pre-tokenized word can be as long as its input line.
func (m *bpe) mergeHeap(s []int32) []int32 {
	n := len(s)
	prev := make([]int32, n)
	next := make([]int32, n)
	for i := range s {
		prev[i], next[i] = int32(i-1), int32(i+1)
	}
	next[n-1] = -1
	// A candidate merges the pair at pos: rank and result come from the pair table when
	// it is popped, and a pair that changed since it was queued no longer has that rank.
	type cand struct {
		rank uint32
		pos  int32
		id   int32
	}
	less := func(a, b cand) bool { return a.rank < b.rank || (a.rank == b.rank && a.pos < b.pos) }
	h := make([]cand, 0, n)
	down := func(i int) {
		for {
			l, r, sm := 2*i+1, 2*i+2, i
			if l < len(h) && less(h[l], h[sm]) {
				sm = l
			}
			if r < len(h) && less(h[r], h[sm]) {
				sm = r
			}
			if sm == i {
				return
			}
			h[i], h[sm] = h[sm], h[i]
			i = sm
		}
	}
	push := func(c cand) {
		h = append(h, c)
		for i := len(h) - 1; i > 0; {
			p := (i - 1) / 2
			if !less(h[i], h[p]) {
				break
			}
			h[i], h[p] = h[p], h[i]
			i = p
		}
	}
	pair := func(i int32) (cand, bool) {
		if i < 0 || next[i] < 0 {
			return cand{}, false
		}
		v, ok := m.merges.get(pairKey(s[i], s[next[i]]))
		return cand{uint32(v >> 32), i, int32(uint32(v))}, ok
	}
	for i := int32(0); int(i)+1 < n; i++ {
		if c, ok := pair(i); ok {
			h = append(h, c)
		}
	}
	for i := len(h)/2 - 1; i >= 0; i-- {
		down(i)
	}
	for len(h) > 0 {
		c := h[0]
		last := len(h) - 1
		h[0] = h[last]
		h = h[:last]
		down(0)
		if s[c.pos] < 0 {
			continue // merged away
		}
		if cur, ok := pair(c.pos); !ok || cur.rank != c.rank {
			continue // stale: a neighbour changed since this candidate was queued
		}
		j := next[c.pos]
		s[c.pos] = c.id
		s[j] = -1
		next[c.pos] = next[j]
		if next[j] >= 0 {
			prev[next[j]] = c.pos
		}
		if p, ok := pair(prev[c.pos]); ok {
			push(p)
		}
		if p, ok := pair(c.pos); ok {
			push(p)
		}
	}
	out := s[:0]
	for i := int32(0); i >= 0 && int(i) < n; i = next[i] {
		out = append(out, s[i])
	}
	return out
}

// meta is SentencePiece's space marker.
const meta = "\u2581"

// nextMetaCut returns the end of w's first piece: up to the first "▁" that follows a
// character other than "▁", or all of w. Pieces are kept under cacheMaxWord bytes only
// when the text allows; a longer piece still encodes correctly, just uncached.
func nextMetaCut(w string) int {
	for i := 1; i < len(w); {
		k := strings.Index(w[i:], meta)
		if k < 0 {
			return len(w)
		}
		i += k
		if !strings.HasSuffix(w[:i], meta) {
			return i
		}
		i += len(meta)
	}
	return len(w)
}
