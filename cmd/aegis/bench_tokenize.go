package main

import (
	"bufio"
	"bytes"
	"context"
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

	"github.com/aegis-safety/aegis/internal/progress"
	"github.com/aegis-safety/aegis/native/tokenizer"
)

// benchTokenize times single-thread encoding and, in the same run, Hugging Face
// tokenizers (Rust, through its Node binding) on the same documents.
func benchTokenize(ctx context.Context, c *cli, args []string) error {
	fs := newFlags("bench tokenize", "--tokenizer FILE|DIR [--text FILE] [--mb N] [--rounds R] [--hf=false] [--json]",
		"Encodes a few MB of mixed text (English, code, numbers, whitespace runs, CJK, Cyrillic,\nArabic, emoji; or --text FILE, one document per blank-line-separated paragraph) one\ndocument at a time on one thread, and prints MB/s and tokens/s: the best of --rounds\npasses, and cold_* for the first pass (empty caches). With --hf (the default) it runs\nscripts/tokenizer_bench.mjs on the same documents (Node and `npm ci` in\nscripts/tokenizer_ref; RAYON_NUM_THREADS=1 so HF is single-threaded too), checks that\nboth produced the same ids, and prints the ratios.", c.stdout)
	path := fs.String("tokenizer", "", "tokenizer.json or a folder holding it")
	textFile := fs.String("text", "", "text to encode instead of the generated mix")
	mb := fs.Float64("mb", 4, "megabytes of generated text")
	rounds := fs.Int("rounds", 3, "timed passes (the fastest counts; the first warms caches)")
	hf := fs.Bool("hf", true, "also time Hugging Face tokenizers (needs node and scripts/tokenizer_ref)")
	script := fs.String("hf-script", filepath.Join("scripts", "tokenizer_bench.mjs"), "the reference script")
	asJSON := fs.Bool("json", false, "print one JSON object")
	if err := fs.parse(args); err != nil {
		return err
	}
	if *path == "" {
		return fmt.Errorf("%w: --tokenizer is required", errUsage)
	}
	if *rounds < 1 || *mb <= 0 {
		return fmt.Errorf("%w: need --rounds >= 1 and --mb > 0", errUsage)
	}
	tk, err := tokenizer.Load(*path)
	if err != nil {
		return err
	}
	var docs []string
	if *textFile != "" {
		b, err := os.ReadFile(*textFile)
		if err != nil {
			return err
		}
		for _, d := range strings.Split(string(b), "\n\n") {
			if d != "" {
				docs = append(docs, d)
			}
		}
	} else {
		docs = benchDocs(int(*mb * 1e6))
	}
	nbytes := 0
	for _, d := range docs {
		nbytes += len(d)
	}
	// One thread, garbage collector included, as the reference is measured.
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	best, first := 0.0, 0.0
	var ntok int
	var hash uint32
	bar := progress.New(c.progress, "bench tokenize", *rounds, "passes")
	for r := 0; r < *rounds; r++ {
		var ids []int32
		t0 := time.Now()
		ntok = 0
		for _, d := range docs {
			ids = tk.AppendEncode(ids[:0], d)
			ntok += len(ids)
			if r == 0 {
				for _, id := range ids {
					hash = hash*31 + uint32(id) + 1
				}
			}
		}
		s := time.Since(t0).Seconds()
		if r == 0 {
			first = s
		}
		if r == 0 || s < best {
			best = s
		}
		bar.Add(1)
	}
	bar.Done()
	keys := []string{"mb_per_s", "tokens_per_s", "cold_mb_per_s", "seconds", "bytes", "tokens", "docs"}
	vals := map[string]any{"mb_per_s": float64(nbytes) / best / 1e6, "tokens_per_s": float64(ntok) / best,
		"cold_mb_per_s": float64(nbytes) / first / 1e6, "seconds": best, "bytes": nbytes, "tokens": ntok, "docs": len(docs)}
	if *hf {
		keys = append(keys, "hf_mb_per_s", "hf_cold_mb_per_s", "ratio", "cold_ratio", "identical")
		ref, err := runHFBench(*script, *path, docs, *rounds)
		if err != nil {
			keys = append(keys, "hf_error")
			vals["hf_error"] = oneLine(err.Error())
		} else {
			vals["hf_mb_per_s"] = float64(ref.Bytes) / ref.Seconds / 1e6
			vals["hf_cold_mb_per_s"] = float64(ref.Bytes) / ref.FirstSeconds / 1e6
			vals["ratio"] = ref.Seconds / best
			vals["cold_ratio"] = ref.FirstSeconds / first
			vals["identical"] = ref.Tokens == ntok && ref.Hash == hash
		}
	}
	return report(c.stdout, *asJSON, keys, vals)
}

type hfBenchResult struct {
	Seconds      float64 `json:"seconds"`
	FirstSeconds float64 `json:"first_seconds"`
	Bytes        int     `json:"bytes"`
	Tokens       int     `json:"tokens"`
	Hash         uint32  `json:"hash"`
}

// runHFBench runs the Node reference single-threaded on the same documents.
func runHFBench(script, tokPath string, docs []string, rounds int) (hfBenchResult, error) {
	var res hfBenchResult
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

// benchParagraphs are the kinds of text the generated benchmark mixes.
var benchParagraphs = []string{
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

// benchDocs makes n bytes of documents from the paragraphs, with fresh numbers and
// identifiers mixed in so that not every word is already in the encoders' caches.
func benchDocs(n int) []string {
	r := rand.New(rand.NewPCG(7, 11))
	var docs []string
	total := 0
	for total < n {
		var b strings.Builder
		for b.Len() < 2000 {
			b.WriteString(benchParagraphs[r.IntN(len(benchParagraphs))])
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
