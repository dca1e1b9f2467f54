package data

import (
	"context"
	"path/filepath"
	"slices"
	"testing"

	"github.com/aegis-safety/aegis/native/jsonl"
	"github.com/aegis-safety/aegis/shared"
)

func fakeAttack(_ context.Context, in shared.AttackInput) ([]shared.AttackVariant, error) {
	var vs []shared.AttackVariant
	for _, s := range in.Params.Styles {
		vs = append(vs, shared.AttackVariant{Prompt: s + ": " + in.Prompt, Style: s})
	}
	return vs, nil
}

func TestSeeds(t *testing.T) {
	s, err := LoadSeeds()
	if err != nil {
		t.Fatal(err)
	}
	per := map[string]int{}
	for _, p := range s.Harmful {
		per[p.Category]++
	}
	for _, c := range shared.HarmCodes() {
		if per[c] < 2 {
			t.Errorf("%s has %d seeds, want >= 2", c, per[c])
		}
	}
	if len(s.Benign) < 20 {
		t.Errorf("%d benign seeds", len(s.Benign))
	}
}

// TestBuildSplits: training rows share no held-out topic or style with held-out rows, and
// every split is populated.
func TestBuildSplits(t *testing.T) {
	s, _ := LoadSeeds()
	prompts, pairs, err := Build(context.Background(), s, BuildOptions{Styles: []string{"dan", "base64", "rot13"},
		HoldoutTopics: []string{"S5"}, HoldoutStyles: []string{"rot13"}, Attack: fakeAttack})
	if err != nil {
		t.Fatal(err)
	}
	want := len(s.Harmful)*4 + len(s.Benign)
	if len(prompts) != want || len(pairs) != len(s.Harmful)*4 {
		t.Fatalf("%d prompts %d pairs, want %d, %d", len(prompts), len(pairs), want, len(s.Harmful)*4)
	}
	count := map[string]int{}
	ids := map[string]bool{}
	for _, p := range prompts {
		if err := p.Check(); err != nil || ids[p.ID] {
			t.Fatalf("bad or repeated row %+v: %v", p, err)
		}
		ids[p.ID] = true
		count[p.Split]++
		heldT, heldS := p.Category == "S5", p.Attack == "rot13"
		if p.Split == SplitTrain && (heldT || heldS) {
			t.Fatalf("held-out row in train: %+v", p)
		}
		if (p.Split == SplitHeldTopic) != (heldT && !heldS) || (p.Split == SplitHeldBoth) != (heldT && heldS) {
			t.Fatalf("wrong split %+v", p)
		}
	}
	for _, sp := range []string{SplitTrain, SplitTest, SplitHeldTopic, SplitHeldStyle, SplitHeldBoth} {
		if count[sp] == 0 {
			t.Errorf("split %s is empty", sp)
		}
	}
	if _, _, err := Build(context.Background(), s, BuildOptions{Styles: []string{"dan"}, HoldoutStyles: []string{"rot13"}, Attack: fakeAttack}); err == nil {
		t.Fatal("held-out style outside --styles accepted")
	}
	// The written file reads back.
	path := filepath.Join(t.TempDir(), "p.jsonl")
	if err := jsonl.WriteFile(path, prompts); err != nil {
		t.Fatal(err)
	}
	back, err := ReadPrompts(path)
	if err != nil || !slices.Equal(back, prompts) {
		t.Fatalf("read back %d rows: %v", len(back), err)
	}
}
