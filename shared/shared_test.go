package shared

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
)

func TestTaxonomy(t *testing.T) {
	if got := len(HarmCodes()); got != 14 {
		t.Fatalf("%d harm codes, want 14", got)
	}
	if n, ok := CategoryName("S9"); !ok || n != "Indiscriminate Weapons" {
		t.Fatalf("S9 = %q %v", n, ok)
	}
	if !ValidCategory(Benign) || ValidCategory("S15") {
		t.Fatal("ValidCategory")
	}
}

func TestStylesUnique(t *testing.T) {
	seen := map[string]bool{}
	for _, s := range Styles {
		if seen[s.ID] || s.ID == "" || s.Name == "" {
			t.Fatalf("bad or duplicate style %+v", s)
		}
		seen[s.ID] = true
	}
	if len(Styles) < 16 {
		t.Fatalf("%d styles, want >= 16", len(Styles))
	}
}

func TestPack(t *testing.T) {
	p, n := Unpack(Pack(0xdeadbeef, 7))
	if p != 0xdeadbeef || n != 7 {
		t.Fatal(p, n)
	}
	m := Manifest{ABI: 1, Name: "x", Kind: KindJudge}
	if err := m.Validate(); err != nil {
		t.Fatal(err)
	}
	m.ABI = 2
	if m.Validate() == nil {
		t.Fatal("abi 2 accepted")
	}
}

// keysOf returns the keys of a JSON object, in document order.
func keysOf(t *testing.T, v any) []string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		t.Fatalf("%s is not an object", b)
	}
	var keys []string
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, tok.(string))
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			t.Fatal(err)
		}
	}
	return keys
}

// TestSchemaKeys pins the JSON documents of ABI v1 (DESIGN.md, wasm/README.md) key by
// key, with zero values, so that no key goes missing when a field is empty.
func TestSchemaKeys(t *testing.T) {
	cases := []struct {
		name string
		v    any
		want string
	}{
		{"manifest", Manifest{}, "abi,name,kind,version,description"},
		{"attack input", AttackInput{Params: &AttackParams{}}, "prompt,category,seed,params"},
		{"attack output", AttackOutput{}, "variants"},
		{"attack variant", AttackVariant{}, "prompt,style"},
		{"judge input", JudgeInput{}, "prompt,response,category"},
		{"judge output", JudgeOutput{}, "refusal,unsafe,score,categories"},
		{"error", ErrorOutput{}, "error"},
	}
	for _, c := range cases {
		if got := strings.Join(keysOf(t, c.v), ","); got != c.want {
			t.Errorf("%s keys %s, want %s", c.name, got, c.want)
		}
	}
	// Full documents round-trip through the types.
	doc := `{"abi":1,"name":"m","kind":"attack","version":"1","description":"d","styles":["dan"]}`
	var m Manifest
	if err := json.Unmarshal([]byte(doc), &m); err != nil || m.Validate() != nil || m.Styles[0] != "dan" {
		t.Fatal(m, err)
	}
	var v JudgeOutput
	if err := json.Unmarshal([]byte(`{"refusal":true,"unsafe":false,"score":0.25,"categories":["S2"]}`), &v); err != nil ||
		!v.Refusal || v.Unsafe || v.Score != 0.25 || len(v.Categories) != 1 {
		t.Fatal(v, err)
	}
	if got := fmt.Sprint(Pack(1, 2)); got != fmt.Sprint(uint64(1)<<32|2) {
		t.Fatal(got)
	}
}

// TestCatalogueCoversIssue checks that the catalogue holds every style issue 5 names.
func TestCatalogueCoversIssue(t *testing.T) {
	for _, id := range []string{"refusal_suppression", "prefix_injection", "dan", "developer_mode",
		"hypothetical", "story_continuation", "past_tense", "technical_report", "distractor_sandwich",
		"payload_splitting", "few_shot", "many_shot", "base64", "leetspeak", "rot13", "caesar",
		"translation", "academic_authority", "json_wrapping", "code_wrapping"} {
		if s, ok := LookupStyle(id); !ok || s.Source == "" || s.Family == "" {
			t.Errorf("style %q missing or without a source", id)
		}
	}
	if _, ok := LookupStyle("nope"); ok {
		t.Error("unknown style found")
	}
	if ids := StyleIDs(); len(ids) != len(Styles) || ids[0] != Styles[0].ID {
		t.Error(ids)
	}
}

// TestCatalogueCoversIssue18 checks the styles issue 18 adds: Unicode obfuscation, more
// ciphers, FlipAttack, ArtPrompt, the grandma frame, future tense and PAP's techniques,
// after the 21 styles of issue 5 (whose order datasets depend on).
func TestCatalogueCoversIssue18(t *testing.T) {
	for _, id := range []string{"homoglyph", "zero_width", "tag_characters", "diacritics", "hex", "atbash", "morse",
		"flip_attack", "art_prompt", "grandma", "future_tense", "pap_evidence_based", "pap_expert_endorsement",
		"pap_logical_appeal", "pap_authority_endorsement", "pap_misrepresentation"} {
		if s, ok := LookupStyle(id); !ok || s.Source == "" || s.Family == "" || s.Name == "" {
			t.Errorf("style %q missing or without a source", id)
		}
		if i := slices.Index(StyleIDs(), id); i < 21 {
			t.Errorf("style %q at %d, among the original 21", id, i)
		}
	}
	if StyleIDs()[20] != "code_wrapping" {
		t.Error("the original 21 styles moved")
	}
	seen := map[string]bool{}
	for _, id := range StyleIDs() {
		if seen[id] {
			t.Errorf("style %q twice", id)
		}
		seen[id] = true
	}
}

// TestConfusion checks the metric definitions on hand-counted decisions.
func TestConfusion(t *testing.T) {
	var c Confusion
	// pred, gold: 3 TP, 1 FP, 2 FN, 4 TN
	for _, d := range [][2]bool{{true, true}, {true, true}, {true, true}, {true, false},
		{false, true}, {false, true}, {false, false}, {false, false}, {false, false}, {false, false}} {
		c.Add(d[0], d[1])
	}
	if c != (Confusion{TP: 3, FP: 1, FN: 2, TN: 4}) || c.N() != 10 {
		t.Fatalf("%+v", c)
	}
	near := func(a, b float64) bool { return a-b < 1e-12 && b-a < 1e-12 }
	if !near(c.Precision(), 0.75) || !near(c.Recall(), 0.6) || !near(c.F1(), 6.0/9) || !near(c.Accuracy(), 0.7) {
		t.Fatalf("p=%v r=%v f1=%v acc=%v", c.Precision(), c.Recall(), c.F1(), c.Accuracy())
	}
	var z Confusion
	if z.Precision() != 0 || z.Recall() != 0 || z.F1() != 0 || z.Accuracy() != 0 {
		t.Fatal("empty confusion must give zeros")
	}
}
