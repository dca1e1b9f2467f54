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

	// Implicit prompts (TRL's maybe_extract_prompt): the common prefix of chosen and
	// rejected, less the space before the first difference, for strings; the common
	// messages for conversations, then as the explicit row above.
	implicit, err := LoadData(writeData(t,
		`{"chosen":"Human: hi Assistant: hello","rejected":"Human: hi Assistant: go away"}`,
		`{"chosen":[{"role":"user","content":"hi"},{"role":"assistant","content":"hello"}],"rejected":[{"role":"user","content":"hi"},{"role":"assistant","content":"go away"}]}`),
		DataOptions{Pairs: true, Tokenizer: tok, ChatTemplate: "chatml"})
	if err != nil {
		t.Fatal(err)
	}
	if e := implicit[0]; !slices.Equal(e.Prompt, enc("Human: hi Assistant:")) || !slices.Equal(e.Chosen, withEOS(" hello")) ||
		!slices.Equal(e.Rejected, withEOS(" go away")) {
		t.Errorf("implicit string prompt: %v", e)
	}
	if e := implicit[1]; !slices.Equal(e.Prompt, exs[0].Prompt) || !slices.Equal(e.Chosen, exs[0].Chosen) || !slices.Equal(e.Rejected, exs[0].Rejected) {
		t.Errorf("implicit conversational prompt: %v, explicit %v", e, exs[0])
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
		{`{"prompt_input_ids":[1],"chosen_input_ids":[2]}`, ":2: a preference row needs prompt, chosen and rejected"},
		{`{"prompt_input_ids":[1],"chosen_input_ids":[2],"rejected_input_ids":[99]}`, ":2: token id 99 is outside"},
		{`{"prompt_input_ids":[],"chosen_input_ids":[2],"rejected_input_ids":[3]}`, ":2: the prompt is empty"},
		{`{"prompt_input_ids":[1],"chosen_input_ids":[2],"rejected_input_ids":[3,4],"toxic_token_mask":[1]}`, ":2: toxic_token_mask has 1 entries for 2"},
		{`{"prompt_input_ids":[1],"chosen_input_ids":[2],"rejected_input_ids":[3,4],"toxic_token_mask":[1,"yes"]}`, `:2: toxic_token_mask[1] is "yes"; want 0, 1, true or false`},
		{`{"prompt_input_ids":[1],"chosen_input_ids":[2],"rejected_input_ids":[3,4],"toxic_token_mask":[2,0]}`, `:2: toxic_token_mask[0] is 2`},
		{`{oops`, ":2: malformed JSON row"},
	} {
		_, err := LoadData(writeData(t, `{"prompt_input_ids":[1],"chosen_input_ids":[2],"rejected_input_ids":[3],"toxic_token_mask":[true]}`, c.line), DataOptions{Pairs: true, Vocab: 80})
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want %q", c.line, err, c.want)
		}
	}
}

// TestLoadDataEmptyAfterTokenization: with no EOS token to append, a response that encodes
// to no tokens is refused with its file:line; so is a prompt that does (its first response
// token would have no context to be predicted from).
func TestLoadDataEmptyAfterTokenization(t *testing.T) {
	dir := t.TempDir()
	b, err := os.ReadFile("../tokenizer/testdata/train/tokenizer.json")
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "tokenizer.json"), b, 0o644)
	tok, err := tokenizer.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	ok := `{"prompt":"hi","chosen":"a","rejected":"b"}`
	for _, c := range []struct{ line, want string }{
		{`{"prompt":"hi","chosen":"","rejected":"b"}`, ":2: the chosen/completion response is empty after tokenization"},
		{`{"prompt":"hi","chosen":"a","rejected":""}`, ":2: the rejected response is empty after tokenization"},
		{`{"prompt":"","chosen":"a","rejected":"b"}`, ":2: the prompt is empty after tokenization"},
	} {
		_, err := LoadData(writeData(t, ok, c.line), DataOptions{Pairs: true, Tokenizer: tok})
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want %q", c.line, err, c.want)
		}
	}
}

// TestLoadDataTruncate: rows longer than MaxLen fail with file:line, or with Truncate keep
// the end of the prompt (at least one token) and cut the responses (and their toxic masks)
// at the end.
func TestLoadDataTruncate(t *testing.T) {
	path := writeData(t,
		`{"prompt_input_ids":[1,2,3,4,5,6],"chosen_input_ids":[7,8],"rejected_input_ids":[9]}`,
		`{"prompt_input_ids":[1,2],"chosen_input_ids":[3,4,5,6,7,8],"rejected_input_ids":[9,10,11,12],"toxic_token_mask":[1,0,1,0]}`)
	if _, err := LoadData(path, DataOptions{Pairs: true, MaxLen: 4}); err == nil ||
		!strings.Contains(err.Error(), ":1: prompt + response is 8 tokens, longer than the model's context of 4") {
		t.Errorf("over-long row: %v", err)
	}
	exs, err := LoadData(path, DataOptions{Pairs: true, MaxLen: 4, Truncate: true})
	if err != nil {
		t.Fatal(err)
	}
	a, b := exs[0], exs[1]
	if !slices.Equal(a.Prompt, []int32{5, 6}) || !slices.Equal(a.Chosen, []int32{7, 8}) || !slices.Equal(a.Rejected, []int32{9}) {
		t.Errorf("row 1 truncated to %v %v %v", a.Prompt, a.Chosen, a.Rejected)
	}
	if !slices.Equal(b.Prompt, []int32{2}) || !slices.Equal(b.Chosen, []int32{3, 4, 5}) || !slices.Equal(b.Rejected, []int32{9, 10, 11}) ||
		!slices.Equal(b.ToxicMask, []bool{true, false, true}) {
		t.Errorf("row 2 truncated to %v %v %v %v", b.Prompt, b.Chosen, b.Rejected, b.ToxicMask)
	}
}
