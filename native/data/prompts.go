package data

import (
	"errors"
	"fmt"
	"hash/fnv"
	"slices"
	"strings"

	"github.com/aegis-safety/aegis/native/jsonl"

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

// SplitList splits a comma-separated list (of splits, styles, categories: a flag's value),
// dropping blanks around and between the items.
func SplitList(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

// SelectPrompts keeps, in order, the prompts of the splits named in the comma-separated
// list splits ("": every split), the first limit of them (0: all).
func SelectPrompts(prompts []Prompt, splits string, limit int) []Prompt {
	if splits != "" {
		keep := SplitList(splits)
		prompts = slices.DeleteFunc(prompts, func(p Prompt) bool { return !slices.Contains(keep, p.Split) })
	}
	if limit > 0 && len(prompts) > limit {
		prompts = prompts[:limit]
	}
	return prompts
}

// CountSplits counts the prompts of each split.
func CountSplits(prompts []Prompt) map[string]int {
	counts := map[string]int{}
	for _, p := range prompts {
		counts[p.Split]++
	}
	return counts
}

// RowSeed is the seed of the row id under base: base XOR the 64-bit FNV-1a hash of id.
// aegis attack, data build and eval seed each prompt's attack module call so, so that
// their output depends on neither the order nor the concurrency of the calls.
func RowSeed(base uint64, id string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(id))
	return base ^ h.Sum64()
}

// ReadPrompts reads a prompts JSONL file, refusing it at the first malformed line
// (reported as FILE:LINE) or a repeated id.
func ReadPrompts(path string) ([]Prompt, error) {
	var out []Prompt
	seen := map[string]int{}
	err := jsonl.Each(path, func(pos string, line []byte) error {
		var p Prompt
		if err := jsonl.Decode(line, &p); err != nil {
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
