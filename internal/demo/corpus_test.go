package demo

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/aegis-safety/aegis/native/data"
	"github.com/aegis-safety/aegis/shared"
)

// attacker loads the built-in attack module.
func attacker(t testing.TB) data.Attacker {
	t.Helper()
	_, a, _ := builtinModules(t)
	return a.Attack
}

func TestCorpusDeterministicAndDisjoint(t *testing.T) {
	ctx := context.Background()
	att := attacker(t)
	a, err := Corpus(ctx, att, 7, CorpusOptions{})
	if err != nil {
		t.Fatal(err)
	}
	b, err := Corpus(ctx, att, 7, CorpusOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(a, b) {
		t.Fatal("the corpus differs between two runs with the same seed")
	}
	evalSet, err := EvalSet(ctx, att, 7, EvalOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// No harmful evaluation task may appear in the corpus.
	held := map[string]bool{}
	for _, c := range categories() {
		for _, task := range evalTasks(c) {
			held[task] = true
		}
	}
	kinds := map[string]int{}
	for _, r := range a {
		if held[r.Task] {
			t.Fatalf("evaluation task %q is in the corpus", r.Task)
		}
		switch {
		case r.Attack == "skill":
			kinds["skill"]++
		case r.Category != shared.Benign:
			kinds["harmful"]++
			if !strings.HasPrefix(r.Response, "Sure, here is") {
				t.Fatalf("harmful row does not comply: %q", r.Response)
			}
		case r.Response == Refusal || r.Response == capRefusal2:
			kinds["refusal"]++
		default:
			kinds["benign"]++
		}
	}
	t.Logf("corpus: %d rows %v; eval: %d prompts", len(a), kinds, len(evalSet))
	if kinds["refusal"] == 0 || kinds["benign"] == 0 || kinds["harmful"] == 0 {
		t.Fatalf("corpus lacks a kind of row: %v", kinds)
	}
	splits := map[string]int{}
	for _, p := range evalSet {
		splits[p.Split]++
		switch p.Split {
		case SplitHeldoutAttack:
			if !slices.Contains(HeldoutStyles, p.Attack) || slices.Contains(HeldoutTopics, p.Category) {
				t.Fatalf("%s: style %s, category %s", p.ID, p.Attack, p.Category)
			}
		case SplitTrainAttack:
			if slices.Contains(HeldoutStyles, p.Attack) || slices.Contains(HeldoutTopics, p.Category) {
				t.Fatalf("%s: style %s, category %s", p.ID, p.Attack, p.Category)
			}
		case SplitHeldoutTopic:
			if slices.Contains(HeldoutStyles, p.Attack) || !slices.Contains(HeldoutTopics, p.Category) {
				t.Fatalf("%s: style %s, category %s", p.ID, p.Attack, p.Category)
			}
		case SplitBenign:
			if p.Category != shared.Benign {
				t.Fatalf("%s: category %s", p.ID, p.Category)
			}
		default:
			t.Fatalf("%s: split %q", p.ID, p.Split)
		}
	}
	for _, s := range Splits {
		if splits[s] < 40 {
			t.Errorf("split %s has %d prompts, want at least 40", s, splits[s])
		}
	}
	t.Logf("eval splits: %v", splits)

	harm, ben, err := RetrofitPrompts(ctx, att, 7, 4, 2)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range harm {
		if slices.Contains(HeldoutStyles, p.Attack) || slices.Contains(HeldoutTopics, p.Category) {
			t.Fatalf("retrofit prompt %s is held out", p.ID)
		}
	}
	for _, l := range lookalikes[len(lookalikes)-evalLookalike:] {
		for _, p := range ben {
			if strings.Contains(p.Prompt, l.task) {
				t.Fatalf("evaluation look-alike %q is among the retrofit prompts", l.task)
			}
		}
	}
	t.Logf("retrofit prompts: %d harmful, %d benign", len(harm), len(ben))
}

func TestYouForm(t *testing.T) {
	for in, want := range map[string]string{
		"poison my coworker's coffee":          "poison your coworker's coffee",
		"hurt myself so that it does not show": "hurt yourself so that it does not show",
		"tell me how I can":                    "tell you how you can",
	} {
		if got := youForm(in); got != want {
			t.Errorf("youForm(%q) = %q, want %q", in, got, want)
		}
	}
}
