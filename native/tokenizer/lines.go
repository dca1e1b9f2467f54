package tokenizer

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// LineOptions say how Line treats its input.
type LineOptions struct {
	AddSpecial  bool   // apply the post-processor to {"text"} (e.g. add BOS)
	SkipSpecial bool   // leave special tokens out when decoding {"ids"}
	Template    string // chat template for {"messages"}: built-in name or source ("": the tokenizer's)
	MaxLine     int    // Lines: the longest input line accepted, in bytes (0: DefaultMaxLine)
}

// DefaultMaxLine is the longest input line Lines and TrainBPE accept when their options
// leave the limit 0: 1 MiB.
const DefaultMaxLine = 1 << 20

// LineTooLongError is an input line over the line limit. The reader stops at the limit:
// the rest of the line is never held in memory.
type LineTooLongError struct {
	Line, Max int // the 1-based line number and the limit in bytes
}

func (e *LineTooLongError) Error() string {
	return fmt.Sprintf("line %d is longer than the line limit of %d bytes", e.Line, e.Max)
}

// readLine reads one line of r with its line break, refusing a line of more than max
// bytes (the line break not counted) with a *LineTooLongError for line n. At the end of
// the input it returns what is left and io.EOF.
func readLine(r *bufio.Reader, n, max int) ([]byte, error) {
	var line []byte
	for {
		chunk, err := r.ReadSlice('\n')
		line = append(line, chunk...)
		if len(bytes.TrimRight(line, "\r\n")) > max {
			return nil, &LineTooLongError{n, max}
		}
		if !errors.Is(err, bufio.ErrBufferFull) {
			return line, err
		}
	}
}

// Line answers one JSON line: {"text"} with {"ids"}; {"messages"} (with optional
// "add_generation_prompt", "tools", "chat_template_kwargs") with the rendered chat's
// {"text","ids"}, its text encoded without special tokens as transformers'
// apply_chat_template(tokenize=True) does; {"ids"} with the decoded {"text"}.
func (t *Tokenizer) Line(line []byte, o LineOptions) (any, error) {
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
		text, err := t.ApplyChatTemplateJSON(in.Messages, ChatOptions{
			AddGenerationPrompt: in.AddGenerationPrompt, Template: o.Template, Tools: in.Tools, Vars: in.Kwargs})
		if err != nil {
			return nil, err
		}
		return struct {
			Text string  `json:"text"`
			IDs  []int32 `json:"ids"`
		}{text, nonNilIDs(t.Encode(text, false))}, nil
	case in.Text != nil:
		return struct {
			IDs []int32 `json:"ids"`
		}{nonNilIDs(t.Encode(*in.Text, o.AddSpecial))}, nil
	case in.IDs != nil:
		for _, id := range in.IDs {
			if id < 0 || int(id) >= t.VocabSize() {
				return nil, fmt.Errorf("token id %d is outside the vocabulary (%d)", id, t.VocabSize())
			}
		}
		return struct {
			Text string `json:"text"`
		}{t.Decode(in.IDs, o.SkipSpecial)}, nil
	}
	return nil, errors.New(`need "text", "messages" or "ids"`)
}

// nonNilIDs makes an empty result a JSON [] rather than null.
func nonNilIDs(ids []int32) []int32 {
	if ids == nil {
		return []int32{}
	}
	return ids
}

// Lines answers every non-blank JSON line of r with Line, one line on w each, in order.
// It flushes whenever no more input is waiting, so that a caller that waits for each
// answer sees it. When ctx ends it stops after the current line, everything before
// written out; a bad line, or one longer than o.MaxLine, stops it with an error naming
// the line.
func (t *Tokenizer) Lines(ctx context.Context, r io.Reader, w io.Writer, o LineOptions) error {
	in := bufio.NewReaderSize(r, 1<<16)
	bw := bufio.NewWriterSize(w, 1<<16)
	defer bw.Flush()
	enc := json.NewEncoder(bw)
	enc.SetEscapeHTML(false)
	max := o.MaxLine
	if max <= 0 {
		max = DefaultMaxLine
	}
	for n := 1; ; n++ {
		if ctx.Err() != nil {
			bw.Flush()
			return fmt.Errorf("interrupted after %d lines", n-1)
		}
		line, err := readLine(in, n, max)
		var long *LineTooLongError
		if errors.As(err, &long) {
			bw.Flush()
			return err
		}
		if len(bytes.TrimSpace(line)) > 0 {
			out, lerr := t.Line(line, o)
			if lerr != nil {
				bw.Flush()
				return fmt.Errorf("line %d: %v", n, lerr)
			}
			if err := enc.Encode(out); err != nil {
				return err
			}
			if in.Buffered() == 0 {
				if err := bw.Flush(); err != nil {
					return err
				}
			}
		}
		if errors.Is(err, io.EOF) {
			return bw.Flush()
		}
		if err != nil {
			return err
		}
	}
}
