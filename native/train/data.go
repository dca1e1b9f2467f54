package train

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/aegis-safety/aegis/native/jsonl"
	"github.com/aegis-safety/aegis/native/tokenizer"
)

// Example is one tokenized training row. For SFT (and security vectors) Chosen is the
// completion and Rejected is nil; for preference methods Chosen is the preferred
// (positive, safe) response and Rejected the dispreferred (toxic) one. Only response
// tokens are ever scored; the prompt is context.
type Example struct {
	Line      int // 1-based line in the data file, for error messages
	Prompt    []int32
	Chosen    []int32
	Rejected  []int32
	ToxicMask []bool // PT-ALIGN's explicit toxic-token flags over Rejected, when the row has them

	idx int // index in the data set, for the reference cache
}

// DataOptions say how LoadData reads and tokenizes rows.
type DataOptions struct {
	// Pairs requires preference rows (prompt, chosen, rejected).
	Pairs bool
	// Harmful reads preference rows as SFT rows on their rejected response: security
	// vectors are fitted on harmful answers.
	Harmful bool
	// Tokenizer encodes text rows; nil accepts only pre-tokenized rows.
	Tokenizer *tokenizer.Tokenizer
	// ChatTemplate overrides the tokenizer's chat template (see tokenizer.ChatOptions).
	ChatTemplate string
	// Vocab bounds pre-tokenized ids; MaxLen bounds prompt+response (0: no bound).
	Vocab, MaxLen int
	// Truncate shortens over-long rows (the prompt from its start, as TRL's keep_end,
	// then the response from its end) instead of failing.
	Truncate bool
}

// row is every field a data line may carry.
type row struct {
	Prompt      json.RawMessage   `json:"prompt"`
	Chosen      json.RawMessage   `json:"chosen"`
	Rejected    json.RawMessage   `json:"rejected"`
	Completion  json.RawMessage   `json:"completion"`
	Messages    json.RawMessage   `json:"messages"`
	PromptIDs   []int32           `json:"prompt_input_ids"`
	ChosenIDs   []int32           `json:"chosen_input_ids"`
	RejectedIDs []int32           `json:"rejected_input_ids"`
	CompIDs     []int32           `json:"completion_input_ids"`
	ToxicMask   []json.RawMessage `json:"toxic_token_mask"`
}

// LoadData reads a JSONL data file. Accepted rows:
//
//   - pre-tokenized: prompt_input_ids with chosen_input_ids and rejected_input_ids (or
//     completion_input_ids for SFT); used as they are;
//   - TRL preference rows: prompt, chosen, rejected as strings, or as conversational
//     message lists (the chat template is applied: the prompt with the generation
//     prompt, each response as the rest of the rendered conversation); rows with only
//     chosen and rejected have an implicit prompt, extracted as TRL's
//     maybe_extract_prompt does (their longest common prefix);
//   - SFT rows: {"prompt","completion"} (strings or messages) or {"messages"}, whose last
//     message must be the assistant's answer and is the only part scored.
//
// As TRL's DPOTrainer does for decoder-only models, text is encoded without special
// tokens and the tokenizer's EOS token is appended to each response. Errors name
// file:line.
func LoadData(path string, opt DataOptions) ([]Example, error) {
	var out []Example
	err := jsonl.EachN(path, func(n int, line []byte) error {
		ex, err := example(line, n, opt)
		if err != nil {
			return fmt.Errorf("%s:%d: %v", path, n, err)
		}
		out = append(out, ex)
		return nil
	})
	if err == nil && len(out) == 0 {
		err = fmt.Errorf("%s: no data rows", path)
	}
	return out, err
}

// Examples tokenizes rows held in memory exactly as LoadData tokenizes the lines of a
// file: each row is encoded as JSON (a data.Pair, or any value with the fields LoadData
// reads) and parsed as a line. Errors name the 1-based row, which is also Example.Line.
func Examples[T any](rows []T, opt DataOptions) ([]Example, error) {
	out := make([]Example, 0, len(rows))
	for i := range rows {
		b, err := json.Marshal(rows[i])
		if err != nil {
			return nil, fmt.Errorf("row %d: %v", i+1, err)
		}
		ex, err := example(b, i+1, opt)
		if err != nil {
			return nil, fmt.Errorf("row %d: %v", i+1, err)
		}
		out = append(out, ex)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no data rows")
	}
	return out, nil
}

// example parses one row (a line of a data file) and applies the context bound.
func example(b []byte, line int, opt DataOptions) (Example, error) {
	ex, err := parseRow(b, opt)
	if err != nil {
		return ex, err
	}
	ex.Line = line
	return ex, fitContext(&ex, opt)
}

func parseRow(b []byte, opt DataOptions) (Example, error) {
	var r row
	var ex Example
	if err := json.Unmarshal(b, &r); err != nil {
		return ex, fmt.Errorf("malformed JSON row: %v", err)
	}
	pretok := r.PromptIDs != nil || r.ChosenIDs != nil || r.RejectedIDs != nil || r.CompIDs != nil
	switch {
	case pretok:
		ex.Prompt, ex.Chosen, ex.Rejected = r.PromptIDs, r.ChosenIDs, r.RejectedIDs
		if r.CompIDs != nil {
			ex.Chosen = r.CompIDs
		}
		if opt.Vocab > 0 {
			for _, s := range [][]int32{ex.Prompt, ex.Chosen, ex.Rejected} {
				for _, id := range s {
					if id < 0 || int(id) >= opt.Vocab {
						return ex, fmt.Errorf("token id %d is outside the model's vocabulary [0, %d)", id, opt.Vocab)
					}
				}
			}
		}
	case opt.Tokenizer == nil:
		return ex, fmt.Errorf("text rows need a tokenizer.json in the model folder (or use pre-tokenized prompt_input_ids/chosen_input_ids/rejected_input_ids)")
	default:
		var err error
		if ex, err = tokenizeRow(&r, opt); err != nil {
			return ex, err
		}
	}
	if r.ToxicMask != nil {
		for i, v := range r.ToxicMask {
			switch s := strings.TrimSpace(string(v)); s {
			case "true", "1":
				ex.ToxicMask = append(ex.ToxicMask, true)
			case "false", "0":
				ex.ToxicMask = append(ex.ToxicMask, false)
			default:
				return ex, fmt.Errorf("toxic_token_mask[%d] is %s; want 0, 1, true or false", i, s)
			}
		}
		if len(ex.ToxicMask) != len(ex.Rejected) {
			return ex, fmt.Errorf("toxic_token_mask has %d entries for %d rejected tokens", len(ex.ToxicMask), len(ex.Rejected))
		}
	}
	if opt.Harmful && ex.Rejected != nil {
		ex.Chosen, ex.Rejected, ex.ToxicMask = ex.Rejected, nil, nil
	}
	if opt.Pairs && (ex.Chosen == nil || ex.Rejected == nil) {
		return ex, fmt.Errorf("a preference row needs prompt, chosen and rejected")
	}
	if !opt.Pairs {
		ex.Rejected, ex.ToxicMask = nil, nil
	}
	switch {
	case ex.Chosen == nil:
		return ex, fmt.Errorf("row has no response (want chosen/rejected, completion or messages)")
	case len(ex.Prompt) == 0:
		return ex, fmt.Errorf("the prompt is empty after tokenization (its first response token would have no context)")
	case len(ex.Chosen) == 0:
		return ex, fmt.Errorf("the chosen/completion response is empty after tokenization")
	case opt.Pairs && len(ex.Rejected) == 0:
		return ex, fmt.Errorf("the rejected response is empty after tokenization")
	}
	return ex, nil
}

// tokenizeRow encodes a text or conversational row.
func tokenizeRow(r *row, opt DataOptions) (Example, error) {
	var ex Example
	tok := opt.Tokenizer
	var eos []int32
	if c := tok.Config; c != nil && c.EOSToken != "" {
		if id, ok := tok.TokenID(c.EOSToken); ok {
			eos = []int32{id}
		}
	}
	chat := tokenizer.ChatOptions{Template: opt.ChatTemplate}
	if len(r.Messages) > 0 && len(r.Prompt) == 0 {
		var msgs []tokenizer.Message
		if err := json.Unmarshal(r.Messages, &msgs); err != nil {
			return ex, fmt.Errorf("messages: %v", err)
		}
		if len(msgs) < 2 || msgs[len(msgs)-1].Role != "assistant" {
			return ex, fmt.Errorf("messages must end with an assistant message after at least one other")
		}
		p, c, err := renderChat(tok, chat, msgs[:len(msgs)-1], msgs[len(msgs)-1:])
		if err != nil {
			return ex, err
		}
		ex.Prompt, ex.Chosen = tok.Encode(p, false), append(nonNil(tok.Encode(c, false)), eos...)
		return ex, nil
	}
	if len(r.Prompt) == 0 && len(r.Chosen) > 0 && len(r.Rejected) > 0 {
		if err := extractPrompt(r); err != nil {
			return ex, err
		}
	}
	if len(r.Prompt) == 0 {
		return ex, fmt.Errorf("row has no prompt")
	}
	var promptStr string
	var promptMsgs []tokenizer.Message
	conv := r.Prompt[0] == '['
	if conv {
		if err := json.Unmarshal(r.Prompt, &promptMsgs); err != nil {
			return ex, fmt.Errorf("prompt: %v", err)
		}
	} else if err := json.Unmarshal(r.Prompt, &promptStr); err != nil {
		return ex, fmt.Errorf("prompt must be a string or a list of messages: %v", err)
	}
	resp := func(field string, raw json.RawMessage) ([]int32, error) {
		if len(raw) == 0 || string(raw) == "null" {
			return nil, nil
		}
		if conv {
			var msgs []tokenizer.Message
			if err := json.Unmarshal(raw, &msgs); err != nil {
				return nil, fmt.Errorf("%s must be a list of messages like the prompt: %v", field, err)
			}
			_, c, err := renderChat(tok, chat, promptMsgs, msgs)
			if err != nil {
				return nil, err
			}
			return append(nonNil(tok.Encode(c, false)), eos...), nil
		}
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return nil, fmt.Errorf("%s must be a string like the prompt: %v", field, err)
		}
		return append(nonNil(tok.Encode(s, false)), eos...), nil
	}
	if conv {
		p, err := tok.ApplyChatTemplate(promptMsgs, tokenizer.ChatOptions{Template: opt.ChatTemplate, AddGenerationPrompt: true})
		if err != nil {
			return ex, err
		}
		ex.Prompt = tok.Encode(p, false)
	} else {
		ex.Prompt = tok.Encode(promptStr, false)
	}
	var err error
	if ex.Chosen, err = resp("chosen", r.Chosen); err != nil {
		return ex, err
	}
	if r.Completion != nil {
		if ex.Chosen, err = resp("completion", r.Completion); err != nil {
			return ex, err
		}
	}
	if ex.Rejected, err = resp("rejected", r.Rejected); err != nil {
		return ex, err
	}
	return ex, nil
}

// extractPrompt splits a preference row with an implicit prompt ({"chosen","rejected"}
// only, each the whole conversation) as TRL's maybe_extract_prompt does: the prompt is
// the longest common prefix of the two (characters, or messages), less a space just
// before the first difference; chosen and rejected are what follows it.
func extractPrompt(r *row) error {
	var cs, rs string
	if json.Unmarshal(r.Chosen, &cs) == nil && json.Unmarshal(r.Rejected, &rs) == nil {
		c, j := []rune(cs), []rune(rs)
		idx, differ := commonPrefix(len(c), len(j), func(i int) bool { return c[i] == j[i] })
		if differ && idx > 0 && c[idx-1] == ' ' {
			idx--
		}
		r.Prompt, _ = json.Marshal(string(c[:idx]))
		r.Chosen, _ = json.Marshal(string(c[idx:]))
		r.Rejected, _ = json.Marshal(string(j[idx:]))
		return nil
	}
	var c, j []json.RawMessage
	if json.Unmarshal(r.Chosen, &c) != nil || json.Unmarshal(r.Rejected, &j) != nil {
		return fmt.Errorf("chosen and rejected must both be strings or both lists of messages")
	}
	compact := func(m json.RawMessage) string {
		var b bytes.Buffer
		if json.Compact(&b, m) != nil {
			return string(m)
		}
		return b.String()
	}
	idx, _ := commonPrefix(len(c), len(j), func(i int) bool { return compact(c[i]) == compact(j[i]) })
	r.Prompt, _ = json.Marshal(c[:idx])
	r.Chosen, _ = json.Marshal(c[idx:])
	r.Rejected, _ = json.Marshal(j[idx:])
	return nil
}

// commonPrefix is where TRL's extract_prompt loop stops over sequences of lengths n and
// m: the first index at which same(i) is false (differ), or, when one is a prefix of the
// other, the last index compared (Python's loop variable after a loop without a break).
func commonPrefix(n, m int, same func(int) bool) (idx int, differ bool) {
	k := min(n, m)
	for i := 0; i < k; i++ {
		if !same(i) {
			return i, true
		}
	}
	return max(k-1, 0), false
}

// nonNil keeps an empty encoding distinguishable from a missing field: a present
// response that encodes to no tokens is reported as empty, not as absent.
func nonNil(ids []int32) []int32 {
	if ids == nil {
		return []int32{}
	}
	return ids
}

// renderChat renders prompt (with the generation prompt) and prompt+answer, and returns
// the prompt text and the answer's text as what the full rendering adds to it, as TRL's
// maybe_apply_chat_template does.
func renderChat(tok *tokenizer.Tokenizer, chat tokenizer.ChatOptions, prompt, answer []tokenizer.Message) (p, c string, err error) {
	gen := chat
	gen.AddGenerationPrompt = true
	if p, err = tok.ApplyChatTemplate(prompt, gen); err != nil {
		return "", "", err
	}
	full, err := tok.ApplyChatTemplate(append(append([]tokenizer.Message(nil), prompt...), answer...), chat)
	if err != nil {
		return "", "", err
	}
	c, ok := strings.CutPrefix(full, p)
	if !ok {
		return "", "", fmt.Errorf("the chat template renders the conversation without the prompt as its prefix")
	}
	return p, c, nil
}

// fitContext applies the context bound.
func fitContext(ex *Example, opt DataOptions) error {
	if opt.MaxLen <= 0 {
		return nil
	}
	longest := max(len(ex.Chosen), len(ex.Rejected))
	n := len(ex.Prompt) + longest
	if n <= opt.MaxLen {
		return nil
	}
	if !opt.Truncate {
		return fmt.Errorf("prompt + response is %d tokens, longer than the model's context of %d (use --truncate, or --max-length)", n, opt.MaxLen)
	}
	// Keep the end of the prompt (at least one token, the response's context), then cut
	// the responses' ends.
	keep := max(1, opt.MaxLen-longest)
	ex.Prompt = ex.Prompt[len(ex.Prompt)-min(keep, len(ex.Prompt)):]
	room := opt.MaxLen - len(ex.Prompt)
	if room <= 0 {
		return fmt.Errorf("the context of %d tokens leaves no room for a response", opt.MaxLen)
	}
	if len(ex.Chosen) > room {
		ex.Chosen = ex.Chosen[:room]
	}
	if len(ex.Rejected) > room {
		ex.Rejected = ex.Rejected[:room]
		if ex.ToxicMask != nil {
			ex.ToxicMask = ex.ToxicMask[:room]
		}
	}
	return nil
}
