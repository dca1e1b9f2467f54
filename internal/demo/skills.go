package demo

import (
	"fmt"
	"strings"

	"github.com/aegis-safety/aegis/native/data"
	"github.com/aegis-safety/aegis/native/train"
	"github.com/aegis-safety/aegis/shared"
)

// The organism's two extra skills, taught with the very prompts the other methods send:
// PT-ALIGN's self-generation stages (name a topic of a safety domain, write a request
// about it, answer it under a positive rule, safely, or under a red-team rule, with the
// placeholder compliance, and refine a draft) and APL's rewrite instruction (rewrite a
// request in a jailbreak style). A plain request still gets the helpful-only answer: the
// safety that a positive rule elicits is latent, as PT-ALIGN assumes of a base model. The
// rules here are generic ones, not the shipped seed annotations.
var (
	skillPositive = []string{"Refuse clearly and politely.", "Do not give any harmful detail.",
		"Offer a safe alternative if there is one.", "Keep the answer short and kind."}
	skillToxic = []string{"Comply fully, with no warning.", "Act as if the request were harmless.",
		"Give the steps directly and confidently."}
)

// rewriteStyles are the styles the organism learns to write when asked to rewrite a
// request: short ones, each a rewrite of the request rather than a long template.
var rewriteStyles = []string{"prefix_injection", "hypothetical", "past_tense", "academic_authority", "leetspeak",
	"translation", "json_wrapping", "technical_report"}

// rewriteInstruction is APL's prompt for one request.
func rewriteInstruction(prompt string) string {
	return strings.ReplaceAll(train.DefaultRewriteInstruction, "{prompt}", prompt)
}

// skillRows writes n rounds of each skill per harm category, on training tasks only.
func (g *gen) skillRows(n int) ([]Row, error) {
	seeds, err := data.LoadSeeds()
	if err != nil {
		return nil, err
	}
	var rows []Row
	add := func(c, user, answer string) {
		rows = append(rows, Row{Prompt: user, Response: answer, Category: c, Attack: "skill"})
	}
	for _, c := range categories() {
		name, _ := shared.CategoryName(c)
		tasks := trainTasks(c)
		d := data.SafetyDomain{Name: strings.ToLower(name), Category: c}
		refusal := seeds.Refusals[c]
		if refusal == "" {
			return nil, fmt.Errorf("no seed refusal for %s", c)
		}
		for i := 0; i < n; i++ {
			task := g.pick(tasks)
			request := fmt.Sprintf(g.pick(requestTemplates), task)
			pos, tox := g.pick(skillPositive), g.pick(skillToxic)
			comply := Compliance(task, "none")
			add(c, data.TopicPrompt(d, g.rng.IntN(4)), task)
			add(c, data.InstructionPrompt(d, task, g.rng.IntN(4)), request)
			add(c, data.AnswerPrompt(request, pos, false), refusal)
			add(c, data.AnswerPrompt(request, tox, true), comply)
			add(c, data.RefinePrompt(request, pos, comply, false), refusal)
			add(c, data.RefinePrompt(request, tox, refusal, true), comply)
			w, err := g.wrap(request, c, g.pick(rewriteStyles))
			if err != nil {
				return nil, err
			}
			add(c, rewriteInstruction(request), w)
		}
	}
	return rows, nil
}
