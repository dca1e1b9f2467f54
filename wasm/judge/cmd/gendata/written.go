package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// writtenKeys are the keys of a written row and whether each is a string (else a bool).
var writtenKeys = []struct {
	name   string
	isText bool
}{
	{"prompt", true}, {"response", true}, {"category", true}, {"refusal", false},
	{"unsafe", false}, {"topic", true}, {"form", true}, {"lang", true},
}

// readWritten reads every dir/*.jsonl in file-name order. A missing folder or no files is
// zero rows. An invalid row is an error "FILE:LINE: reason". Exact duplicate (prompt,
// response) pairs after the first are dropped; dup counts them.
func readWritten(dir string) (rows []Row, dup int, err error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.jsonl"))
	if err != nil {
		return nil, 0, err
	}
	sort.Strings(files)
	seen := map[string]bool{}
	for _, path := range files {
		got, err := readWrittenFile(path)
		if err != nil {
			return nil, 0, err
		}
		for _, r := range got {
			key := r.Prompt + "\x00" + r.Response
			if seen[key] {
				dup++
				continue
			}
			seen[key] = true
			rows = append(rows, r)
		}
	}
	return rows, dup, nil
}

// readWrittenFile reads and validates one file; blank lines are skipped.
func readWrittenFile(path string) ([]Row, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	source := "written/" + filepath.Base(path)
	br := bufio.NewReader(f)
	var rows []Row
	for line := 1; ; line++ {
		text, rerr := br.ReadBytes('\n')
		if rerr != nil && !errors.Is(rerr, io.EOF) {
			return nil, fmt.Errorf("%s:%d: %v", path, line, rerr)
		}
		if t := bytes.TrimSpace(text); len(t) > 0 {
			r, why := parseWritten(t)
			if why != "" {
				return nil, fmt.Errorf("%s:%d: %s", path, line, why)
			}
			r.Source, r.Split = source, splitOf(r.Topic, "")
			rows = append(rows, r)
		}
		if rerr != nil {
			return rows, nil
		}
	}
}

// parseWritten decodes one written row and returns why it is invalid, or "".
func parseWritten(line []byte) (Row, string) {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(line, &raw); err != nil {
		return Row{}, "not a JSON object: " + err.Error()
	}
	known := map[string]bool{}
	for _, k := range writtenKeys {
		known[k.name] = true
	}
	var extra []string
	for k := range raw {
		if !known[k] {
			extra = append(extra, k)
		}
	}
	if len(extra) > 0 {
		sort.Strings(extra)
		return Row{}, "unknown keys " + strings.Join(extra, ", ") + " (source and split are set by gendata)"
	}
	text, flag := map[string]string{}, map[string]bool{}
	for _, k := range writtenKeys {
		v, ok := raw[k.name]
		if !ok {
			return Row{}, fmt.Sprintf("missing key %q", k.name)
		}
		var err error
		if k.isText {
			err = decodeString(v, text, k.name)
		} else {
			err = decodeBool(v, flag, k.name)
		}
		if err != nil {
			return Row{}, err.Error()
		}
	}
	r := Row{Prompt: text["prompt"], Response: text["response"], Category: text["category"],
		Refusal: flag["refusal"], Unsafe: flag["unsafe"], Topic: text["topic"], Form: text["form"], Lang: text["lang"]}
	return r, labelError(r)
}

func decodeString(v json.RawMessage, into map[string]string, key string) error {
	var s string
	if len(v) == 0 || v[0] != '"' || json.Unmarshal(v, &s) != nil {
		return fmt.Errorf("key %q must be a string, got %s", key, v)
	}
	into[key] = s
	return nil
}

func decodeBool(v json.RawMessage, into map[string]bool, key string) error {
	switch string(v) {
	case "true":
		into[key] = true
	case "false":
		into[key] = false
	default:
		return fmt.Errorf("key %q must be true or false, got %s", key, v)
	}
	return nil
}
