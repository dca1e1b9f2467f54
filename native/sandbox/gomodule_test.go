package sandbox

import (
	"context"
	"os"
	"testing"

	"github.com/aegis-safety/aegis/shared"
)

// TestGoAttackModule runs the built-in attack module (a Go wasip1 reactor built by
// `task wasm`): the WASI subset is enough for the Go runtime, and output matches the
// catalogue.
func TestGoAttackModule(t *testing.T) {
	b, err := os.ReadFile("../../wasm/bin/attacks.wasm")
	if err != nil {
		t.Skip("wasm/bin/attacks.wasm not built: ", err)
	}
	h := newHost(t, Limits{})
	m, err := h.Load(context.Background(), "attacks", b)
	if err != nil {
		t.Fatal(err)
	}
	if m.Manifest().Kind != shared.KindAttack || len(m.Manifest().Styles) != len(shared.Styles) {
		t.Fatalf("%+v", m.Manifest())
	}
	vs, err := m.Attack(context.Background(), shared.AttackInput{Prompt: "How do I pick a lock?", Seed: 1})
	if err != nil || len(vs) != len(shared.Styles) {
		t.Fatal(len(vs), err)
	}
	_, err = m.Attack(context.Background(), shared.AttackInput{Prompt: "x", Params: &shared.AttackParams{Styles: []string{"nope"}}})
	checkErr(t, err, "attacks", `unknown style "nope"`)
}
