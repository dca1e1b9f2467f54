package eval

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/aegis-safety/aegis/native/jsonl"
	"github.com/aegis-safety/aegis/shared"
)

// LabelRow is one labelled row of `aegis judge eval --labels`: {"prompt","response"} with
// at least one of the gold labels "refusal" and "unsafe" (JSON booleans; an absent key
// means the row is not labelled for that dimension), optionally "category" (a taxonomy
// code) and "id". Other keys are kept and written back with the row.
type LabelRow struct {
	ID       string
	Prompt   string
	Response string
	Category string
	Refusal  *bool // nil: not labelled for refusal
	Unsafe   *bool // nil: not labelled for harmfulness
	Pos      string
	fields   []jsonField // the row as read, in order
}

// jsonField is one key of a JSON object and its value as written.
type jsonField struct {
	key string
	raw json.RawMessage
}

// ReadLabels reads a labels JSONL file. Blank lines are skipped; the first bad row stops
// the read with an error "FILE:LINE: reason".
func ReadLabels(path string) ([]LabelRow, error) {
	var rows []LabelRow
	err := jsonl.Each(path, func(pos string, line []byte) error {
		row, err := parseLabel(line)
		if err != nil {
			return fmt.Errorf("%s: %v", pos, err)
		}
		row.Pos = pos
		rows = append(rows, row)
		return nil
	})
	if err == nil && len(rows) == 0 {
		err = fmt.Errorf("%s: no labelled rows", path)
	}
	return rows, err
}

// parseLabel reads and checks one row.
func parseLabel(line []byte) (LabelRow, error) {
	fields, err := readObject(line)
	if err != nil {
		return LabelRow{}, err
	}
	row := LabelRow{fields: fields}
	get := func(k string) (json.RawMessage, bool) {
		for _, f := range fields {
			if f.key == k {
				return f.raw, true
			}
		}
		return nil, false
	}
	for _, k := range []struct {
		name string
		dst  *string
	}{{"prompt", &row.Prompt}, {"response", &row.Response}} {
		raw, ok := get(k.name)
		if !ok {
			return row, fmt.Errorf("missing %q", k.name)
		}
		if raw[0] != '"' || json.Unmarshal(raw, k.dst) != nil {
			return row, fmt.Errorf("%q is not a string: %s", k.name, short(raw))
		}
	}
	for _, k := range []struct {
		name string
		dst  **bool
	}{{"refusal", &row.Refusal}, {"unsafe", &row.Unsafe}} {
		raw, ok := get(k.name)
		if !ok {
			continue
		}
		switch string(raw) {
		case "true", "false":
			b := string(raw) == "true"
			*k.dst = &b
		default:
			return row, fmt.Errorf("label %q is %s, not a JSON boolean (true or false; leave the key out for a row not labelled for it)", k.name, short(raw))
		}
	}
	if row.Refusal == nil && row.Unsafe == nil {
		return row, errors.New(`no label: a row needs "unsafe" or "refusal" (true or false), or both`)
	}
	if raw, ok := get("category"); ok && string(raw) != "null" {
		if raw[0] != '"' || json.Unmarshal(raw, &row.Category) != nil {
			return row, fmt.Errorf(`"category" is not a string: %s`, short(raw))
		}
		if row.Category != "" && !shared.ValidCategory(row.Category) {
			return row, fmt.Errorf("category %q is not in the taxonomy (S1-S14, benign)", row.Category)
		}
	}
	if raw, ok := get("id"); ok {
		switch raw[0] {
		case '"':
			json.Unmarshal(raw, &row.ID)
		case 'n', 't', 'f', '{', '[':
			return row, fmt.Errorf(`"id" is neither a string nor a number: %s`, short(raw))
		default:
			row.ID = string(raw)
		}
	}
	return row, nil
}

// readObject parses one JSON object, keeping its keys in order; a key given twice is an
// error, as is anything after the object.
func readObject(b []byte) ([]jsonField, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, errors.New("not a JSON object")
	}
	var fields []jsonField
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, fmt.Errorf("not a JSON object: %v", err)
		}
		k := tok.(string)
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, fmt.Errorf("not a JSON object: %v", err)
		}
		if seen[k] {
			return nil, fmt.Errorf("key %q appears twice", k)
		}
		seen[k] = true
		fields = append(fields, jsonField{k, raw})
	}
	if _, err := dec.Token(); err != nil {
		return nil, fmt.Errorf("not a JSON object: %v", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("not a JSON object: more after its end")
	}
	return fields, nil
}

// short shows a JSON value in an error message.
func short(raw json.RawMessage) string {
	s := strings.Join(strings.Fields(string(raw)), " ")
	if len(s) > 40 {
		s = s[:40] + "..."
	}
	return s
}
