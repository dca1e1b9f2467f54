package tokenizer

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"golang.org/x/text/unicode/norm"
)

func loadTrained(t testing.TB) *Tokenizer {
	tk, err := Load(filepath.Join("testdata", "train", "tokenizer.json"))
	if err != nil {
		t.Fatal(err)
	}
	return tk
}

// TestTrainedMatchesHF: the tokenizer.json our trainer wrote encodes, in our loader, as
// HF tokenizers encodes it (ids recorded by scripts/tokenizer_train_golden.mjs).
func TestTrainedMatchesHF(t *testing.T) {
	tk := loadTrained(t)
	type row struct {
		Text    string  `json:"text"`
		IDs     []int32 `json:"ids"`
		Decoded string  `json:"decoded"`
	}
	rows := readJSONL[row](t, filepath.Join("testdata", "train", "golden.jsonl"))
	for _, g := range rows {
		if ids := tk.Encode(g.Text, false); !slices.Equal(ids, g.IDs) {
			t.Errorf("encode %q:\n got %v\nwant %v", g.Text, ids, g.IDs)
		}
		if s := tk.Decode(g.IDs, false); s != g.Decoded {
			t.Errorf("decode %v: got %q want %q", g.IDs, s, g.Decoded)
		}
	}
	t.Logf("%d texts identical to HF tokenizers", len(rows))
}

// TestTrainDeterministic: training on the committed corpus reproduces the committed
// tokenizer.json (the one HF was checked against) byte for byte.
func TestTrainDeterministic(t *testing.T) {
	f, err := os.Open(filepath.Join("testdata", "train", "corpus.txt"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	got, err := TrainBPE(f, TrainOptions{VocabSize: 1000, SpecialTokens: []string{"<|endoftext|>", "<|pad|>"}})
	if err != nil {
		t.Fatal(err)
	}
	want, _ := os.ReadFile(filepath.Join("testdata", "train", "tokenizer.json"))
	if !bytes.Equal(got, want) {
		t.Fatal("trained tokenizer.json differs from testdata/train/tokenizer.json (regenerate with scripts/tokenizer_train_golden.mjs)")
	}
}

func TestTrainRoundTrip(t *testing.T) {
	corpus := strings.Repeat("the cat sat on the mat; the dog ate 1234 bones. 猫が好き 😀\n", 50)
	data, err := TrainBPE(strings.NewReader(corpus), TrainOptions{VocabSize: 300, SpecialTokens: []string{"<s>"}})
	if err != nil {
		t.Fatal(err)
	}
	tk, err := Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	if tk.VocabSize() > 300 || tk.VocabSize() < 280 {
		t.Errorf("vocab size %d, want close to 300", tk.VocabSize())
	}
	for _, s := range []string{"the cat", "unseen Ωmega text\n\n", "<s>the</s>", ""} {
		ids := tk.Encode(s, false)
		if got := tk.Decode(ids, false); got != s {
			t.Errorf("round trip %q -> %v -> %q", s, ids, got)
		}
	}
	if ids := tk.Encode("the cat", false); len(ids) > 3 {
		t.Errorf("merges not learned: %v", ids)
	}
	if _, err := TrainBPE(strings.NewReader("x"), TrainOptions{VocabSize: 100}); err == nil {
		t.Error("vocab size below 256 accepted")
	}
}

type variant struct {
	Name  string                     `json:"name"`
	Base  string                     `json:"base"`
	Patch map[string]json.RawMessage `json:"patch"`
}

// TestVariants covers components the three real tokenizers do not use, against HF
// tokenizers on the same patched files (scripts/tokenizer_golden.mjs).
func TestVariants(t *testing.T) {
	var vs []variant
	b, _ := os.ReadFile(filepath.Join("testdata", "variants.json"))
	if err := json.Unmarshal(b, &vs); err != nil {
		t.Fatal(err)
	}
	type row struct {
		Variant    string  `json:"variant"`
		Text       string  `json:"text"`
		IDs        []int32 `json:"ids"`
		IDsSpecial []int32 `json:"ids_special"`
		Decoded    string  `json:"decoded"`
	}
	rows := readJSONL[row](t, filepath.Join("testdata", "golden_variants.jsonl"))
	for _, v := range vs {
		t.Run(v.Name, func(t *testing.T) {
			base := filepath.Join("testdata", "train", "tokenizer.json")
			if v.Base == "llama2" {
				base = filepath.Join(refDir(t, "llama2"), "tokenizer.json")
			}
			raw, err := os.ReadFile(base)
			if err != nil {
				t.Fatal(err)
			}
			var m map[string]json.RawMessage
			json.Unmarshal(raw, &m)
			for k, p := range v.Patch {
				m[k] = p
			}
			data, _ := json.Marshal(m)
			tk, err := Parse(data)
			if err != nil {
				t.Fatal(err)
			}
			n := 0
			for _, g := range rows {
				if g.Variant != v.Name {
					continue
				}
				n++
				if ids := tk.Encode(g.Text, false); !slices.Equal(ids, g.IDs) {
					t.Errorf("encode %q:\n got %v\nwant %v", g.Text, ids, g.IDs)
				}
				if ids := tk.Encode(g.Text, true); !slices.Equal(ids, g.IDsSpecial) {
					t.Errorf("encode with special tokens %q:\n got %v\nwant %v", g.Text, ids, g.IDsSpecial)
				}
				if s := tk.Decode(g.IDs, false); s != g.Decoded {
					t.Errorf("decode %v: got %q want %q", g.IDs, s, g.Decoded)
				}
			}
			if n == 0 {
				t.Fatal("no golden rows")
			}
		})
	}
}

// TestUnsupported: a component we do not implement is named in a one-line error.
func TestUnsupported(t *testing.T) {
	raw, _ := os.ReadFile(filepath.Join("testdata", "train", "tokenizer.json"))
	cases := map[string]string{
		`{"pre_tokenizer": {"type": "Whitespace"}}`:                                                    `unsupported pre_tokenizer "Whitespace"`,
		`{"normalizer": {"type": "BertNormalizer"}}`:                                                   `unsupported normalizer "BertNormalizer"`,
		`{"decoder": {"type": "WordPiece"}}`:                                                           `unsupported decoder "WordPiece"`,
		`{"post_processor": {"type": "Unknown"}}`:                                                      `unsupported post_processor "Unknown"`,
		`{"model": {"type": "Unigram", "vocab": []}}`:                                                  `unsupported model "Unigram"`,
		`{"model": {"type": "WordPiece", "vocab": {}}}`:                                                `unsupported model "WordPiece"`,
		`{"pre_tokenizer": {"type": "Sequence", "pretokenizers": [{"type": "Punctuation"}]}}`:          `unsupported pre_tokenizer "Punctuation"`,
		`{"pre_tokenizer": {"type": "Split", "pattern": {"Regex": "a(?=b)"}, "behavior": "Isolated"}}`: `unsupported Split regex "a(?=b)"`,
		`{"pre_tokenizer": {"type": "Split", "pattern": {"Regex": "a"}, "behavior": "Sideways"}}`:      `unknown behavior "Sideways"`,
	}
	for patch, want := range cases {
		var m, p map[string]json.RawMessage
		json.Unmarshal(raw, &m)
		if err := json.Unmarshal([]byte(patch), &p); err != nil {
			t.Fatal(patch, err)
		}
		for k, v := range p {
			m[k] = v
		}
		data, _ := json.Marshal(m)
		dir := t.TempDir()
		path := filepath.Join(dir, "tokenizer.json")
		os.WriteFile(path, data, 0o644)
		_, err := Load(dir)
		if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "tokenizer.json") || strings.Contains(err.Error(), "\n") {
			t.Errorf("%s: error %v, want one line naming the file and containing %s", patch, err, want)
		}
	}
	for _, bad := range []string{"", "{", "[]", `{"model": null}`, `{"model": {"type": "BPE", "vocab": {"a": 0}, "merges": ["a b"]}}`} {
		if _, err := Parse([]byte(bad)); err == nil {
			t.Errorf("Parse(%q) accepted", bad)
		}
	}
}

// TestRoundTripReal: decode(encode(x)) == x for the byte-level tokenizers.
func TestRoundTripReal(t *testing.T) {
	for _, name := range []string{"llama3", "qwen3"} {
		t.Run(name, func(t *testing.T) {
			tk := refTokenizer(t, name)
			for _, g := range readJSONL[golden](t, filepath.Join("testdata", "golden_"+name+".jsonl")) {
				want := g.Text
				if name == "qwen3" { // NFC normalizes
					want = norm.NFC.String(want)
				}
				if got := tk.Decode(tk.Encode(g.Text, false), false); got != want {
					t.Errorf("%q round-trips to %q", g.Text, got)
				}
			}
		})
	}
}

func TestSplitPatternsFallback(t *testing.T) {
	// A pattern without lookaround runs through RE2 with Unicode \s.
	m, err := newPatternMatcher(`\s+|\S+`)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	s := "a\u3000b  c"
	for _, sp := range matchSpans(s, m, false) {
		got = append(got, s[sp.start:sp.end])
	}
	if want := []string{"a", "\u3000", "b", "  ", "c"}; !slices.Equal(got, want) {
		t.Errorf("got %q want %q", got, want)
	}
}

func TestLossyUTF8(t *testing.T) {
	cases := map[string]string{
		"ok":             "ok",
		"\xe2\x82":       "\uFFFD",
		"\xe2\x82a":      "\uFFFDa",
		"\xff\xfe":       "\uFFFD\uFFFD",
		"\xf0\x9f\x98":   "\uFFFD",
		"a\xed\xa0\x80b": "a\uFFFD\uFFFD\uFFFDb",
	}
	for in, want := range cases {
		if got := lossyUTF8([]byte(in)); got != want {
			t.Errorf("%q: got %q want %q", in, got, want)
		}
	}
}

func TestChatBuiltins(t *testing.T) {
	tk := &Tokenizer{Config: &Config{BOSToken: "<s>", EOSToken: "</s>"}}
	msgs := []Message{{"system", "Sys."}, {"user", "Hi"}, {"assistant", "Hello."}, {"user", "Bye"}}
	want := map[string]string{
		"chatml":  "<|im_start|>system\nSys.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\nHello.<|im_end|>\n<|im_start|>user\nBye<|im_end|>\n<|im_start|>assistant\n",
		"llama3":  "<s><|start_header_id|>system<|end_header_id|>\n\nSys.<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\nHello.<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nBye<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n",
		"mistral": "<s>[INST] Sys.\n\nHi [/INST]Hello.</s>[INST] Bye [/INST]",
	}
	for name, w := range want {
		got, err := tk.ApplyChatTemplate(msgs, ChatOptions{Template: name, AddGenerationPrompt: true})
		if err != nil || got != w {
			t.Errorf("%s: %v\n got %q\nwant %q", name, err, got, w)
		}
	}
	if _, err := tk.ApplyChatTemplate([]Message{{"user", "a"}, {"user", "b"}}, ChatOptions{Template: "mistral"}); err == nil || !strings.Contains(err.Error(), "alternate") {
		t.Errorf("mistral accepted two user turns in a row: %v", err)
	}
	if _, err := (&Tokenizer{}).ApplyChatTemplate(msgs, ChatOptions{}); err == nil || !strings.Contains(err.Error(), "no chat_template") {
		t.Errorf("missing template: %v", err)
	}
}

// TestTrainMatchesHFTrainer: with MinFrequency 1 and room to spare, TrainBPE learns the
// merges Hugging Face's BpeTrainer learned on the same corpus, in the same order
// (testdata/train/hf_merges.json, from scripts/tokenizer_train_golden.mjs).
func TestTrainMatchesHFTrainer(t *testing.T) {
	f, err := os.Open(filepath.Join("testdata", "train", "corpus.txt"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	data, err := TrainBPE(f, TrainOptions{VocabSize: 1 << 20, MinFrequency: 1})
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		Model struct{ Merges [][2]string }
	}
	if err := json.Unmarshal(data, &got); err != nil {
		t.Fatal(err)
	}
	var want [][2]string
	b, _ := os.ReadFile(filepath.Join("testdata", "train", "hf_merges.json"))
	if err := json.Unmarshal(b, &want); err != nil {
		t.Fatal(err)
	}
	if len(got.Model.Merges) != len(want) {
		t.Errorf("%d merges, HF learned %d", len(got.Model.Merges), len(want))
	}
	for i := range min(len(want), len(got.Model.Merges)) {
		if got.Model.Merges[i] != want[i] {
			t.Fatalf("merge %d: got %q, HF %q", i, got.Model.Merges[i], want[i])
		}
	}
}

// TestLlamaConfigPost: for Llama tokenizer classes, add_bos_token and add_eos_token in
// tokenizer_config.json decide the special tokens, as in transformers.
func TestLlamaConfigPost(t *testing.T) {
	dir := t.TempDir()
	raw, _ := os.ReadFile(filepath.Join("testdata", "train", "tokenizer.json"))
	os.WriteFile(filepath.Join(dir, "tokenizer.json"), raw, 0o644)
	cases := []struct {
		cfg  string
		want []int32 // around the text's ids
	}{
		{`{"tokenizer_class": "LlamaTokenizerFast", "bos_token": "<|endoftext|>", "eos_token": "<|pad|>", "add_eos_token": true}`, []int32{0, -1, 1}},
		{`{"tokenizer_class": "LlamaTokenizer", "bos_token": "<|endoftext|>", "add_bos_token": false}`, []int32{-1}},
		{`{"tokenizer_class": "PreTrainedTokenizerFast", "bos_token": "<|endoftext|>", "add_eos_token": true}`, []int32{-1}},
	}
	for _, c := range cases {
		os.WriteFile(filepath.Join(dir, "tokenizer_config.json"), []byte(c.cfg), 0o644)
		tk, err := Load(dir)
		if err != nil {
			t.Fatal(err)
		}
		text := tk.Encode("hi", false)
		var want []int32
		for _, w := range c.want {
			if w < 0 {
				want = append(want, text...)
			} else {
				want = append(want, w)
			}
		}
		if got := tk.Encode("hi", true); !slices.Equal(got, want) {
			t.Errorf("%s: got %v want %v", c.cfg, got, want)
		}
	}
	os.WriteFile(filepath.Join(dir, "tokenizer_config.json"), []byte(`{"tokenizer_class": "LlamaTokenizerFast", "bos_token": "<nope>"}`), 0o644)
	if _, err := Load(dir); err == nil || !strings.Contains(err.Error(), "add_bos_token") {
		t.Errorf("bad bos: %v", err)
	}
}

func TestVocabAccessors(t *testing.T) {
	tk := loadTrained(t)
	if id, ok := tk.TokenID("<|pad|>"); !ok || id != 1 || !tk.IsSpecial(1) || tk.Token(1) != "<|pad|>" {
		t.Errorf("<|pad|>: %d %v %v %q", id, ok, tk.IsSpecial(1), tk.Token(1))
	}
	if id, ok := tk.TokenID("Ġthe"); !ok || tk.Token(id) != "Ġthe" || tk.IsSpecial(id) {
		t.Errorf("Ġthe: %d %v", id, ok)
	}
	if _, ok := tk.TokenID("no such token"); ok || tk.Token(-1) != "" || tk.Token(1<<20) != "" {
		t.Error("missing tokens found")
	}
	ids, text, err := tk.EncodeChat([]Message{{"user", "hi"}}, ChatOptions{Template: "chatml"})
	if err != nil || text != "<|im_start|>user\nhi<|im_end|>\n" || tk.Decode(ids, false) != text {
		t.Errorf("EncodeChat: %q %v %v", text, ids, err)
	}
}

// TestReadTemplate: no choice, a built-in name and a template's source stay as they are;
// a file's template is read; anything else is an error naming the built-ins.
func TestReadTemplate(t *testing.T) {
	t.Parallel()
	file := filepath.Join(t.TempDir(), "t.jinja")
	os.WriteFile(file, []byte("{{ messages }}"), 0o644)
	for in, want := range map[string]string{"": "", "chatml": "chatml", "llama3": "llama3", "{{ x }}": "{{ x }}", file: "{{ messages }}"} {
		if got, err := ReadTemplate(in); got != want || err != nil {
			t.Errorf("ReadTemplate(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	_, err := ReadTemplate("nope")
	if want := `"nope" is neither a built-in template (chatml, llama3, mistral) nor a readable file`; err == nil || err.Error() != want {
		t.Errorf("nope: %v, want %s", err, want)
	}
}
