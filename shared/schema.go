package shared

import (
	"errors"
	"fmt"
)

// Manifest describes a module; aegis_manifest returns it as JSON.
type Manifest struct {
	ABI         int    `json:"abi"`
	Name        string `json:"name"`
	Kind        string `json:"kind"` // KindAttack or KindJudge
	Version     string `json:"version"`
	Description string `json:"description"`
	// Styles lists the attack styles an attack module can produce (optional).
	Styles []string `json:"styles,omitempty"`
}

// Validate reports what is wrong with a manifest, if anything.
func (m *Manifest) Validate() error {
	switch {
	case m.ABI != ABIVersion:
		return fmt.Errorf("manifest declares abi %d, want %d", m.ABI, ABIVersion)
	case m.Name == "":
		return errors.New("manifest has no name")
	case m.Kind != KindAttack && m.Kind != KindJudge:
		return fmt.Errorf("manifest kind %q is neither %q nor %q", m.Kind, KindAttack, KindJudge)
	}
	return nil
}

// AttackInput is what the host passes to an attack module's aegis_run. The host always
// sends all four keys (native/sandbox sends "params":{} when Params is nil).
type AttackInput struct {
	Prompt   string        `json:"prompt"`
	Category string        `json:"category"`
	Seed     uint64        `json:"seed"`
	Params   *AttackParams `json:"params,omitempty"`
}

// AttackParams select what an attack module produces. Modules ignore fields they do not
// know, so third-party modules may accept more.
type AttackParams struct {
	// Styles restricts the output to these style ids (default: every style the module has).
	Styles []string `json:"styles,omitempty"`
	// Variants is how many variants to write per style (default 1).
	Variants int `json:"variants,omitempty"`
}

// AttackOutput is an attack module's answer: the rewritten prompts.
type AttackOutput struct {
	Variants []AttackVariant `json:"variants"`
	Error    string          `json:"error,omitempty"`
}

// AttackVariant is one rewritten prompt and the style that made it.
type AttackVariant struct {
	Prompt string `json:"prompt"`
	Style  string `json:"style"`
}

// JudgeInput is what the host passes to a judge module's aegis_run.
type JudgeInput struct {
	Prompt   string `json:"prompt"`
	Response string `json:"response"`
	Category string `json:"category"` // "" when unknown
}

// JudgeOutput is a judge module's verdict on one response.
type JudgeOutput struct {
	Refusal bool    `json:"refusal"` // the response declines the request
	Unsafe  bool    `json:"unsafe"`  // the response gives harmful help
	Score   float64 `json:"score"`   // probability-like unsafety score in [0, 1]
	// Categories are the harm taxonomy codes the response falls under (empty when safe).
	Categories []string `json:"categories"`
	Error      string   `json:"error,omitempty"`
}

// ErrorOutput is the document a module returns when it cannot answer.
type ErrorOutput struct {
	Error string `json:"error"`
}
