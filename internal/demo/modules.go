package demo

import (
	"context"
	"fmt"

	"github.com/aegis-safety/aegis/native/data"
	"github.com/aegis-safety/aegis/native/eval"
	"github.com/aegis-safety/aegis/native/sandbox"
	"github.com/aegis-safety/aegis/shared"
)

// UseBuiltins points o at the embedded model unless o.ModelDir is set, and loads the
// built-in attack and judge modules into h as o.Attack and o.Judge: the demo and the
// experiments measure with the modules aegis ships.
func (o *Options) UseBuiltins(ctx context.Context, h *sandbox.Host) error {
	if o.ModelDir == "" {
		d, err := ModelDir()
		if err != nil {
			return fmt.Errorf("embedded model: %w", err)
		}
		o.ModelDir = d
	}
	attack, err := BuiltinAttacker(ctx, h)
	if err != nil {
		return err
	}
	jm, err := h.Open(ctx, sandbox.Ref{Name: "judge", Kind: shared.KindJudge})
	if err != nil {
		return err
	}
	o.Attack, o.Judge = attack, eval.ModuleJudge{M: jm}
	return nil
}

// BuiltinAttacker loads the built-in attack module into h: the corpus and the prompts
// the demo rewrites are its styles.
func BuiltinAttacker(ctx context.Context, h *sandbox.Host) (data.Attacker, error) {
	m, err := h.Open(ctx, sandbox.Ref{Name: "attacks", Kind: shared.KindAttack})
	if err != nil {
		return nil, err
	}
	return m.Attack, nil
}
