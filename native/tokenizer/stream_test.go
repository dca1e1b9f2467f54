package tokenizer

import (
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

// demoTok is the embedded demo model's byte-level BPE tokenizer, whose small vocabulary
// splits most non-ASCII characters over several tokens.
func demoTok(t *testing.T) *Tokenizer {
	t.Helper()
	tok, err := Load("../../internal/demo/model")
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// TestStreamHoldsSplitCharacters: characters whose bytes are split over tokens come out
// whole, once the token that completes them arrives, and the deltas add up to Decode.
func TestStreamHoldsSplitCharacters(t *testing.T) {
	tok := demoTok(t)
	text := "naïve café 日本語 🙂 ok"
	ids := tok.Encode(text, false)
	s := tok.NewStream(true)
	var pieces []string
	split := 0
	for i, id := range ids {
		p := s.Add(id)
		if strings.Contains(p, "\uFFFD") || !utf8.ValidString(p) {
			t.Fatalf("token %d: delta %q carries a broken character", i, p)
		}
		pieces = append(pieces, p)
		full := tok.Decode(ids[:i+1], true)
		if s.Text() != full {
			t.Fatalf("token %d: Text %q, Decode %q", i, s.Text(), full)
		}
		// What has been returned is everything but the incomplete ending.
		if got, want := strings.Join(pieces, ""), strings.TrimRight(full, "\uFFFD"); got != want {
			t.Fatalf("token %d: returned %q, want %q", i, got, want)
		}
		if strings.HasSuffix(full, "\uFFFD") {
			split++
		}
	}
	if split < 4 {
		t.Fatalf("only %d prefixes end mid-character; the test needs a tokenizer that splits characters", split)
	}
	if rest := s.Flush(); rest != "" {
		t.Errorf("Flush after complete text returned %q", rest)
	}
	if got := strings.Join(pieces, ""); got != text {
		t.Errorf("deltas join to %q, want %q", got, text)
	}
	// "é" is two byte tokens here: nothing after the first, the character after the second.
	e := tok.Encode("é", false)
	if len(e) != 2 {
		t.Fatalf("é encodes to %v; the test expects two byte tokens", e)
	}
	s = tok.NewStream(true)
	if got := []string{s.Add(e[0]), s.Add(e[1])}; !slices.Equal(got, []string{"", "é"}) {
		t.Errorf("é over two tokens streamed as %q", got)
	}
}

// TestStreamFlushIncomplete: a sequence that ends mid-character flushes the replacement
// character Decode gives, so the deltas still add up to Decode.
func TestStreamFlushIncomplete(t *testing.T) {
	tok := demoTok(t)
	ids := tok.Encode("ok 日本", false)
	ids = ids[:len(ids)-1] // drop the last byte of 本
	s := tok.NewStream(true)
	var got string
	for _, id := range ids {
		got += s.Add(id)
	}
	if got != "ok 日" {
		t.Errorf("before Flush: %q, want %q", got, "ok 日")
	}
	got += s.Flush()
	if want := tok.Decode(ids, true); got != want || !strings.HasSuffix(got, "\uFFFD") {
		t.Errorf("after Flush: %q, want %q ending in U+FFFD", got, want)
	}
	if s.Flush() != "" {
		t.Error("a second Flush returned text")
	}
}

// TestStreamSkipsSpecial: skipSpecial drops special tokens as Decode does.
func TestStreamSkipsSpecial(t *testing.T) {
	tok := demoTok(t)
	eos, ok := tok.TokenID("<|im_end|>")
	if !ok {
		t.Fatal("no <|im_end|> in the demo tokenizer")
	}
	ids := append(tok.Encode("hi", false), eos)
	for _, skip := range []bool{true, false} {
		s := tok.NewStream(skip)
		var got string
		for _, id := range ids {
			got += s.Add(id)
		}
		got += s.Flush()
		if want := tok.Decode(ids, skip); got != want {
			t.Errorf("skipSpecial %v: %q, want %q", skip, got, want)
		}
	}
}

func TestEncodePromptAndStopIDs(t *testing.T) {
	tok := demoTok(t)
	if !tok.HasChatTemplate() {
		t.Fatal("the demo tokenizer should carry a chat template")
	}
	want, _, err := tok.EncodeChat([]Message{{Role: "system", Content: "be brief"}, {Role: "user", Content: "hello"}},
		ChatOptions{AddGenerationPrompt: true})
	if err != nil {
		t.Fatal(err)
	}
	got, err := tok.EncodePrompt("be brief", "hello", "")
	if err != nil || !slices.Equal(got, want) {
		t.Fatalf("EncodePrompt = %v, %v; want the chat rendering %v", got, err, want)
	}
	eos, ok := tok.TokenID(tok.Config.EOSToken)
	if !ok {
		t.Fatalf("eos_token %q has no id", tok.Config.EOSToken)
	}
	if ids := tok.StopIDs([]int32{7}); !slices.Equal(ids, []int32{7, eos}) {
		t.Fatalf("StopIDs([7]) = %v, want [7 %d]", ids, eos)
	}
	if ids := tok.StopIDs([]int32{eos}); !slices.Equal(ids, []int32{eos}) {
		t.Fatalf("StopIDs repeats the eos id: %v", ids)
	}

	plain := *tok
	plain.Config = nil // no template: plain text with special tokens, no system message
	if got, err := plain.EncodePrompt("", "hello", ""); err != nil || !slices.Equal(got, tok.Encode("hello", true)) {
		t.Fatalf("plain EncodePrompt = %v, %v", got, err)
	}
	if _, err := plain.EncodePrompt("be brief", "hello", ""); err == nil {
		t.Fatal("a system message without a chat template was accepted")
	}
}
