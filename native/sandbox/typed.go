package sandbox

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/aegis-safety/aegis/shared"
)

// Attack runs an attack module on one prompt. An output that is not a non-empty list of
// variants, each with a prompt and a plain style name, is an error.
func (m *Module) Attack(ctx context.Context, in shared.AttackInput) ([]shared.AttackVariant, error) {
	if m.manifest.Kind != shared.KindAttack {
		return nil, &Error{m.name, fmt.Errorf("is %s module, not an attack module", article(m.manifest.Kind))}
	}
	if in.Params == nil {
		in.Params = &shared.AttackParams{} // the document always has all four keys
	}
	b, err := json.Marshal(in)
	if err != nil {
		return nil, err
	}
	out, err := m.Call(ctx, b)
	if err != nil {
		return nil, err
	}
	var o shared.AttackOutput
	if err := json.Unmarshal(out, &o); err != nil {
		return nil, &Error{m.name, fmt.Errorf("output does not match the attack schema: %v", err)}
	}
	if err := checkAttack(&o); err != nil {
		return nil, &Error{m.name, err}
	}
	return o.Variants, nil
}

// Judge runs a judge module on one response. A verdict whose score is outside [0, 1] or
// whose categories are not taxonomy codes is an error.
func (m *Module) Judge(ctx context.Context, in shared.JudgeInput) (shared.JudgeOutput, error) {
	if m.manifest.Kind != shared.KindJudge {
		return shared.JudgeOutput{}, &Error{m.name, fmt.Errorf("is %s module, not a judge module", article(m.manifest.Kind))}
	}
	b, err := json.Marshal(in)
	if err != nil {
		return shared.JudgeOutput{}, err
	}
	out, err := m.Call(ctx, b)
	if err != nil {
		return shared.JudgeOutput{}, err
	}
	var o shared.JudgeOutput
	if err := json.Unmarshal(out, &o); err != nil {
		return shared.JudgeOutput{}, &Error{m.name, fmt.Errorf("output does not match the judge schema: %v", err)}
	}
	if err := checkJudge(&o); err != nil {
		return shared.JudgeOutput{}, &Error{m.name, err}
	}
	if o.Categories == nil {
		o.Categories = []string{}
	}
	return o, nil
}

// article returns "an attack" or "a judge": module kinds in error messages.
func article(kind string) string {
	if kind == shared.KindAttack {
		return "an " + kind
	}
	return "a " + kind
}
