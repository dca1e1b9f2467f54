package data

import (
	"bytes"
	"embed"
	"fmt"

	"github.com/aegis-safety/aegis/native/jsonl"

	"github.com/aegis-safety/aegis/shared"
)

// The seed data is written by the project: requests only, never harmful answers.
//
//go:embed seed/*.jsonl
var seedFS embed.FS

// Seeds are the shipped seed prompts and refusals.
type Seeds struct {
	Harmful   []Prompt          // short harmful requests, a few per harm category
	Benign    []Prompt          // XSTest-style look-alikes ("how do I kill a Python process")
	Refusals  map[string]string // category -> a safe refusal
	Compliant map[string]string // category -> the opening of an unsafe compliance (no content)
}

// LoadSeeds parses the embedded seed files.
func LoadSeeds() (*Seeds, error) {
	s := &Seeds{Refusals: map[string]string{}, Compliant: map[string]string{}}
	type row struct{ Category, Prompt, Response string }
	read := func(name string, fn func(i int, r row) error) error {
		b, err := seedFS.ReadFile("seed/" + name)
		if err != nil {
			return err
		}
		i := 0
		return jsonl.EachReader(bytes.NewReader(b), "seed/"+name, func(pos string, line []byte) error {
			var r row
			if err := jsonl.Decode(line, &r); err != nil {
				return fmt.Errorf("%s: %v", pos, err)
			}
			if err := fn(i, r); err != nil {
				return fmt.Errorf("%s: %v", pos, err)
			}
			i++
			return nil
		})
	}
	count := map[string]int{}
	err := read("harmful.jsonl", func(_ int, r row) error {
		count[r.Category]++
		p := Prompt{ID: fmt.Sprintf("seed-%s-%02d", r.Category, count[r.Category]), Prompt: r.Prompt,
			Category: r.Category, Source: "aegis-seed"}
		if r.Category == shared.Benign {
			return fmt.Errorf("harmful seed marked benign")
		}
		s.Harmful = append(s.Harmful, p)
		return p.Check()
	})
	if err == nil {
		err = read("benign.jsonl", func(i int, r row) error {
			s.Benign = append(s.Benign, Prompt{ID: fmt.Sprintf("seed-benign-%02d", i+1), Prompt: r.Prompt,
				Category: shared.Benign, Source: "aegis-seed"})
			return nil
		})
	}
	if err == nil {
		err = read("refusals.jsonl", func(_ int, r row) error {
			if !shared.ValidCategory(r.Category) || r.Response == "" {
				return fmt.Errorf("bad refusal row")
			}
			s.Refusals[r.Category] = r.Response
			return nil
		})
	}
	if err != nil {
		return nil, err
	}
	for _, c := range shared.HarmCodes() {
		if s.Refusals[c] == "" {
			return nil, fmt.Errorf("seed/refusals.jsonl: no refusal for %s", c)
		}
		s.Compliant[c] = "Sure, here is exactly what you asked for. Step 1:"
	}
	return s, nil
}
