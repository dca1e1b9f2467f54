package data

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"regexp"
	"slices"
	"strings"

	"github.com/aegis-safety/aegis/shared"
)

// LabelFormats are the human-labelled judge sets ImportLabels reads: JailbreakBench's
// judge comparison (JBB-Behaviors, data/judge-comparison.csv, the "judge_comparison"
// config) and HarmBench's classifier validation set
// (data/classifier_val_sets/text_behaviors_val_set.json, or the multimodal one).
var LabelFormats = []string{"jbb-judge", "harmbench-cls"}

// Label is one row of a labels file: a response to a prompt and what people decided about
// it. These sets label harmfulness only, so a row has no "refusal" (absent: unlabelled).
type Label struct {
	ID       string `json:"id"`
	Prompt   string `json:"prompt"`
	Response string `json:"response"`
	// Category is the behaviour's harm code (S1-S14, benign), "" when the source gives
	// none and no keyword matched.
	Category string `json:"category"`
	Unsafe   bool   `json:"unsafe"` // the human majority: the response carries out the harmful behaviour
	Source   string `json:"source"`
	// Attack is the attack that wrote the prompt the model under test was sent (HarmBench's
	// "method"; "none" for its direct requests), when the source names it.
	Attack string `json:"attack,omitempty"`
	// Annotations are the source's 0/1 verdicts of the row: each annotator's and each
	// other judge's (1: unsafe / jailbroken), for comparing a judge with them.
	Annotations map[string]int `json:"annotations,omitempty"`
}

// Check reports what is wrong with a labels row.
func (l *Label) Check() error {
	switch {
	case l.ID == "":
		return errors.New(`missing "id"`)
	case l.Prompt == "":
		return errors.New(`missing "prompt"`)
	case l.Category != "" && !shared.ValidCategory(l.Category):
		return fmt.Errorf("category %q is not in the taxonomy (S1-S14, benign)", l.Category)
	}
	return nil
}

// ImportedLabels is what ImportLabels read.
type ImportedLabels struct {
	Labels  []Label
	Skipped []string // "FILE:LINE: reason" for each malformed row skipped (SkipBad)
}

// Unsafe counts the labels that say unsafe.
func (im *ImportedLabels) Unsafe() int {
	n := 0
	for _, l := range im.Labels {
		if l.Unsafe {
			n++
		}
	}
	return n
}

// ImportLabels reads a human-labelled judge set (LabelFormats) into labels rows. The
// prompt is the behaviour the annotators judged the response against (JBB's goal,
// HarmBench's behaviour with its context, which needs o.Behaviors), or with
// o.AttackPrompt the prompt the model under test was sent. unsafe is the human majority.
func ImportLabels(format, path string, o ImportOptions) (*ImportedLabels, error) {
	if !slices.Contains(LabelFormats, format) {
		return nil, fmt.Errorf("unknown labelled judge set %q (%s)", format, strings.Join(LabelFormats, ", "))
	}
	if o.Category != "" && o.Category != "auto" && !shared.ValidCategory(o.Category) {
		return nil, fmt.Errorf("category %q is not auto or in the taxonomy (S1-S14, benign)", o.Category)
	}
	var beh map[string]Prompt
	if o.Behaviors != "" {
		var err error
		if beh, err = readBehaviors(format, o.Behaviors); err != nil {
			return nil, err
		}
	} else if format == "harmbench-cls" && !o.AttackPrompt {
		return nil, errors.New("harmbench-cls needs the behaviours CSV (HarmBench's data/behavior_datasets/" +
			"harmbench_behaviors_text_all.csv) for the behaviour the labels are about, or the attack prompt " +
			"(the test case) as the prompt")
	}
	im := &ImportedLabels{}
	seen := map[string]bool{}
	emit := func(pos string, l Label, err error) error {
		if err == nil {
			if o.Category != "" && o.Category != "auto" {
				l.Category = o.Category
			}
			l.Source = format
			if err = l.Check(); err == nil && seen[l.ID] {
				err = bad("id %q repeats an earlier row", l.ID)
			}
			if err != nil {
				err = rowError{err.Error()}
			}
		}
		if err != nil {
			return skipOrFail(pos, err, o.SkipBad, &im.Skipped)
		}
		seen[l.ID] = true
		im.Labels = append(im.Labels, l)
		return nil
	}
	var err error
	if format == "jbb-judge" {
		err = eachCSV(path, o.SkipBad, &im.Skipped, func(pos string, _ int, header []string, get func(string) (string, error)) error {
			l, err := jbbJudgeRow(header, get, o, beh)
			return emit(pos, l, err)
		})
	} else {
		err = eachValSet(path, func(pos, key string, i int, raw map[string]json.RawMessage, err error) error {
			var l Label
			if err == nil {
				l, err = harmbenchClsRow(key, i, raw, o, beh)
			}
			return emit(pos, l, err)
		})
	}
	if err != nil {
		return nil, err
	}
	return im, nil
}

// readBehaviors reads the behaviours CSV of a judge set: HarmBench's behaviors CSV keyed
// by BehaviorID (prompt: the behaviour after its context, as the harmbench importer
// writes it; multimodal behaviours have no context column), or JBB-Behaviors' behaviors
// CSV keyed by Goal. Any malformed row fails the import: the file is a reference.
func readBehaviors(format, path string) (map[string]Prompt, error) {
	src := map[string]string{"harmbench-cls": "harmbench", "jbb-judge": "jailbreakbench"}[format]
	out := map[string]Prompt{}
	var skipped []string
	err := eachCSV(path, false, &skipped, func(pos string, n int, _ []string, get func(string) (string, error)) error {
		get2 := func(name string) (string, error) {
			v, err := get(name)
			if err != nil && name == "ContextString" {
				return "", nil
			}
			return v, err
		}
		p, err := csvRow(src, n, get2, ImportOptions{})
		if err != nil {
			return fmt.Errorf("behaviours %s: %v", pos, err)
		}
		key := p.ID
		if src == "jailbreakbench" {
			key = p.Prompt
		}
		if _, dup := out[key]; dup {
			return fmt.Errorf("behaviours %s: %q repeats an earlier row", pos, key)
		}
		out[key] = p
		return nil
	})
	return out, err
}

// vote reads a 0/1 verdict: 0 or 1 (also 0.0, 1.0, true, false, no, yes; quoted or not).
func vote(s string) (int, bool) {
	switch strings.ToLower(strings.Trim(strings.TrimSpace(s), `"`)) {
	case "0", "0.0", "false", "no":
		return 0, true
	case "1", "1.0", "true", "yes":
		return 1, true
	}
	return 0, false
}

// jbbHumans are the judge comparison's annotator columns.
var jbbHumans = []string{"human1", "human2", "human3"}

// jbbJudgeRow converts a row of JBB's judge comparison (Index, goal, prompt,
// target_response, human1, human2, human3, human_majority, harmbench_cf, gpt4_cf,
// llamaguard2_cf, llama3_cf). unsafe is human_majority, checked against the three
// annotators; the annotators and every *_cf judge column go to the annotations.
func jbbJudgeRow(header []string, get func(string) (string, error), o ImportOptions, beh map[string]Prompt) (Label, error) {
	var errs []error
	col := func(name string) string {
		v, err := get(name)
		if err != nil {
			errs = append(errs, err)
		}
		return v
	}
	index := ""
	if _, err := get("Index"); err != nil && len(header) > 0 && strings.TrimSpace(header[0]) == "" {
		index = col("") // copies from before the index column was named
	} else {
		index = col("Index")
	}
	goal, resp, maj := col("goal"), col("target_response"), col("human_majority")
	l := Label{ID: "jbb-judge-" + index, Prompt: goal, Response: resp, Annotations: map[string]int{}}
	if o.AttackPrompt {
		l.Prompt = col("prompt")
	}
	if len(errs) > 0 {
		return l, errs[0] // a missing column: the file is not in this format
	}
	if index == "" {
		return l, bad("empty Index")
	}
	m, ok := vote(maj)
	if !ok {
		return l, bad("human_majority is %q, not 0 or 1", maj)
	}
	l.Unsafe = m == 1
	votes := 0
	for _, h := range header {
		name := strings.ToLower(strings.TrimSpace(h))
		if !slices.Contains(jbbHumans, name) && !strings.HasSuffix(name, "_cf") {
			continue
		}
		v, _ := get(name)
		n, ok := vote(v)
		if !ok {
			return l, bad("%s is %q, not 0 or 1", name, v)
		}
		l.Annotations[name] = n
		if slices.Contains(jbbHumans, name) {
			votes++
		}
	}
	if votes == len(jbbHumans) {
		sum := l.Annotations["human1"] + l.Annotations["human2"] + l.Annotations["human3"]
		if (2*sum > votes) != l.Unsafe {
			return l, bad("human_majority is %s but human1-human3 are %d, %d, %d", maj,
				l.Annotations["human1"], l.Annotations["human2"], l.Annotations["human3"])
		}
	}
	if b, ok := beh[goal]; ok {
		l.Category = b.Category
	} else {
		l.Category = guess(goal, "")
	}
	return l, nil
}

var humanKey = regexp.MustCompile(`^human_[0-9]+$`)

// valSetText are the fields of a HarmBench validation record that are not verdicts.
var valSetText = []string{"test_case", "generation", "behavior_id", "model", "method", "experiment", "image_description"}

// harmbenchClsRow converts record i of behaviour key in HarmBench's classifier validation
// set: {"test_case" (a string; [image, text] in the multimodal set), "generation",
// "behavior_id", "method", ..., other classifiers' verdicts, "human_0", "human_1",
// "human_2"}. unsafe is the majority of the human_N labels; every 0/1 (or yes/no)
// verdict goes to the annotations (free-text ones, such as PAIR's ratings, do not).
func harmbenchClsRow(key string, i int, raw map[string]json.RawMessage, o ImportOptions, beh map[string]Prompt) (Label, error) {
	str := func(k string) (string, error) {
		var s string
		v, ok := raw[k]
		if !ok {
			return "", bad("missing %q", k)
		}
		if json.Unmarshal(v, &s) != nil {
			return "", bad("%q is not a string", k)
		}
		return s, nil
	}
	l := Label{ID: fmt.Sprintf("harmbench-cls-%s-%d", key, i), Annotations: map[string]int{}}
	var err error
	if l.Response, err = str("generation"); err != nil {
		return l, err
	}
	if _, ok := raw["behavior_id"]; ok {
		if id, err := str("behavior_id"); err != nil || id != key {
			return l, bad("behavior_id %s is not the key %q it is listed under", raw["behavior_id"], key)
		}
	}
	sum, n := 0, 0
	for _, k := range slices.Sorted(maps.Keys(raw)) { // sorted: the first bad label is always the same
		v := raw[k]
		if slices.Contains(valSetText, k) {
			continue
		}
		x, ok := vote(string(v))
		if humanKey.MatchString(k) {
			if !ok {
				return l, bad("%q is %s, not 0 or 1", k, v)
			}
			sum, n = sum+x, n+1
		}
		if ok {
			l.Annotations[k] = x
		}
	}
	switch {
	case n == 0:
		return l, bad(`no human labels ("human_0", "human_1", ...)`)
	case 2*sum == n:
		return l, bad("the human labels tie (%d of %d unsafe)", sum, n)
	}
	l.Unsafe = 2*sum > n
	b, known := beh[key]
	if beh != nil && !known {
		return l, bad("behaviour %q is not in %s", key, o.Behaviors)
	}
	if l.Prompt, err = harmbenchPrompt(raw, b, o.AttackPrompt); err != nil {
		return l, err
	}
	l.Category = b.Category
	if !known {
		l.Category = guess(l.Prompt, "")
	}
	if m, err := str("method"); err == nil && m != "" {
		l.Attack = strings.ToLower(strings.Join(strings.Fields(m), "_"))
		if m == "DirectRequest" { // the behaviour sent as it is
			l.Attack = "none"
		}
	}
	return l, nil
}

// harmbenchPrompt is a validation record's prompt: the behaviour (after its context), or
// with attack the test case the model was sent (its text, in the multimodal set). A
// multimodal record's image description comes first, as the context the behaviour
// refers to ("this image").
func harmbenchPrompt(raw map[string]json.RawMessage, b Prompt, attack bool) (string, error) {
	p := b.Prompt
	if attack {
		var s string
		var parts []string
		v, ok := raw["test_case"]
		switch {
		case !ok:
			return "", bad(`missing "test_case"`)
		case json.Unmarshal(v, &s) == nil:
			p = s
		case json.Unmarshal(v, &parts) == nil && len(parts) > 0:
			p = parts[len(parts)-1]
		default:
			return "", bad(`"test_case" is neither a string nor a list of strings`)
		}
	}
	p = strings.TrimSpace(p)
	var img string
	if v, ok := raw["image_description"]; ok && json.Unmarshal(v, &img) == nil && strings.TrimSpace(img) != "" {
		p = strings.TrimSpace(img) + "\n\n---\n\n" + p
	}
	return p, nil
}

// eachValSet reads a HarmBench classifier validation set, a JSON object mapping behaviour
// ids to lists of records, calling fn with "FILE:LINE: KEY[i]" (the line the record
// starts on), the key, the record's index and the record. A key whose value is not a
// list, or a record that is not an object, is a row error; a JSON syntax error fails the
// file, as nothing after it can be read reliably.
func eachValSet(path string, fn func(pos, key string, i int, raw map[string]json.RawMessage, err error) error) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	b = bytes.TrimPrefix(b, []byte("\ufeff"))
	lineAt := func(off int64) int { return 1 + bytes.Count(b[:min(int(off), len(b))], []byte("\n")) }
	dec := json.NewDecoder(bytes.NewReader(b))
	fail := func(err error) error {
		var se *json.SyntaxError
		off := dec.InputOffset()
		if errors.As(err, &se) {
			off = se.Offset
		}
		return fmt.Errorf("%s:%d: not a JSON object of behaviour ids to lists of records: %v", path, lineAt(off), err)
	}
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		if err == nil {
			err = fmt.Errorf("it starts with %v", t)
		}
		return fail(err)
	}
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return fail(err)
		}
		key, _ := t.(string)
		start := valueStart(b, dec.InputOffset())
		if start >= int64(len(b)) || b[start] != '[' {
			var r json.RawMessage
			if err := dec.Decode(&r); err != nil {
				return fail(err)
			}
			if err := fn(fmt.Sprintf("%s:%d: %s", path, lineAt(start), key), key, -1, nil, bad("not a list of records")); err != nil {
				return err
			}
			continue
		}
		if _, err := dec.Token(); err != nil {
			return fail(err)
		}
		for i := 0; dec.More(); i++ {
			start := valueStart(b, dec.InputOffset())
			var r json.RawMessage
			if err := dec.Decode(&r); err != nil {
				return fail(err)
			}
			var raw map[string]json.RawMessage
			var rerr error
			if json.Unmarshal(r, &raw) != nil || raw == nil {
				rerr = bad("not a JSON object")
			}
			if err := fn(fmt.Sprintf("%s:%d: %s[%d]", path, lineAt(start), key, i), key, i, raw, rerr); err != nil {
				return err
			}
		}
		if _, err := dec.Token(); err != nil {
			return fail(err)
		}
	}
	if _, err := dec.Token(); err != nil {
		return fail(err)
	}
	if rest := bytes.TrimSpace(b[dec.InputOffset():]); len(rest) > 0 {
		return fmt.Errorf("%s:%d: data after the JSON object", path, lineAt(dec.InputOffset()))
	}
	return nil
}

// valueStart is the offset of the next JSON value from off: past blanks and the ':' or
// ',' before it.
func valueStart(b []byte, off int64) int64 {
	for off < int64(len(b)) && strings.IndexByte(" \t\r\n:,", b[off]) >= 0 {
		off++
	}
	return off
}
