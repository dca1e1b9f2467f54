package data

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

// TestRowSeed: a row's seed is the base XOR the FNV-1a hash of its id (the published
// 64-bit test vectors), the same whatever else is seeded.
func TestRowSeed(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		base uint64
		id   string
		want uint64
	}{
		{0, "", 0xcbf29ce484222325},
		{0, "a", 0xaf63dc4c8601ec8c},
		{0, "foobar", 0x85944171f73967e8},
		{0xff, "a", 0xaf63dc4c8601ec8c ^ 0xff},
	} {
		if got := RowSeed(c.base, c.id); got != c.want {
			t.Errorf("RowSeed(%#x, %q) = %#x, want %#x", c.base, c.id, got, c.want)
		}
	}
}

func TestSplitList(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{"": "[]", "a": "[a]", " a , b,,c ": "[a b c]", ",": "[]"} {
		if got := fmt.Sprint(SplitList(in)); got != want {
			t.Errorf("SplitList(%q) = %s, want %s", in, got, want)
		}
	}
}

// TestSelectPrompts: the prompts of the splits listed, in order, at most limit; no list
// keeps every split, a list of blanks none; CountSplits counts each split.
func TestSelectPrompts(t *testing.T) {
	t.Parallel()
	ps := []Prompt{{ID: "a", Split: SplitTrain}, {ID: "b", Split: SplitTest}, {ID: "c", Split: SplitHeldTopic},
		{ID: "d", Split: SplitTest}, {ID: "e", Split: SplitTrain}}
	ids := func(ps []Prompt) string {
		var s []string
		for _, p := range ps {
			s = append(s, p.ID)
		}
		return strings.Join(s, "")
	}
	for _, c := range []struct {
		splits string
		limit  int
		want   string
	}{
		{"", 0, "abcde"}, {"", 2, "ab"}, {"", 9, "abcde"}, {"test", 0, "bd"}, {" test , heldout_topic", 0, "bcd"},
		{"train,test", 3, "abd"}, {"nope", 0, ""}, {",", 0, ""},
	} {
		if got := ids(SelectPrompts(slices.Clone(ps), c.splits, c.limit)); got != c.want {
			t.Errorf("SelectPrompts(%q, %d) = %s, want %s", c.splits, c.limit, got, c.want)
		}
	}
	if got := CountSplits(ps); len(got) != 3 || got[SplitTrain] != 2 || got[SplitTest] != 2 || got[SplitHeldTopic] != 1 {
		t.Errorf("CountSplits: %v", got)
	}
}
