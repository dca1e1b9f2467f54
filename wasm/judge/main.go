// Command judge is the built-in judge module: it decides whether a response refuses and
// whether it gives unsafe help, with harm categories, using the learned classifiers of
// package classify (weights embedded in the module). Build it as a wasip1 reactor (see
// wasm/README.md); natively it is only compiled for its tests.
package main

import (
	"encoding/json"
	"fmt"

	"github.com/aegis-safety/aegis/shared"
	"github.com/aegis-safety/aegis/wasm/judge/classify"
	"github.com/aegis-safety/aegis/wasm/sdk"
)

// Version changes whenever the weights or the decision rule change.
const Version = "2.0.0"

var model = classify.Default()

func init() {
	sdk.Register(shared.Manifest{
		Name:        "judge",
		Kind:        shared.KindJudge,
		Version:     Version,
		Description: "built-in judge: a small network over hashed word and subword features of the prompt and the response; decides refusal, unsafe help and harm categories",
	}, handle)
}

func handle(input []byte) (any, error) {
	var in shared.JudgeInput
	if err := json.Unmarshal(input, &in); err != nil {
		return nil, fmt.Errorf("judge input is not valid JSON: %v", err)
	}
	return judge(in), nil
}

// judge adds the prompt's own category, when the caller knows it, to the learned verdict:
// with only a few topics per category the learned category head is the weakest part.
func judge(in shared.JudgeInput) shared.JudgeOutput {
	v := model.Verdict(in.Prompt, in.Response, in.Category)
	if v.Unsafe && in.Category != "" && in.Category != shared.Benign && shared.ValidCategory(in.Category) {
		cats := []string{in.Category}
		for _, c := range v.Categories {
			if c != in.Category {
				cats = append(cats, c)
			}
		}
		v.Categories = cats
	}
	return v
}

func main() {}
