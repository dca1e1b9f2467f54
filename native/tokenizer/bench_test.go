package tokenizer

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
)

// benchText is ~1 MB mixing the golden texts with fresh numbers, so that the word cache
// sees both repeated and new words.
func benchText(t testing.TB) string {
	var b strings.Builder
	rows := readJSONL[golden](t, filepath.Join("testdata", "golden_llama3.jsonl"))
	for i := 0; b.Len() < 1<<20; i++ {
		b.WriteString(rows[i%len(rows)].Text)
		fmt.Fprintf(&b, " %d\n", i*7919%100003)
	}
	return b.String()
}

// BenchmarkEncode measures single-thread encoding of the reference tokenizers
// (aegis bench tokenize compares with HF tokenizers in the same run).
func BenchmarkEncode(b *testing.B) {
	text := benchText(b)
	for _, name := range []string{"llama3", "qwen3", "llama2"} {
		b.Run(name, func(b *testing.B) {
			tk := refTokenizer(b, name)
			docs := strings.SplitAfter(text, "\n")
			b.SetBytes(int64(len(text)))
			var ids []int32
			for b.Loop() {
				for _, d := range docs {
					ids = tk.AppendEncode(ids[:0], d)
				}
			}
		})
	}
}

// BenchmarkEncodeDocs encodes 2 KB documents: for Llama-2 (no pre-tokenizer) each is one
// long BPE word, the slow path.
func BenchmarkEncodeDocs(b *testing.B) {
	text := benchText(b)
	var docs []string
	for i := 0; i+2048 <= len(text); i += 2048 {
		docs = append(docs, strings.ToValidUTF8(text[i:i+2048], ""))
	}
	for _, name := range []string{"llama3", "llama2"} {
		b.Run(name, func(b *testing.B) {
			tk := refTokenizer(b, name)
			b.SetBytes(int64(len(docs) * 2048))
			var ids []int32
			for b.Loop() {
				for _, d := range docs {
					ids = tk.AppendEncode(ids[:0], d)
				}
			}
		})
	}
}
