package data

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/aegis-safety/aegis/shared"
)

// Prompt is one row of a prompts file.
type Prompt struct {
	ID       string `json:"id"`
	Prompt   string `json:"prompt"`
	Category string `json:"category"` // S1-S14 or benign
	Source   string `json:"source"`   // where the row came from: "aegis-seed", "advbench", ...
	Split    string `json:"split"`    // train, test, heldout_topic, heldout_style, heldout_both
	// Attack is the attack style that wrote the prompt, when it is a jailbreak variant
	// (an optional extension of the format: eval reports it as the attempt's style).
	Attack string `json:"attack,omitempty"`
}

// Check reports what is wrong with a prompt row.
func (p *Prompt) Check() error {
	switch {
	case p.ID == "":
		return errors.New(`missing "id"`)
	case p.Prompt == "":
		return errors.New(`missing "prompt"`)
	case !shared.ValidCategory(p.Category):
		return fmt.Errorf("category %q is not in the taxonomy (S1-S14, benign)", p.Category)
	}
	return nil
}

// ReadPrompts reads a prompts JSONL file, refusing it at the first malformed line
// (reported as FILE:LINE) or a repeated id.
func ReadPrompts(path string) ([]Prompt, error) {
	var out []Prompt
	seen := map[string]int{}
	err := EachJSONLine(path, func(pos string, line []byte) error {
		var p Prompt
		if err := strictUnmarshal(line, &p); err != nil {
			return fmt.Errorf("%s: not a prompts row: %v", pos, err)
		}
		if err := p.Check(); err != nil {
			return fmt.Errorf("%s: %v", pos, err)
		}
		if _, dup := seen[p.ID]; dup {
			return fmt.Errorf("%s: id %q repeats an earlier row", pos, p.ID)
		}
		seen[p.ID] = len(out)
		out = append(out, p)
		return nil
	})
	return out, err
}

// strictUnmarshal decodes one JSON value and refuses trailing data.
func strictUnmarshal(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return errors.New("trailing data after the JSON value")
	}
	return nil
}

// EachJSONLine calls fn with "FILE:LINE" and the bytes of every non-blank line of path.
// Lines may be long (no bufio.Scanner limit).
func EachJSONLine(path string, fn func(pos string, line []byte) error) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	r := bufio.NewReaderSize(f, 1<<16)
	for n := 1; ; n++ {
		line, err := r.ReadBytes('\n')
		if n == 1 {
			line = bytes.TrimPrefix(line, []byte("\ufeff")) // a UTF-8 byte order mark
		}
		if t := bytes.TrimSpace(line); len(t) > 0 {
			if ferr := fn(fmt.Sprintf("%s:%d", path, n), t); ferr != nil {
				return ferr
			}
		}
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// WriteJSONL writes rows as JSON lines (HTML characters unescaped, as people read them).
func WriteJSONL[T any](path string, rows []T) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(f)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	for i := range rows {
		if err := enc.Encode(rows[i]); err != nil {
			f.Close()
			return err
		}
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
