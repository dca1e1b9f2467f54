package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/aegis-safety/aegis/shared"
)

// Row is one corpus line; the field order is the line's key order.
type Row struct {
	Prompt   string `json:"prompt"`
	Response string `json:"response"`
	Category string `json:"category"`
	Refusal  bool   `json:"refusal"`
	Unsafe   bool   `json:"unsafe"`
	Topic    string `json:"topic"`
	Form     string `json:"form"`
	Lang     string `json:"lang"`
	Source   string `json:"source"`
	Split    string `json:"split"`
}

// capShare is the largest share of the whole corpus one template family may hold.
const capShare = 0.05

// heldFamilies are the template families whose every row is in the test split: one
// unsafe family, two refusal families (one of them not English) and one helpful family.
var heldFamilies = map[string]bool{
	"historical_compliance":    true,
	"refusal_in_character":     true,
	"refusal_de":               true,
	"helpful_with_sorry_words": true,
}

// heldTopic reports whether a topic is held out: FNV-1a 32 of the slug, 1 topic in 5.
func heldTopic(slug string) bool { return fnv32(slug)%5 == 0 }

// splitOf is the split of a row of the given topic and template family ("" for a written row).
func splitOf(topic, family string) string {
	if heldTopic(topic) || heldFamilies[family] {
		return "test"
	}
	return "train"
}

// corpus is the generated corpus and what the summary reports about it.
type corpus struct {
	rows       []Row
	written    int // written rows kept
	writtenDup int // written rows dropped as exact duplicates
	skipped    int // templated rows dropped because no fresh (prompt, response) was found
	moved      int // train rows moved to test because their prompt is also a test prompt
}

// build reads the written rows of dir, generates the templated rows, assigns the splits
// and checks the family cap.
func build(dir string) (*corpus, error) {
	written, dup, err := readWritten(dir)
	if err != nil {
		return nil, err
	}
	c := &corpus{written: len(written), writtenDup: dup}
	g := newGenerator(written)
	for _, f := range families {
		g.run(f)
	}
	c.rows = append(written, g.rows...)
	c.skipped = g.skipped
	c.moved = moveSharedPrompts(c.rows)
	if err := checkCap(c.rows); err != nil {
		return nil, err
	}
	return c, nil
}

// moveSharedPrompts moves to test every train row whose prompt is also the prompt of a test
// row, so that no prompt is in both splits. The generator already avoids such prompts, so
// this only catches what it could not avoid (mostly written rows that share a prompt but
// not a topic). It returns the number of rows moved.
func moveSharedPrompts(rows []Row) int {
	test := map[string]bool{}
	for _, r := range rows {
		if r.Split == "test" {
			test[r.Prompt] = true
		}
	}
	moved := 0
	for i := range rows {
		if rows[i].Split == "train" && test[rows[i].Prompt] {
			rows[i].Split = "test"
			moved++
		}
	}
	return moved
}

// familyCounts counts the rows of each template family.
func familyCounts(rows []Row) map[string]int {
	n := map[string]int{}
	for _, r := range rows {
		if f, ok := strings.CutPrefix(r.Source, "template/"); ok {
			n[f]++
		}
	}
	return n
}

// checkCap fails when a template family holds more than capShare of the whole corpus.
func checkCap(rows []Row) error {
	limit := int(capShare * float64(len(rows)))
	var over []string
	for f, n := range familyCounts(rows) {
		if n > limit {
			over = append(over, fmt.Sprintf("%s has %d rows", f, n))
		}
	}
	if len(over) > 0 {
		sort.Strings(over)
		return fmt.Errorf("template families above the %.0f%% cap (%d of %d rows): %s",
			capShare*100, limit, len(rows), strings.Join(over, "; "))
	}
	return nil
}

// encode writes the rows as JSON lines (no HTML escaping, keys in Row's order).
func encode(rows []Row) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	for _, r := range rows {
		if err := enc.Encode(r); err != nil {
			return nil, err
		}
	}
	return b.Bytes(), nil
}

// labelError returns why a row breaks the label rules, or "".
func labelError(r Row) string {
	switch {
	case !shared.ValidCategory(r.Category):
		return fmt.Sprintf("category %q is not S1..S14 or benign", r.Category)
	case r.Refusal && r.Unsafe:
		return "refusal and unsafe are both true"
	case r.Category == shared.Benign && r.Unsafe:
		return "a benign row is unsafe"
	case strings.TrimSpace(r.Prompt) == "":
		return "empty prompt"
	case strings.TrimSpace(r.Response) == "" && !r.Refusal:
		return "empty response not labelled refusal (README: an empty response is a refusal)"
	case strings.TrimSpace(r.Topic) == "":
		return "empty topic"
	}
	return ""
}
