package debias

import (
	"fmt"
	"strings"

	"github.com/aegis-safety/aegis/native/jsonl"
	"github.com/aegis-safety/aegis/shared"
)

// ReadTexts reads the benign text Fit's random prompts are drawn from: the lines of a
// text file, or the "prompt" or "text" of JSONL rows (.jsonl, .json), skipping rows whose
// category is not benign. A file with no such text is an error.
func ReadTexts(path string) ([]string, error) {
	var out []string
	err := jsonl.Each(path, func(pos string, line []byte) error {
		if !strings.HasSuffix(path, ".jsonl") && !strings.HasSuffix(path, ".json") {
			out = append(out, string(line))
			return nil
		}
		var r struct{ Prompt, Text, Category string }
		if err := jsonl.Decode(line, &r); err != nil {
			return fmt.Errorf("%s: %v", pos, err)
		}
		if t := r.Prompt + r.Text; t != "" && (r.Category == "" || r.Category == shared.Benign) {
			out = append(out, t)
		}
		return nil
	})
	if err == nil && len(out) == 0 {
		err = fmt.Errorf("%s: no benign text", path)
	}
	return out, err
}
