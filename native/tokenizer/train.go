package tokenizer

import (
	"bufio"
	"bytes"
	"container/heap"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
)

// TrainOptions configure TrainBPE.
type TrainOptions struct {
	VocabSize     int      // target size including the 256 bytes and the special tokens
	MinFrequency  int      // a pair seen fewer times is never merged (default 2, HF's default is 0)
	SpecialTokens []string // added first, with ids 0, 1, ...
	// Progress, when set, is called after each merge with the merges done and wanted.
	Progress func(done, total int)
	// MaxLine is the longest corpus line accepted, in bytes (0: DefaultMaxLine); a longer
	// one is a *LineTooLongError.
	MaxLine int
}

// TrainBPE learns a byte-level BPE tokenizer from a corpus read line by line, the way
// Hugging Face's BpeTrainer does with a ByteLevel pre-tokenizer and its 256-byte initial
// alphabet: words are counted after the GPT-2 split, then the most frequent pair is
// merged (ties to the pair of lower ids) until the vocabulary is full. It returns the
// tokenizer.json text, which HF tokenizers loads and encodes identically.
func TrainBPE(corpus io.Reader, opt TrainOptions) ([]byte, error) {
	if opt.MinFrequency == 0 {
		opt.MinFrequency = 2
	}
	if err := checkTrainOptions(opt); err != nil {
		return nil, err
	}
	max := opt.MaxLine
	if max <= 0 {
		max = DefaultMaxLine
	}
	counts, err := countWords(corpus, max)
	if err != nil {
		return nil, err
	}
	t := newBPETrainer(opt.SpecialTokens)
	t.loadWords(counts)
	want := opt.VocabSize - len(t.vocab)
	for len(t.vocab) < opt.VocabSize {
		top, ok := t.nextMerge(opt.MinFrequency)
		if !ok {
			break
		}
		t.merge(top)
		if opt.Progress != nil {
			opt.Progress(len(t.merges), want)
		}
	}
	return writeTokenizerJSON(t.vocab, t.merges, opt.SpecialTokens)
}

// checkTrainOptions rejects a vocabulary too small for the byte alphabet and the special
// tokens, and special tokens that are empty or repeated.
func checkTrainOptions(opt TrainOptions) error {
	nBase := 256 + len(opt.SpecialTokens)
	if opt.VocabSize < nBase {
		return fmt.Errorf("vocab size %d is smaller than the 256 bytes plus %d special tokens", opt.VocabSize, len(opt.SpecialTokens))
	}
	seen := map[string]bool{}
	for _, s := range opt.SpecialTokens {
		if s == "" || seen[s] {
			return fmt.Errorf("special token %q is empty or repeated", s)
		}
		seen[s] = true
	}
	return nil
}

// countWords counts the words (raw bytes) of a corpus as the ByteLevel pre-tokenizer
// splits each line, refusing a line longer than max bytes.
func countWords(corpus io.Reader, max int) (map[string]int64, error) {
	counts := map[string]int64{}
	r := bufio.NewReaderSize(corpus, 1<<20)
	var sc gpt2Scanner
	for n := 1; ; n++ {
		b, err := readLine(r, n, max) // HF keeps the line break in each sequence
		var long *LineTooLongError
		if errors.As(err, &long) {
			return nil, err
		}
		line := string(b)
		for i := 0; i < len(line); {
			a, b := sc.next(line, i)
			counts[line[a:b]]++
			i = b
		}
		if errors.Is(err, io.EOF) {
			return counts, nil
		}
		if err != nil {
			return nil, err
		}
	}
}

// bpeTrainer is the state of a training run: the vocabulary so far, the corpus words as
// symbol ids, the count of every adjacent pair, and a queue of the pairs to merge.
type bpeTrainer struct {
	vocab  []string
	ids    map[string]int32
	byteID [256]int32 // the symbol of each byte in the initial alphabet

	words  [][]int32 // each distinct word, as symbols, merged so far
	wcount []int64   // how often each word occurs in the corpus
	pairs  map[uint64]int64
	queue  mergeQueue
	merges [][2]string
}

// newBPETrainer starts the vocabulary with the special tokens, then the byte alphabet in
// code point order.
func newBPETrainer(special []string) *bpeTrainer {
	t := &bpeTrainer{ids: map[string]int32{}}
	for _, s := range special {
		t.add(s)
	}
	alphabet := make([]rune, 256)
	copy(alphabet, byteToRune[:])
	sort.Slice(alphabet, func(i, j int) bool { return alphabet[i] < alphabet[j] })
	for _, r := range alphabet {
		t.byteID[runeToByte[r]] = t.add(string(r))
	}
	return t
}

// add returns the id of token s, adding it to the vocabulary if it is new.
func (t *bpeTrainer) add(s string) int32 {
	if id, ok := t.ids[s]; ok {
		return id
	}
	id := int32(len(t.vocab))
	t.vocab = append(t.vocab, s)
	t.ids[s] = id
	return id
}

// loadWords turns the counted words into symbol ids, counts their pairs and queues every
// pair with the words it occurs in. Words go in sorted order so training is deterministic.
func (t *bpeTrainer) loadWords(counts map[string]int64) {
	keys := make([]string, 0, len(counts))
	for w := range counts {
		keys = append(keys, w)
	}
	sort.Strings(keys)
	t.words = make([][]int32, len(keys))
	t.wcount = make([]int64, len(keys))
	t.pairs = map[uint64]int64{}
	where := map[uint64]map[int32]struct{}{}
	for i, w := range keys {
		syms := make([]int32, len(w))
		for k := 0; k < len(w); k++ {
			syms[k] = t.byteID[w[k]]
		}
		t.words[i], t.wcount[i] = syms, counts[w]
		for k := 0; k+1 < len(syms); k++ {
			p := pairKey(syms[k], syms[k+1])
			t.pairs[p] += t.wcount[i]
			addWhere(where, p, int32(i))
		}
	}
	for p, c := range t.pairs {
		if c > 0 {
			t.queue.items = append(t.queue.items, mergeItem{p, c, where[p]})
		}
	}
	heap.Init(&t.queue)
}

// nextMerge pops the most frequent pair. A queued count that is stale (merges since
// changed it) is requeued with the current one rather than trusted. It reports false when
// the queue is empty or the best pair is rarer than minFreq.
func (t *bpeTrainer) nextMerge(minFreq int) (mergeItem, bool) {
	for t.queue.Len() > 0 {
		top := heap.Pop(&t.queue).(mergeItem)
		if c := t.pairs[top.pair]; c != top.count {
			if c > 0 {
				top.count = c
				heap.Push(&t.queue, top)
			}
			continue
		}
		return top, top.count >= int64(minFreq)
	}
	return mergeItem{}, false
}

// merge adds the token of pair top, rewrites the words it occurs in and queues the pairs
// the new token forms with its neighbours.
func (t *bpeTrainer) merge(top mergeItem) {
	a, b := int32(top.pair>>32), int32(uint32(top.pair))
	newID := t.add(t.vocab[a] + t.vocab[b])
	t.merges = append(t.merges, [2]string{t.vocab[a], t.vocab[b]})
	changed := map[uint64]map[int32]struct{}{}
	for wi := range top.pos {
		t.mergeWord(wi, a, b, newID, changed)
	}
	delete(t.pairs, top.pair)
	for p, pos := range changed {
		if c := t.pairs[p]; c > 0 {
			heap.Push(&t.queue, mergeItem{p, c, pos})
		}
	}
}

// mergeWord replaces each (a, b) in word wi by newID, moving the word's count from the
// pairs the merge breaks to the ones it forms, which are recorded in changed.
func (t *bpeTrainer) mergeWord(wi, a, b, newID int32, changed map[uint64]map[int32]struct{}) {
	w, n := t.words[wi], t.wcount[wi]
	for i := 0; i+1 < len(w); i++ {
		if w[i] != a || w[i+1] != b {
			continue
		}
		if i > 0 {
			t.pairs[pairKey(w[i-1], a)] -= n
			np := pairKey(w[i-1], newID)
			t.pairs[np] += n
			addWhere(changed, np, wi)
		}
		w[i] = newID
		w = append(w[:i+1], w[i+2:]...)
		if i+1 < len(w) {
			t.pairs[pairKey(b, w[i+1])] -= n
			np := pairKey(newID, w[i+1])
			t.pairs[np] += n
			addWhere(changed, np, wi)
		}
	}
	t.words[wi] = w
}

func addWhere(m map[uint64]map[int32]struct{}, p uint64, w int32) {
	if m[p] == nil {
		m[p] = map[int32]struct{}{}
	}
	m[p][w] = struct{}{}
}

type mergeItem struct {
	pair  uint64
	count int64
	pos   map[int32]struct{}
}

// mergeQueue pops the most frequent pair, ties to the lower (left id, right id), as HF.
type mergeQueue struct{ items []mergeItem }

func (q *mergeQueue) Len() int { return len(q.items) }
func (q *mergeQueue) Less(i, j int) bool {
	a, b := q.items[i], q.items[j]
	if a.count != b.count {
		return a.count > b.count
	}
	return a.pair < b.pair
}
func (q *mergeQueue) Swap(i, j int) { q.items[i], q.items[j] = q.items[j], q.items[i] }
func (q *mergeQueue) Push(x any)    { q.items = append(q.items, x.(mergeItem)) }
func (q *mergeQueue) Pop() any {
	n := len(q.items) - 1
	it := q.items[n]
	q.items = q.items[:n]
	return it
}

// writeTokenizerJSON writes a byte-level BPE tokenizer.json in the layout HF writes.
func writeTokenizerJSON(vocab []string, merges [][2]string, special []string) ([]byte, error) {
	var b bytes.Buffer
	str := func(s string) string {
		var o bytes.Buffer
		enc := json.NewEncoder(&o)
		enc.SetEscapeHTML(false)
		enc.Encode(s)
		return string(bytes.TrimSpace(o.Bytes()))
	}
	b.WriteString("{\n  \"version\": \"1.0\",\n  \"truncation\": null,\n  \"padding\": null,\n  \"added_tokens\": [")
	for i, s := range special {
		if i > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, "\n    {\"id\": %d, \"content\": %s, \"single_word\": false, \"lstrip\": false, \"rstrip\": false, \"normalized\": false, \"special\": true}", i, str(s))
	}
	if len(special) > 0 {
		b.WriteString("\n  ")
	}
	b.WriteString(`],
  "normalizer": null,
  "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": false, "trim_offsets": true, "use_regex": true},
  "post_processor": {"type": "ByteLevel", "add_prefix_space": true, "trim_offsets": false, "use_regex": true},
  "decoder": {"type": "ByteLevel", "add_prefix_space": true, "trim_offsets": true, "use_regex": true},
  "model": {
    "type": "BPE",
    "dropout": null,
    "unk_token": null,
    "continuing_subword_prefix": null,
    "end_of_word_suffix": null,
    "fuse_unk": false,
    "byte_fallback": false,
    "ignore_merges": false,
    "vocab": {`)
	for i, s := range vocab {
		if i > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, "\n      %s: %d", str(s), i)
	}
	b.WriteString("\n    },\n    \"merges\": [")
	for i, m := range merges {
		if i > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, "\n      [%s, %s]", str(m[0]), str(m[1]))
	}
	b.WriteString("\n    ]\n  }\n}\n")
	return b.Bytes(), nil
}
