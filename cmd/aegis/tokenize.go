package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/aegis-safety/aegis/native/tokenizer"
)

func runTokenize(ctx context.Context, c *cli, args []string) error {
	fs := newFlags("tokenize", "--tokenizer FILE|DIR [--add-special-tokens] [--chat-template NAME|FILE] [--skip-special-tokens] < in.jsonl",
		`Reads JSONL on stdin and writes one JSONL line per input line, in order:
  {"text": "..."}                    -> {"ids": [...]}
  {"messages": [{"role": "user", "content": "..."}], "add_generation_prompt": true}
                                     -> {"text": "<rendered chat>", "ids": [...]}
  {"ids": [...]}                     -> {"text": "..."}  (decoding)
Text gets no special tokens unless --add-special-tokens (the tokenizer's post-processor,
e.g. a leading BOS). Messages are rendered with the chat template (tokenizer_config.json's
chat_template, or --chat-template) and the text is tokenized without adding special
tokens, as transformers' apply_chat_template(tokenize=True) does. A messages line may also
carry "tools" (a list of tool definitions) and "chat_template_kwargs" (extra template
variables, e.g. {"enable_thinking": false}). Blank lines are skipped.`, c.stdout)
	path := fs.String("tokenizer", "", "tokenizer.json, or a model folder holding it (and tokenizer_config.json)")
	addSpecial := fs.Bool("add-special-tokens", false, "apply the post-processor to {\"text\"} inputs (e.g. add BOS)")
	skipSpecial := fs.Bool("skip-special-tokens", false, "leave special tokens out when decoding {\"ids\"} inputs")
	tmplFlag := fs.String("chat-template", "", "chat template: a built-in name ("+strings.Join(tokenizer.BuiltinTemplates(), ", ")+") or a .jinja file; default: the tokenizer's")
	if err := fs.parse(args); err != nil {
		return err
	}
	if *path == "" {
		return fmt.Errorf("%w: --tokenizer is required", errUsage)
	}
	tk, err := tokenizer.Load(*path)
	if err != nil {
		return err
	}
	tmpl, err := readTemplateFlag(*tmplFlag)
	if err != nil {
		return err
	}
	// Ctrl-C stops after the current line with everything done so far written out.
	c.handleInterrupt()
	in := bufio.NewReaderSize(c.stdin, 1<<16)
	w := bufio.NewWriterSize(c.stdout, 1<<16)
	defer w.Flush()
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	for n := 1; ; n++ {
		if ctx.Err() != nil {
			w.Flush()
			return fmt.Errorf("interrupted after %d lines", n-1)
		}
		line, err := in.ReadBytes('\n')
		if len(bytes.TrimSpace(line)) > 0 {
			out, lerr := tokenizeLine(tk, line, *addSpecial, *skipSpecial, tmpl)
			if lerr != nil {
				w.Flush()
				return fmt.Errorf("line %d: %v", n, lerr)
			}
			if err := enc.Encode(out); err != nil {
				return err
			}
			if in.Buffered() == 0 { // let a caller that waits for each answer see it
				if err := w.Flush(); err != nil {
					return err
				}
			}
		}
		if errors.Is(err, io.EOF) {
			return w.Flush()
		}
		if err != nil {
			return err
		}
	}
}

// readTemplateFlag returns a built-in template name as is and reads a file's template.
func readTemplateFlag(v string) (string, error) {
	if v == "" || strings.Contains(v, "{") {
		return v, nil
	}
	for _, n := range tokenizer.BuiltinTemplates() {
		if v == n {
			return v, nil
		}
	}
	b, err := os.ReadFile(v)
	if err != nil {
		return "", fmt.Errorf("%w: --chat-template %q is neither a built-in template (%s) nor a readable file", errUsage, v, strings.Join(tokenizer.BuiltinTemplates(), ", "))
	}
	return string(b), nil
}

func tokenizeLine(tk *tokenizer.Tokenizer, line []byte, addSpecial, skipSpecial bool, tmpl string) (any, error) {
	var in struct {
		IDs                 []int32         `json:"ids"`
		Text                *string         `json:"text"`
		Messages            json.RawMessage `json:"messages"`
		AddGenerationPrompt bool            `json:"add_generation_prompt"`
		Tools               json.RawMessage `json:"tools"`
		Kwargs              map[string]any  `json:"chat_template_kwargs"`
	}
	if err := json.Unmarshal(line, &in); err != nil {
		return nil, fmt.Errorf("not a JSON object: %v", err)
	}
	switch {
	case in.Messages != nil:
		text, err := tk.ApplyChatTemplateJSON(in.Messages, tokenizer.ChatOptions{
			AddGenerationPrompt: in.AddGenerationPrompt, Template: tmpl, Tools: in.Tools, Vars: in.Kwargs})
		if err != nil {
			return nil, err
		}
		return struct {
			Text string  `json:"text"`
			IDs  []int32 `json:"ids"`
		}{text, nonNil(tk.Encode(text, false))}, nil
	case in.Text != nil:
		return struct {
			IDs []int32 `json:"ids"`
		}{nonNil(tk.Encode(*in.Text, addSpecial))}, nil
	case in.IDs != nil:
		for _, id := range in.IDs {
			if id < 0 || int(id) >= tk.VocabSize() {
				return nil, fmt.Errorf("token id %d is outside the vocabulary (%d)", id, tk.VocabSize())
			}
		}
		return struct {
			Text string `json:"text"`
		}{tk.Decode(in.IDs, skipSpecial)}, nil
	}
	return nil, errors.New(`need "text", "messages" or "ids"`)
}

func nonNil(ids []int32) []int32 {
	if ids == nil {
		return []int32{}
	}
	return ids
}
