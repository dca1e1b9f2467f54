package bench

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/aegis-safety/aegis/native/tokenizer"
)

// ReadDocs reads a text file as documents: one per blank-line-separated paragraph.
func ReadDocs(path string) ([]string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var docs []string
	for _, d := range strings.Split(string(b), "\n\n") {
		if d != "" {
			docs = append(docs, d)
		}
	}
	return docs, nil
}

// Encoding is what TimeEncode measured.
type Encoding struct {
	Bytes, Tokens int
	Best, First   float64 // seconds of the fastest pass and of the first (cold caches)
	Hash          uint32  // of the first pass's ids, to compare with the reference's
}

// TimeEncode encodes docs one at a time, rounds passes, on one thread with the garbage
// collector included, as the reference is measured; onRound is called after each pass.
func TimeEncode(tk *tokenizer.Tokenizer, docs []string, rounds int, onRound func()) Encoding {
	var e Encoding
	for _, d := range docs {
		e.Bytes += len(d)
	}
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	for r := 0; r < rounds; r++ {
		var ids []int32
		t0 := time.Now()
		e.Tokens = 0
		for _, d := range docs {
			ids = tk.AppendEncode(ids[:0], d)
			e.Tokens += len(ids)
			if r == 0 {
				for _, id := range ids {
					e.Hash = e.Hash*31 + uint32(id) + 1
				}
			}
		}
		s := time.Since(t0).Seconds()
		if r == 0 {
			e.First = s
		}
		if r == 0 || s < e.Best {
			e.Best = s
		}
		onRound()
	}
	return e
}

// Figures are e's figures over docs documents as `aegis bench tokenize` reports them,
// with their keys in order: MB/s and tokens/s of the fastest pass, MB/s of the first (cold
// caches), the fastest pass's seconds, and the bytes, tokens and documents encoded.
func (e Encoding) Figures(docs int) (keys []string, vals map[string]any) {
	keys = []string{"mb_per_s", "tokens_per_s", "cold_mb_per_s", "seconds", "bytes", "tokens", "docs"}
	vals = map[string]any{"mb_per_s": float64(e.Bytes) / e.Best / 1e6, "tokens_per_s": float64(e.Tokens) / e.Best,
		"cold_mb_per_s": float64(e.Bytes) / e.First / 1e6, "seconds": e.Best, "bytes": e.Bytes, "tokens": e.Tokens, "docs": docs}
	return keys, vals
}

// AddHF adds to e's figures (Figures) those of ref, the Hugging Face reference run on the
// same documents: its MB/s, warm and cold, the ratios of its time to e's, and whether both
// wrote the same ids; or, when the reference failed, its error in one line (hf_error). It
// returns the keys.
func (e Encoding) AddHF(keys []string, vals map[string]any, ref HFResult, err error) []string {
	keys = append(keys, "hf_mb_per_s", "hf_cold_mb_per_s", "ratio", "cold_ratio", "identical")
	if err != nil {
		vals["hf_error"] = strings.Join(strings.Fields(err.Error()), " ")
		return append(keys, "hf_error")
	}
	vals["hf_mb_per_s"] = float64(ref.Bytes) / ref.Seconds / 1e6
	vals["hf_cold_mb_per_s"] = float64(ref.Bytes) / ref.FirstSeconds / 1e6
	vals["ratio"] = ref.Seconds / e.Best
	vals["cold_ratio"] = ref.FirstSeconds / e.First
	vals["identical"] = ref.Tokens == e.Tokens && ref.Hash == e.Hash
	return keys
}

// HFResult is what the Hugging Face reference reported.
type HFResult struct {
	Seconds      float64 `json:"seconds"`
	FirstSeconds float64 `json:"first_seconds"`
	Bytes        int     `json:"bytes"`
	Tokens       int     `json:"tokens"`
	Hash         uint32  `json:"hash"`
}

// RunHF runs the Node reference script (scripts/tokenizer_bench.mjs) single-threaded on
// the same documents, rounds passes.
func RunHF(script, tokPath string, docs []string, rounds int) (HFResult, error) {
	var res HFResult
	if _, err := os.Stat(script); err != nil {
		return res, fmt.Errorf("%s not found (run from the repository root)", script)
	}
	node, err := exec.LookPath("node")
	if err != nil {
		return res, errors.New("node not found")
	}
	if st, err := os.Stat(tokPath); err == nil && st.IsDir() {
		tokPath = filepath.Join(tokPath, "tokenizer.json")
	}
	f, err := os.CreateTemp("", "aegis-bench-*.jsonl")
	if err != nil {
		return res, err
	}
	defer os.Remove(f.Name())
	w := bufio.NewWriter(f)
	enc := json.NewEncoder(w)
	for _, d := range docs {
		enc.Encode(d)
	}
	if err := w.Flush(); err != nil {
		return res, err
	}
	f.Close()
	cmd := exec.Command(node, script, tokPath, f.Name(), fmt.Sprint(rounds))
	cmd.Env = append(os.Environ(), "RAYON_NUM_THREADS=1", "TOKENIZERS_PARALLELISM=false")
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		msg := strings.TrimSpace(errb.String())
		if i := strings.LastIndex(msg, "\n"); i >= 0 {
			msg = msg[i+1:]
		}
		return res, fmt.Errorf("%s: %v: %s (cd scripts/tokenizer_ref && npm ci)", script, err, msg)
	}
	if err := json.Unmarshal(out.Bytes(), &res); err != nil || res.Seconds <= 0 {
		return res, fmt.Errorf("%s printed %q", script, out.String())
	}
	return res, nil
}

// paragraphs are the kinds of text the generated benchmark mixes.
var paragraphs = []string{
	"The committee's report, published on Tuesday, found that 73 of the 112 systems it reviewed couldn't withstand a simple role-play attack. \"We've seen this before,\" said the lead author; they'll publish the full data set in March.",
	"func (m *Model) Forward(b *Batch) ([]float32, error) {\n\tif b.T > m.Config.MaxPositions {\n\t\treturn nil, fmt.Errorf(\"sequence of %d tokens exceeds %d\", b.T, m.Config.MaxPositions)\n\t}\n\tfor i := range m.Layers {\n\t\tx = m.Layers[i].Forward(x)\n\t}\n\treturn x, nil\n}\n",
	"def train(model, data, lr=3e-4, epochs=10):\n    for epoch in range(epochs):\n        for x, y in data:\n            loss = F.cross_entropy(model(x), y)\n            loss.backward()\n\n\n    return model  # done\n",
	"Prices rose 4.7% in 2023, to $1,299.99 on average; 2024-07-26 12:34:56 UTC. Call +1 (555) 010-2345 or visit https://example.com/a/b?c=1&d=2.",
	"人工智能的安全性研究正在迅速发展。研究人员发现，许多模型在面对越狱攻击时仍然很脆弱，需要更好的对齐方法。",
	"Исследователи безопасности обнаружили, что многие языковые модели уязвимы для атак с помощью ролевых игр и скрытых инструкций.",
	"تعمل فرق البحث على تحسين سلامة النماذج اللغوية الكبيرة من خلال التدريب على بيانات التفضيل.",
	"日本語のテキストも含まれています。モデルの安全性を評価するために、様々な攻撃手法を試しました。",
	"Great job!!! 😀😀 🎉🎉🎉 thanks 👍🏽 — see you soon ❤️ 🇫🇷 👨‍👩‍👧‍👦",
	"    | col A | col B |\n    |-------|-------|\n    |   1   |  2.5  |\n\n\n        indented     text     with     runs\t\tof\t\twhitespace   \n",
	"Ελληνικά, Tiếng Việt, हिन्दी, 한국어, עברית — many scripts in one line; naïve café résumé.",
	"<div class=\"card\"><h2>Title</h2><p>Body &amp; more</p></div>\n{\"key\": [1, 2, 3], \"nested\": {\"a\": null, \"b\": true}}",
}

// Docs makes n bytes of documents of mixed text (English, code, numbers, whitespace runs,
// CJK, Cyrillic, Arabic, emoji), with fresh numbers and identifiers mixed in so that not
// every word is already in the encoders' caches.
func Docs(n int) []string {
	r := rand.New(rand.NewPCG(7, 11))
	var docs []string
	total := 0
	for total < n {
		var b strings.Builder
		for b.Len() < 2000 {
			b.WriteString(paragraphs[r.IntN(len(paragraphs))])
			switch r.IntN(4) {
			case 0:
				fmt.Fprintf(&b, " %d", r.IntN(1000000))
			case 1:
				fmt.Fprintf(&b, " id_%x", r.Uint32())
			}
			b.WriteString("\n\n")
		}
		docs = append(docs, b.String())
		total += b.Len()
	}
	return docs
}
