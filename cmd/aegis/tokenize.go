package main

import (
	"context"
	"errors"
	"fmt"
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
	maxLine := fs.Int("max-line-bytes", tokenizer.DefaultMaxLine, "longest input line accepted, in bytes")
	if err := fs.parse(args); err != nil {
		return err
	}
	if *path == "" {
		return fmt.Errorf("%w: --tokenizer is required", errUsage)
	}
	if *maxLine < 1 {
		return fmt.Errorf("%w: --max-line-bytes must be positive", errUsage)
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
	return lineLimitHint(tk.Lines(ctx, c.stdin, c.stdout, tokenizer.LineOptions{AddSpecial: *addSpecial, SkipSpecial: *skipSpecial,
		Template: tmpl, MaxLine: *maxLine}))
}

// lineLimitHint names the flag that raises the line limit in a line-too-long error.
func lineLimitHint(err error) error {
	var long *tokenizer.LineTooLongError
	if errors.As(err, &long) {
		return fmt.Errorf("%w (--max-line-bytes)", err)
	}
	return err
}

// readTemplateFlag reads --chat-template (tokenizer.ReadTemplate); a wrong one is a usage
// error.
func readTemplateFlag(v string) (string, error) {
	t, err := tokenizer.ReadTemplate(v)
	if err != nil {
		return "", fmt.Errorf("%w: --chat-template %v", errUsage, err)
	}
	return t, nil
}
