package demo

import (
	"context"
	"testing"

	"github.com/aegis-safety/aegis/native/eval"
)

// TestCompare runs the method comparison on the embedded model and checks what must
// hold whatever the methods achieve: every method is measured on the same splits, the
// learned attacker's split is there, rates are fractions, and the DPO retrofit (the
// demo's, checked by TestDemoOutcome) is safer than the base on held-out styles.
func TestCompare(t *testing.T) {
	if testing.Short() {
		t.Skip("the comparison takes minutes; run without -short")
	}
	ctx := context.Background()
	_, att, judge := builtinModules(t)
	dir, err := ModelDir()
	if err != nil {
		t.Fatal(err)
	}
	res, err := Compare(ctx, CompareOptions{Options: Options{ModelDir: dir, RunsDir: t.TempDir(), Attack: att.Attack,
		Judge: eval.ModuleJudge{M: judge}, Logf: t.Logf}})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%.0f s", res.Seconds)
	t.Logf("base    %+v", res.Base)
	for _, name := range res.Order {
		t.Logf("%-7s %+v", name, res.Methods[name])
	}
	for _, name := range []string{"dpo", "ptalign", "apl", "tsdi"} {
		s, ok := res.Methods[name]
		if !ok {
			t.Fatalf("no %s", name)
		}
		for _, r := range []float64{s.ASRHeldout, s.ASRLearnedAttacker, s.OverRefusal, s.HarmlessnessWinRate} {
			if r < 0 || r > 1 {
				t.Fatalf("%s: rate %v", name, r)
			}
		}
	}
	if d := res.Methods["dpo"]; d.ASRHeldout >= res.Base.ASRHeldout || d.HarmlessnessWinRate <= 0 {
		t.Errorf("dpo %+v is no safer than the base %+v", d, res.Base)
	}
}
