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
	nBase := 256 + len(opt.SpecialTokens)
	if opt.VocabSize < nBase {
		return nil, fmt.Errorf("vocab size %d is smaller than the 256 bytes plus %d special tokens", opt.VocabSize, len(opt.SpecialTokens))
	}
	seen := map[string]bool{}
	for _, s := range opt.SpecialTokens {
		if s == "" || seen[s] {
			return nil, fmt.Errorf("special token %q is empty or repeated", s)
		}
		seen[s] = true
	}

	// Count words (raw bytes) as the ByteLevel pre-tokenizer splits each line.
	counts := map[string]int64{}
	r := bufio.NewReaderSize(corpus, 1<<20)
	var sc gpt2Scanner
	for {
		line, err := r.ReadString('\n') // HF keeps the line break in each sequence
		for i := 0; i < len(line); {
			a, b := sc.next(line, i)
			counts[line[a:b]]++
			i = b
		}
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
	}

	// Vocabulary: special tokens, then the byte alphabet in code point order.
	var vocab []string
	ids := map[string]int32{}
	add := func(s string) int32 {
		if id, ok := ids[s]; ok {
			return id
		}
		id := int32(len(vocab))
		vocab = append(vocab, s)
		ids[s] = id
		return id
	}
	for _, s := range opt.SpecialTokens {
		add(s)
	}
	alphabet := make([]rune, 256)
	copy(alphabet, byteToRune[:])
	sort.Slice(alphabet, func(i, j int) bool { return alphabet[i] < alphabet[j] })
	var byteID [256]int32
	for _, r := range alphabet {
		byteID[runeToByte[r]] = add(string(r))
	}

	// Words as symbol ids, in a fixed order so training is deterministic.
	keys := make([]string, 0, len(counts))
	for w := range counts {
		keys = append(keys, w)
	}
	sort.Strings(keys)
	words := make([][]int32, len(keys))
	wcount := make([]int64, len(keys))
	pairs := map[uint64]int64{}
	where := map[uint64]map[int32]struct{}{}
	for i, w := range keys {
		syms := make([]int32, len(w))
		for k := 0; k < len(w); k++ {
			syms[k] = byteID[w[k]]
		}
		words[i], wcount[i] = syms, counts[w]
		for k := 0; k+1 < len(syms); k++ {
			p := pairKey(syms[k], syms[k+1])
			pairs[p] += wcount[i]
			if where[p] == nil {
				where[p] = map[int32]struct{}{}
			}
			where[p][int32(i)] = struct{}{}
		}
	}
	q := &mergeQueue{}
	for p, c := range pairs {
		if c > 0 {
			q.items = append(q.items, mergeItem{p, c, where[p]})
		}
	}
	heap.Init(q)
	where = nil

	want := opt.VocabSize - len(vocab)
	var merges [][2]string
	for len(vocab) < opt.VocabSize && q.Len() > 0 {
		top := heap.Pop(q).(mergeItem)
		if c := pairs[top.pair]; c != top.count { // stale: requeue with the current count
			if c > 0 {
				top.count = c
				heap.Push(q, top)
			}
			continue
		}
		if top.count < int64(opt.MinFrequency) {
			break
		}
		a, b := int32(top.pair>>32), int32(uint32(top.pair))
		newID := add(vocab[a] + vocab[b])
		merges = append(merges, [2]string{vocab[a], vocab[b]})
		changed := map[uint64]map[int32]struct{}{}
		for wi := range top.pos {
			w := words[wi]
			for i := 0; i+1 < len(w); i++ {
				if w[i] != a || w[i+1] != b {
					continue
				}
				if i > 0 {
					pairs[pairKey(w[i-1], a)] -= wcount[wi]
					np := pairKey(w[i-1], newID)
					pairs[np] += wcount[wi]
					addWhere(changed, np, wi)
				}
				w[i] = newID
				w = append(w[:i+1], w[i+2:]...)
				if i+1 < len(w) {
					pairs[pairKey(b, w[i+1])] -= wcount[wi]
					np := pairKey(newID, w[i+1])
					pairs[np] += wcount[wi]
					addWhere(changed, np, wi)
				}
			}
			words[wi] = w
		}
		delete(pairs, top.pair)
		for p, pos := range changed {
			if c := pairs[p]; c > 0 {
				heap.Push(q, mergeItem{p, c, pos})
			}
		}
		if opt.Progress != nil {
			opt.Progress(len(merges), want)
		}
	}
	return writeTokenizerJSON(vocab, merges, opt.SpecialTokens)
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
