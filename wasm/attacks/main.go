// Command attacks is the built-in attack module: it rewrites a prompt into jailbreak
// variants in every style of the shared catalogue (shared.Styles), deterministically for a
// given seed. Build it as a wasip1 reactor (see wasm/README.md); natively it is only
// compiled for its tests.
package main

import (
	"encoding/json"
	"fmt"

	"github.com/aegis-safety/aegis/shared"
	"github.com/aegis-safety/aegis/wasm/sdk"
)

// Version changes whenever a style's output changes, so that results name what made them.
const Version = "1.1.0"

func init() {
	sdk.Register(shared.Manifest{
		Name:        "attacks",
		Kind:        shared.KindAttack,
		Version:     Version,
		Description: fmt.Sprintf("built-in jailbreak rewrites: %d styles from published suites, deterministic per seed; params {\"styles\":[ids],\"variants\":n}", len(shared.Styles)),
		Styles:      shared.StyleIDs(),
	}, handle)
}

func handle(input []byte) (any, error) {
	var in shared.AttackInput
	if err := json.Unmarshal(input, &in); err != nil {
		return nil, fmt.Errorf("attack input is not valid JSON: %v", err)
	}
	var p shared.AttackParams
	if in.Params != nil {
		p = *in.Params
	}
	return Generate(in.Prompt, in.Seed, p)
}

func main() {}
