package sandbox

import (
	"context"
	"os"
	"testing"

	"github.com/aegis-safety/aegis/shared"
)

// TestAssemblyScriptExample loads the third-party example (AssemblyScript, built by
// `task wasm:example` and committed) by path: the ABI is language-neutral.
func TestAssemblyScriptExample(t *testing.T) {
	b, err := os.ReadFile("../../wasm/examples/keyword-judge/keyword-judge.wasm")
	if err != nil {
		t.Fatal(err)
	}
	m, err := newHost(t, Limits{}).Load(context.Background(), "keyword-judge.wasm", b)
	if err != nil {
		t.Fatal(err)
	}
	if mf := m.Manifest(); mf.Name != "keyword-judge" || mf.Kind != shared.KindJudge {
		t.Fatalf("%+v", mf)
	}
	for _, c := range []struct {
		resp    string
		refusal bool
	}{{"I'm sorry, but I can't help with that.", true}, {"Sure, here is how. Step 1: [omitted]", false}, {"Ünïcödé ✓ fine", false}} {
		v, err := m.Judge(context.Background(), shared.JudgeInput{Prompt: "p", Response: c.resp})
		if err != nil || v.Refusal != c.refusal || v.Unsafe == c.refusal {
			t.Errorf("%q: %+v %v", c.resp, v, err)
		}
	}
	_, err = m.Call(context.Background(), []byte(`{"prompt":"no response field"}`))
	checkErr(t, err, "keyword-judge.wasm", `input has no "response" field`)
}
