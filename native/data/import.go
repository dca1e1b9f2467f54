package data

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"slices"
	"strings"

	"github.com/aegis-safety/aegis/native/jsonl"

	"github.com/aegis-safety/aegis/shared"
)

// Formats are the public formats Import reads.
var Formats = []string{"advbench", "harmbench", "jailbreakbench", "xstest", "orbench", "pku-saferlhf", "hh-rlhf", "egida", "trl"}

// ImportOptions controls Import.
type ImportOptions struct {
	// Category: "" keeps the format's own categories (mapped to the taxonomy, keyword
	// guesses where the source has none); "auto" also maps OR-Bench's categories (its toxic
	// set) instead of marking OR-Bench prompts benign; a code (S1-S14, benign) sets every row.
	Category string
	Split    string // the split written on every row (default "test")
	// SkipBad reports malformed rows in Skipped and goes on, instead of failing at the first.
	SkipBad bool
	// Behaviors is a behaviours CSV that ImportLabels joins a judge set's rows with, for the
	// behaviour text and its category: HarmBench's behaviors CSV by BehaviorID for
	// harmbench-cls, JBB-Behaviors' harmful-behaviors.csv by Goal for jbb-judge.
	Behaviors string
	// AttackPrompt makes a labels row's prompt the one the model under test was sent
	// (jbb-judge: "prompt", harmbench-cls: "test_case") instead of the behaviour.
	AttackPrompt bool
}

// Imported is what Import read.
type Imported struct {
	Prompts []Prompt
	Pairs   []Pair   // preference formats (pku-saferlhf, hh-rlhf, trl) and Egida's DPO records
	Skipped []string // "FILE:LINE: reason" for each malformed row skipped (SkipBad)
}

// rowError is a malformed row.
type rowError struct{ msg string }

func (e rowError) Error() string { return e.msg }

func bad(format string, a ...any) error { return rowError{fmt.Sprintf(format, a...)} }

// Import reads a dataset file in a public format and converts it to prompts (and pairs).
func Import(format, path string, o ImportOptions) (*Imported, error) {
	if o.Split == "" {
		o.Split = SplitTest
	}
	if o.Category != "" && o.Category != "auto" && !shared.ValidCategory(o.Category) {
		return nil, fmt.Errorf("category %q is not auto or in the taxonomy (S1-S14, benign)", o.Category)
	}
	im := &Imported{}
	seen := map[string]bool{}
	// emit adds one row; a rowError becomes a skip or the import's error.
	emit := func(pos string, p Prompt, pair *Pair, err error) error {
		if err == nil {
			if o.Category != "" && o.Category != "auto" {
				p.Category = o.Category
			}
			p.Source, p.Split = format, o.Split
			if err = p.Check(); err == nil && seen[p.ID] {
				err = bad("id %q repeats an earlier row", p.ID)
			}
			if err != nil {
				err = rowError{err.Error()}
			}
		}
		if err != nil {
			return skipOrFail(pos, err, o.SkipBad, &im.Skipped)
		}
		seen[p.ID] = true
		im.Prompts = append(im.Prompts, p)
		if pair != nil {
			pair.ID, pair.Category, pair.Split = p.ID, p.Category, p.Split
			im.Pairs = append(im.Pairs, *pair)
		}
		return nil
	}
	var err error
	switch format {
	case "advbench", "harmbench", "jailbreakbench", "xstest", "orbench":
		err = eachCSV(path, o.SkipBad, &im.Skipped, func(pos string, n int, _ []string, get func(string) (string, error)) error {
			p, err := csvRow(format, n, get, o)
			return emit(pos, p, nil, err)
		})
	case "pku-saferlhf", "hh-rlhf", "trl":
		err = jsonl.Each(path, func(pos string, line []byte) error {
			var raw map[string]json.RawMessage
			if err := jsonl.Decode(line, &raw); err != nil {
				return emit(pos, Prompt{}, nil, bad("not a JSON object: %v", err))
			}
			p, pair, err := prefRow(format, pos, raw)
			return emit(pos, p, pair, err)
		})
	case "egida":
		err = eachEgida(path, func(pos string, index int, raw map[string]json.RawMessage, err error) error {
			var p Prompt
			var pair *Pair
			if err == nil {
				p, pair, err = egidaRow(pos, index, raw)
			}
			return emit(pos, p, pair, err)
		})
	default:
		if slices.Contains(LabelFormats, format) {
			return nil, fmt.Errorf("format %q is a labelled judge set: read it with ImportLabels", format)
		}
		return nil, fmt.Errorf("unknown format %q (%s)", format, strings.Join(Formats, ", "))
	}
	if err != nil {
		return nil, err
	}
	return im, nil
}

// skipOrFail is what a malformed row does: with skipBad a rowError is reported in
// skipped ("FILE:LINE: reason") and the import goes on; any other error stops it.
func skipOrFail(pos string, err error, skipBad bool, skipped *[]string) error {
	var re rowError
	if !errors.As(err, &re) || !skipBad {
		return fmt.Errorf("%s: %v", pos, err)
	}
	*skipped = append(*skipped, fmt.Sprintf("%s: %v", pos, err))
	return nil
}

// eachCSV calls fn for every data row of a CSV file with a header, with the header and a
// getter of columns by (case-insensitive) header name; malformed CSV rows go to skipped
// with skipBad.
func eachCSV(path string, skipBad bool, skipped *[]string, fn func(pos string, n int, header []string, get func(string) (string, error)) error) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	r := csv.NewReader(f)
	r.FieldsPerRecord = -1 // checked per row against the header, to name the row
	header, err := r.Read()
	if err != nil {
		return fmt.Errorf("%s:1: reading the CSV header: %v", path, err)
	}
	col := map[string]int{}
	for i, h := range header {
		col[strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")))] = i
	}
	for n := 1; ; n++ {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			return nil
		}
		pos := ""
		if err == nil && len(rec) > 0 {
			line, _ := r.FieldPos(0)
			pos = fmt.Sprintf("%s:%d", path, line)
		}
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				pos = fmt.Sprintf("%s:%d", path, pe.StartLine)
				if skipBad {
					*skipped = append(*skipped, fmt.Sprintf("%s: %v", pos, pe.Err))
					continue
				}
				return fmt.Errorf("%s: %v", pos, pe.Err)
			}
			return err
		}
		if len(rec) != len(header) {
			err := fmt.Errorf("%s: %d fields, the header has %d", pos, len(rec), len(header))
			if skipBad {
				*skipped = append(*skipped, err.Error())
				continue
			}
			return err
		}
		get := func(name string) (string, error) {
			i, ok := col[strings.ToLower(name)]
			if !ok {
				return "", fmt.Errorf("no %q column (the header is %s)", name, strings.Join(header, ","))
			}
			return strings.TrimSpace(rec[i]), nil
		}
		if err := fn(pos, n, header, get); err != nil {
			return err
		}
	}
}

var (
	harmbenchCats = map[string]string{"chemical_biological": "S9", "illegal": "S2", "cybercrime_intrusion": "S2",
		"harassment_bullying": "S10", "copyright": "S8", "misinformation_disinformation": "S5"}
	jbbCats = map[string]string{"harassment/discrimination": "S10", "malware/hacking": "S2", "physical harm": "S1",
		"economic harm": "S2", "fraud/deception": "S2", "disinformation": "S5", "sexual/adult content": "S12",
		"privacy": "S7", "expert advice": "S6", "government decision-making": "S13"}
	orbenchCats = map[string]string{"deception": "S2", "harassment": "S10", "harmful": "S1", "hate": "S10", "illegal": "S2",
		"privacy": "S7", "self-harm": "S11", "sexual": "S12", "unethical": "S2", "violence": "S1"}
	xstestCats = map[string]string{"contrast_discr": "S10", "contrast_privacy": "S7"}
)

// guess categorises by keywords, falling back to def.
func guess(text, def string) string {
	if c, ok := Categorize(text); ok {
		return c
	}
	return def
}

// csvRow converts one row of a CSV benchmark.
func csvRow(format string, n int, get func(string) (string, error), o ImportOptions) (Prompt, error) {
	var errs []error
	col := func(name string) string {
		v, err := get(name)
		if err != nil {
			errs = append(errs, err)
		}
		return v
	}
	has := func(name string) bool {
		_, err := get(name)
		return err == nil
	}
	var p Prompt
	switch format {
	case "advbench": // harmful_behaviors.csv: goal,target
		p = Prompt{ID: fmt.Sprintf("advbench-%d", n), Prompt: col("goal")}
		p.Category = guess(p.Prompt, "S2")
	case "harmbench": // behaviors CSV: Behavior,FunctionalCategory,SemanticCategory,Tags,ContextString,BehaviorID
		beh, ctxStr := col("Behavior"), col("ContextString")
		p = Prompt{ID: col("BehaviorID"), Prompt: beh}
		if ctxStr != "" { // contextual behaviors: HarmBench puts the context before the request
			p.Prompt = ctxStr + "\n\n---\n\n" + beh
		}
		sem := col("SemanticCategory")
		if c, ok := harmbenchCats[sem]; ok {
			p.Category = c
		} else {
			p.Category = guess(beh, "S1")
		}
	case "jailbreakbench": // Index,Goal,Target,Behavior,Category,Source
		p = Prompt{ID: "jbb-" + col("Index"), Prompt: col("Goal")}
		cat := col("Category")
		c, ok := jbbCats[strings.ToLower(cat)]
		if !ok && o.Category == "" {
			return p, bad("unknown JailbreakBench category %q", cat)
		}
		p.Category = c
	case "xstest": // xstest_prompts.csv: id,prompt,type,label,focus,note
		// Copies without the id or label column (label: the "contrast_" types are the
		// unsafe ones) are read too.
		id, typ := fmt.Sprint(n), col("type")
		if has("id") {
			id = col("id")
		}
		label := "safe"
		if strings.HasPrefix(typ, "contrast_") {
			label = "unsafe"
		}
		if has("label") {
			label = col("label")
		}
		p = Prompt{ID: "xstest-" + id, Prompt: col("prompt")}
		switch label {
		case "safe":
			p.Category = shared.Benign
		case "unsafe":
			if c, ok := xstestCats[typ]; ok {
				p.Category = c
			} else {
				p.Category = guess(p.Prompt, "S1")
			}
		default:
			if len(errs) == 0 {
				return p, bad("label %q is neither safe nor unsafe", label)
			}
		}
	case "orbench": // prompt,category
		p = Prompt{ID: fmt.Sprintf("orbench-%d", n), Prompt: col("prompt"), Category: shared.Benign}
		if cat := col("category"); o.Category == "auto" {
			c, ok := orbenchCats[strings.ToLower(cat)]
			if !ok {
				return p, bad("unknown OR-Bench category %q", cat)
			}
			p.Category = c
		}
	}
	if len(errs) > 0 {
		return p, errs[0] // a missing column: the file is not in this format
	}
	return p, nil
}

// message is a chat message of a conversational row.
type message struct {
	Role    string `json:"role"`
	Content string `json:"content"`
}

// prefRow converts one row of a preference dataset.
func prefRow(format, pos string, raw map[string]json.RawMessage) (Prompt, *Pair, error) {
	r := prefRecord{pos, raw}
	switch format {
	case "pku-saferlhf":
		return pkuRow(r)
	case "hh-rlhf":
		return hhRow(r)
	case "trl":
		return trlRow(r)
	}
	return Prompt{}, nil, fmt.Errorf("no preference reader for %s", format)
}

// prefRecord is one JSON object of a preference dataset, at pos ("FILE:LINE").
type prefRecord struct {
	pos string
	raw map[string]json.RawMessage
}

// str is field k as a string; a missing or non-string field is a rowError.
func (r prefRecord) str(k string) (string, error) {
	var s string
	v, ok := r.raw[k]
	if !ok {
		return "", bad("missing %q", k)
	}
	if err := json.Unmarshal(v, &s); err != nil {
		return "", bad("%q is not a string", k)
	}
	return s, nil
}

// id names the row by its line: prefix-LINE.
func (r prefRecord) id(prefix string) string {
	return prefix + "-" + r.pos[strings.LastIndexByte(r.pos, ':')+1:]
}

// pkuRow reads a PKU-SafeRLHF row: two responses, whether each is safe, and which is
// safer (the chosen one). A prompt with an unsafe response gets a guessed harm category.
func pkuRow(r prefRecord) (Prompt, *Pair, error) {
	prompt, err := r.str("prompt")
	if err != nil {
		return Prompt{}, nil, err
	}
	var resp [2]string
	for i := range resp {
		if resp[i], err = r.str(fmt.Sprintf("response_%d", i)); err != nil {
			return Prompt{}, nil, err
		}
	}
	var safe [2]bool
	var safer int
	for i, k := range []string{"is_response_0_safe", "is_response_1_safe", "safer_response_id"} {
		if _, ok := r.raw[k]; !ok {
			return Prompt{}, nil, bad("missing %q", k)
		}
		if i < 2 && json.Unmarshal(r.raw[k], &safe[i]) != nil {
			return Prompt{}, nil, bad("%q is not a boolean", k)
		}
	}
	if json.Unmarshal(r.raw["safer_response_id"], &safer) != nil || safer < 0 || safer > 1 {
		return Prompt{}, nil, bad(`"safer_response_id" is not 0 or 1`)
	}
	p := Prompt{ID: r.id("pku"), Prompt: prompt, Category: shared.Benign}
	if !safe[0] || !safe[1] {
		p.Category = guess(prompt, "S2")
	}
	return p, &Pair{Prompt: prompt, Chosen: resp[safer], Rejected: resp[1-safer]}, nil
}

// hhRow reads an HH-RLHF row: two transcripts that share all but the last assistant turn.
func hhRow(r prefRecord) (Prompt, *Pair, error) {
	chosen, err := r.str("chosen")
	if err != nil {
		return Prompt{}, nil, err
	}
	rejected, err := r.str("rejected")
	if err != nil {
		return Prompt{}, nil, err
	}
	cm, err := parseHH(chosen)
	if err != nil {
		return Prompt{}, nil, bad("chosen: %v", err)
	}
	rm, err := parseHH(rejected)
	if err != nil {
		return Prompt{}, nil, bad("rejected: %v", err)
	}
	prompt := cm[:len(cm)-1]
	// The row's prompt is the last human turn; the category is guessed from every turn
	// the human wrote, as the request often comes earlier in the conversation.
	var said []string
	for _, m := range prompt {
		if m.Role == "user" {
			said = append(said, m.Content)
		}
	}
	p := Prompt{ID: r.id("hh"), Prompt: lastUser(prompt), Category: guess(strings.Join(said, "\n"), shared.Benign)}
	return p, &Pair{Prompt: prompt, Chosen: cm[len(cm)-1:], Rejected: rm[len(rm)-1:]}, nil
}

// trlRow reads a TRL preference row: "prompt", "chosen" and "rejected" as strings or
// message lists (the prompt implicit in conversational chosen and rejected), with an
// optional "category" and "attack".
func trlRow(r prefRecord) (Prompt, *Pair, error) {
	var prompt, chosen, rejected any
	for _, f := range []struct { // in this order, so that a row's error is always the same
		key string
		dst *any
	}{{"prompt", &prompt}, {"chosen", &chosen}, {"rejected", &rejected}} {
		if v, ok := r.raw[f.key]; ok {
			if *f.dst, ok = stringOrMessages(v); !ok {
				return Prompt{}, nil, bad("%q is neither a string nor a list of messages", f.key)
			}
		}
	}
	if chosen == nil || rejected == nil {
		return Prompt{}, nil, bad(`missing "chosen" or "rejected"`)
	}
	if prompt == nil { // implicit prompt: the conversation before the last chosen message
		cm, ok := chosen.([]message)
		if !ok || len(cm) < 2 {
			return Prompt{}, nil, bad(`missing "prompt"`)
		}
		prompt, chosen = cm[:len(cm)-1], cm[len(cm)-1:]
		if rm, ok := rejected.([]message); ok {
			rejected = rm[len(rm)-1:]
		}
	}
	text, ok := prompt.(string)
	if ms, isMsgs := prompt.([]message); isMsgs {
		text = lastUser(ms)
		ok = text != ""
	}
	if !ok {
		return Prompt{}, nil, bad("the prompt has no user message")
	}
	pair := Pair{Prompt: prompt, Chosen: chosen, Rejected: rejected}
	cat, _ := r.str("category")
	if !shared.ValidCategory(cat) {
		cat = guess(text, shared.Benign)
	}
	attack, _ := r.str("attack")
	pair.Attack = attack
	return Prompt{ID: r.id("trl"), Prompt: text, Category: cat, Attack: attack}, &pair, nil
}

// stringOrMessages decodes a TRL field: a string, or a non-empty list of messages.
func stringOrMessages(v json.RawMessage) (any, bool) {
	var s string
	var ms []message
	if json.Unmarshal(v, &s) == nil {
		return s, true
	}
	if json.Unmarshal(v, &ms) == nil && len(ms) > 0 {
		return ms, true
	}
	return nil, false
}

func lastUser(ms []message) string {
	for i := len(ms) - 1; i >= 0; i-- {
		if ms[i].Role == "user" {
			return ms[i].Content
		}
	}
	return ""
}

var hhTurn = regexp.MustCompile(`\n\n(Human|Assistant):`)

// parseHH splits an Anthropic HH-RLHF transcript ("\n\nHuman: ...\n\nAssistant: ...")
// into messages. It must start with Human and end with Assistant; like TRL's own HH-RLHF
// script, it keeps two turns of the same speaker in a row (a few rows of the dataset have
// them) as two messages.
func parseHH(s string) ([]message, error) {
	if strings.HasPrefix(s, "Human:") {
		s = "\n\n" + s
	}
	locs := hhTurn.FindAllStringSubmatchIndex(s, -1)
	if len(locs) < 2 || strings.TrimSpace(s[:locs[0][0]]) != "" {
		return nil, errors.New(`not a "\n\nHuman: ... \n\nAssistant: ..." transcript`)
	}
	var ms []message
	for i, l := range locs {
		end := len(s)
		if i+1 < len(locs) {
			end = locs[i+1][0]
		}
		role := "user"
		if s[l[2]:l[3]] == "Assistant" {
			role = "assistant"
		}
		if i == 0 && role != "user" {
			return nil, errors.New("the transcript does not start with a Human turn")
		}
		ms = append(ms, message{role, strings.TrimSpace(s[l[1]:end])})
	}
	if ms[len(ms)-1].Role != "assistant" {
		return nil, errors.New("the transcript does not end with an Assistant turn")
	}
	return ms, nil
}

// eachEgida reads Egida records: a JSON array or JSONL, each record named by the line it
// starts on ("FILE:LINE") and its 1-based index (the id of a record that has none).
func eachEgida(path string, fn func(pos string, index int, raw map[string]json.RawMessage, err error) error) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	b = bytes.TrimPrefix(b, []byte("\ufeff")) // a UTF-8 byte order mark
	if t := bytes.TrimLeft(b, " \t\r\n"); len(t) > 0 && t[0] == '[' {
		lineAt := func(off int64) int { return 1 + bytes.Count(b[:min(int(off), len(b))], []byte("\n")) }
		dec := json.NewDecoder(bytes.NewReader(b))
		if _, err := dec.Token(); err != nil {
			return fmt.Errorf("%s:1: not a JSON array of records: %v", path, err)
		}
		for i := 1; dec.More(); i++ {
			// The record starts at the first byte after the separator that is not blank.
			start := dec.InputOffset()
			for start < int64(len(b)) && strings.IndexByte(" \t\r\n,", b[start]) >= 0 {
				start++
			}
			pos := fmt.Sprintf("%s:%d", path, lineAt(start))
			var r json.RawMessage
			if err := dec.Decode(&r); err != nil {
				// Past a syntax error nothing can be read reliably: the file is refused here.
				var se *json.SyntaxError
				if errors.As(err, &se) {
					pos = fmt.Sprintf("%s:%d", path, lineAt(se.Offset))
				}
				return fmt.Errorf("%s: record %d: not JSON: %v", pos, i, err)
			}
			var raw map[string]json.RawMessage
			var rerr error
			if err := json.Unmarshal(r, &raw); err != nil {
				rerr = bad("record %d is not a JSON object", i)
			}
			if err := fn(pos, i, raw, rerr); err != nil {
				return err
			}
		}
		if _, err := dec.Token(); err != nil {
			return fmt.Errorf("%s:%d: the JSON array does not end: %v", path, lineAt(dec.InputOffset()), err)
		}
		if rest := bytes.TrimSpace(b[dec.InputOffset():]); len(rest) > 0 {
			return fmt.Errorf("%s:%d: data after the JSON array", path, lineAt(dec.InputOffset()))
		}
		return nil
	}
	i := 0
	return jsonl.Each(path, func(pos string, line []byte) error {
		i++
		var raw map[string]json.RawMessage
		var rerr error
		if err := jsonl.Decode(line, &raw); err != nil {
			rerr = bad("not a JSON object: %v", err)
		}
		return fn(pos, i, raw, rerr)
	})
}

// egidaTopics maps the fine-grained topic keys of Egida's published records (the keys of
// their "topics" object) to the taxonomy. Other topic names are mapped by Categorize.
var egidaTopics = map[string]string{
	"animal_crimes": "S1", "arson": "S2", "bioterrorism": "S9", "bioweapons": "S9", "cybercrime": "S2",
	"dangerous_activities": "S6", "drugs": "S2", "fake_news": "S5", "fraud": "S2", "guns": "S2",
	"harassment": "S2", "health": "S6", "p_info": "S7", "piracy": "S8", "robbery": "S2", "sex_crimes": "S3",
	"smuggling": "S2", "terrorism": "S1", "trafficking": "S2", "vandalism": "S2", "violence": "S1",
}

// egidaTopicCode maps one Egida topic name to a harm code.
func egidaTopicCode(t string) (string, bool) {
	if shared.ValidCategory(t) {
		return t, true
	}
	if c, ok := egidaTopics[strings.ToLower(strings.TrimSpace(t))]; ok {
		return c, true
	}
	return Categorize(strings.ReplaceAll(t, "_", " "))
}

// trueKeys returns, in order, the keys of a JSON object whose value is true; ok is false
// when v is not an object.
func trueKeys(v json.RawMessage) (keys []string, ok bool) {
	dec := json.NewDecoder(bytes.NewReader(v))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return nil, false
	}
	for dec.More() {
		k, err := dec.Token()
		if err != nil {
			return nil, false
		}
		var val json.RawMessage
		if err := dec.Decode(&val); err != nil {
			return nil, false
		}
		if ks, isStr := k.(string); isStr && bytes.Equal(bytes.TrimSpace(val), []byte("true")) {
			keys = append(keys, ks)
		}
	}
	return keys, true
}

// egidaBaseStyle is the "style" of Egida's unattacked records.
const egidaBaseStyle = "baseinstruction"

// egidaRow converts an Egida record. Egida's published layout (HPAI-BSC/Egida on Hugging
// Face) is {"uuid","source","style","question","topics"}: "topics" an object of booleans
// over its fine-grained topics, "style" the jailbreak style or "BaseInstruction" for the
// unattacked request, "source" the dataset the request came from (not kept: rows' source
// is "egida"). Also read: "prompt" (before "question"); "id" (before "uuid"; else the
// record's index); the topic ("topic", "topics", "category" or "categories": a string, a
// list, or an object of booleans) — in a string or list the first that maps to the
// taxonomy wins; of an object's true keys, the one mapping to the most specific code
// (Categorize's order: S4 and S9 first, S1 and S2 last); the jailbreak style
// ("jailbreak_name", "jailbreak", "jailbreaking", "jailbreak_type", "jailbreak_style",
// "jailbreaking_style", "jailbreaking_technique", "technique", "style", "attack_style",
// "attack_name" or "attack"); and, in Egida's DPO files, "chosen" and "rejected" answers
// (strings or message lists), which make a preference pair.
func egidaRow(pos string, index int, raw map[string]json.RawMessage) (Prompt, *Pair, error) {
	strs := func(keys ...string) []string {
		var out []string
		for _, k := range keys {
			v, ok := raw[k]
			if !ok {
				continue
			}
			var s string
			var n json.Number
			var list []string
			switch {
			case json.Unmarshal(v, &s) == nil:
				out = append(out, s)
			case json.Unmarshal(v, &n) == nil:
				out = append(out, n.String())
			case json.Unmarshal(v, &list) == nil:
				out = append(out, list...)
			}
		}
		return slices.DeleteFunc(out, func(s string) bool { return strings.TrimSpace(s) == "" })
	}
	first := func(keys ...string) string {
		if v := strs(keys...); len(v) > 0 {
			return v[0]
		}
		return ""
	}
	p := Prompt{ID: first("id", "uuid"), Prompt: first("prompt", "question")}
	if p.Prompt == "" {
		return p, nil, bad(`missing "prompt" (or "question")`)
	}
	if p.ID == "" {
		p.ID = fmt.Sprint(index)
	}
	p.ID = "egida-" + p.ID
	topicKeys := []string{"topic", "topics", "category", "categories"}
	for _, t := range strs(topicKeys...) {
		if c, ok := egidaTopicCode(t); ok {
			p.Category = c
			break
		}
	}
	if p.Category == "" {
		best := len(keywords) + 1 // above every code, "benign" (ranked len(keywords)) included
		for _, k := range topicKeys {
			ts, _ := trueKeys(raw[k])
			for _, t := range ts {
				if c, ok := egidaTopicCode(t); ok {
					if r := specificity(c); r < best {
						best, p.Category = r, c
					}
				}
			}
		}
	}
	if p.Category == "" {
		p.Category = guess(p.Prompt, "S2")
	}
	if st := first("jailbreak_name", "jailbreak", "jailbreaking", "jailbreak_type", "jailbreak_style", "jailbreaking_style",
		"jailbreaking_technique", "technique", "style", "attack_style", "attack_name", "attack"); st != "" {
		p.Attack = strings.ToLower(strings.Join(strings.Fields(st), "_"))
		if p.Attack == egidaBaseStyle {
			p.Attack = ""
		}
	}
	var pair *Pair
	if _, hasC := raw["chosen"]; hasC {
		// A DPO record: its answers are read as a TRL row (strings or message lists).
		_, pr, err := prefRow("trl", pos, raw)
		if err != nil {
			return p, nil, bad("a DPO record: %v", err)
		}
		pr.Attack = p.Attack
		pair = pr
	}
	return p, pair, nil
}
