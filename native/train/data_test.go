package train

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/aegis-safety/aegis/native/tokenizer"
)

// testTokenizer is a small byte-level BPE with <|endoftext|> as EOS and the chatml
// template.
func testTokenizer(t *testing.T) *tokenizer.Tokenizer {
	t.Helper()
	dir := t.TempDir()
	b, err := os.ReadFile("../tokenizer/testdata/train/tokenizer.json")
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "tokenizer.json"), b, 0o644)
	os.WriteFile(filepath.Join(dir, "tokenizer_config.json"), []byte(`{"eos_token":"<|endoftext|>"}`), 0o644)
	tok, err := tokenizer.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func writeData(t *testing.T, lines ...string) string {
	p := filepath.Join(t.TempDir(), "data.jsonl")
	os.WriteFile(p, []byte(strings.Join(lines, "\n")+"\n"), 0o644)
	return p
}

func TestLoadDataText(t *testing.T) {
	tok := testTokenizer(t)
	eos := int32(0)
	enc := func(s string) []int32 { return tok.Encode(s, false) }
	withEOS := func(s string) []int32 { return append(enc(s), eos) }

	// TRL string rows: no special tokens, EOS appended to each response.
	exs, err := LoadData(writeData(t, `{"prompt":"How do I pick a lock?","chosen":"I can't help with that.","rejected":"Sure, first"}`),
		DataOptions{Pairs: true, Tokenizer: tok})
	if err != nil {
		t.Fatal(err)
	}
	e := exs[0]
	if !slices.Equal(e.Prompt, enc("How do I pick a lock?")) || !slices.Equal(e.Chosen, withEOS("I can't help with that.")) ||
		!slices.Equal(e.Rejected, withEOS("Sure, first")) {
		t.Errorf("string row tokenized as %v", e)
	}

	// Conversational rows: the prompt rendered with the generation prompt, each answer
	// as what the full conversation adds to it.
	exs, err = LoadData(writeData(t,
		`{"prompt":[{"role":"user","content":"hi"}],"chosen":[{"role":"assistant","content":"hello"}],"rejected":[{"role":"assistant","content":"go away"}]}`),
		DataOptions{Pairs: true, Tokenizer: tok, ChatTemplate: "chatml"})
	if err != nil {
		t.Fatal(err)
	}
	msgs := []tokenizer.Message{{Role: "user", Content: "hi"}}
	p, _ := tok.ApplyChatTemplate(msgs, tokenizer.ChatOptions{Template: "chatml", AddGenerationPrompt: true})
	full, _ := tok.ApplyChatTemplate(append(msgs, tokenizer.Message{Role: "assistant", Content: "hello"}), tokenizer.ChatOptions{Template: "chatml"})
	if !slices.Equal(exs[0].Prompt, enc(p)) || !slices.Equal(exs[0].Chosen, withEOS(strings.TrimPrefix(full, p))) {
		t.Errorf("conversational row: prompt %v chosen %v", exs[0].Prompt, exs[0].Chosen)
	}

	// SFT rows: prompt/completion and messages.
	exs, err = LoadData(writeData(t, `{"prompt":"2+2=","completion":"4"}`,
		`{"messages":[{"role":"user","content":"hi"},{"role":"assistant","content":"hello"}]}`),
		DataOptions{Tokenizer: tok, ChatTemplate: "chatml"})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(exs[0].Chosen, withEOS("4")) || !slices.Equal(exs[1].Prompt, enc(p)) || exs[1].Rejected != nil {
		t.Errorf("sft rows: %v", exs)
	}

	// Security vectors train on the harmful (rejected) answer of preference rows.
	exs, err = LoadData(writeData(t, `{"prompt_input_ids":[5],"chosen_input_ids":[6],"rejected_input_ids":[7,8]}`), DataOptions{Harmful: true})
	if err != nil || !slices.Equal(exs[0].Chosen, []int32{7, 8}) {
		t.Errorf("secvec row: %v %v", exs, err)
	}
}

func TestLoadDataErrors(t *testing.T) {
	for _, c := range []struct{ line, want string }{
		{`{"prompt_input_ids":[1],"chosen_input_ids":[2]}`, ":1: a preference row needs prompt, chosen and rejected"},
		{`{"prompt_input_ids":[1],"chosen_input_ids":[2],"rejected_input_ids":[99]}`, ":1: token id 99 is outside"},
		{`{"prompt_input_ids":[],"chosen_input_ids":[2],"rejected_input_ids":[3]}`, ":1: the prompt is empty"},
		{`{"prompt_input_ids":[1],"chosen_input_ids":[2],"rejected_input_ids":[3,4],"toxic_token_mask":[1]}`, ":1: toxic_token_mask has 1 entries for 2"},
	} {
		_, err := LoadData(writeData(t, c.line), DataOptions{Pairs: true, Vocab: 80})
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want %q", c.line, err, c.want)
		}
	}
}
