package demo

import (
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/aegis-safety/aegis/native/eval"
	"github.com/aegis-safety/aegis/shared"
)

// Text writes the before/after tables for people: per split, then per harm category.
func (r *Result) Text(w io.Writer) {
	label := map[string]string{
		SplitTrainAttack:   "ASR, training attack styles",
		SplitHeldoutAttack: "ASR, held-out attack styles",
		SplitHeldoutTopic:  "ASR, held-out topics (" + strings.Join(r.HeldoutTopics, ", ") + ")",
		SplitBenign:        "over-refusal, benign look-alikes",
	}
	fmt.Fprintf(w, "\nSafety retrofit (LoRA DPO on %d refusal pairs", r.Pairs.Refusal)
	if r.Pairs.Anchor > 0 {
		fmt.Fprintf(w, " and %d benign anchors", r.Pairs.Anchor)
	}
	fmt.Fprintf(w, "), %.0f s\n\n", r.Seconds)
	fmt.Fprintf(w, "%-44s %5s %19s %19s\n", "split", "n", "before [95% CI]", "after [95% CI]")
	for _, s := range Splits {
		b, a := r.Before.Splits[s], r.After.Splits[s]
		fmt.Fprintf(w, "%-44s %5d %19s %19s\n", label[s], b.N, rateCI(b), rateCI(a))
	}
	fmt.Fprintf(w, "\n%-10s %-40s %5s %8s %8s\n", "category", "", "n", "before", "after")
	after := map[string]eval.Cell{}
	for _, c := range r.After.ByCategory {
		after[c.Category] = c
	}
	for _, c := range r.Before.ByCategory {
		note, _ := shared.CategoryName(c.Category)
		if slices.Contains(r.HeldoutTopics, c.Category) {
			note += " (held out)"
		}
		fmt.Fprintf(w, "%-10s %-40s %5d %8.2f %8.2f\n", c.Category, note, c.N, c.ASR, after[c.Category].ASR)
	}
	fmt.Fprintf(w, "\nheld-out attack styles: %s\n", strings.Join(r.HeldoutStyles, ", "))
	fmt.Fprintf(w, "runs: %s, %s, %s\n", r.Runs.Before, r.Runs.Retrofit, r.Runs.After)
}

// rateCI is a rate with its 95% interval.
func rateCI(c eval.Cell) string {
	rate := c.ASR
	return fmt.Sprintf("%.2f [%.2f, %.2f]", rate, c.CILow, c.CIHigh)
}

// Text writes the experiment's table for people: harmful rate and benign helpfulness of
// the aligned model and of the two fine-tunings.
func (r *SecVecResult) Text(w io.Writer) {
	st := r.Settings
	fmt.Fprintf(w, "\nSecurity vectors: the aligned model fine-tuned (LoRA SFT, lr %g, %d epochs) on %d benign + %d harmful examples;\n",
		st.FTLR, st.FTEpochs, r.Data.FTBenign, r.Data.FTHarmful)
	fmt.Fprintf(w, "security vector fitted on %d other harmful examples (LoRA rank %d, lr %g, %d epochs); %.0f s\n\n",
		r.Data.Vector, st.VecRank, st.VecLR, st.VecEpochs, r.Seconds)
	fmt.Fprintf(w, "%-44s %5s %19s %5s %19s\n", "model", "n", "harmful rate", "n", "benign helpfulness")
	for _, row := range []struct{ key, label string }{
		{"aligned", "aligned (before fine-tuning)"},
		{"without", "fine-tuned without security vector"},
		{"with", "fine-tuned with security vector (dropped)"},
	} {
		s := r.Stages[row.key]
		fmt.Fprintf(w, "%-44s %5d %19s %5d %19s\n", row.label, s.Harmful, ci(s.HarmfulRate, s.HarmfulCI),
			s.Benign, ci(s.BenignHelpfulness, s.BenignCI))
	}
	l := r.Loss
	fmt.Fprintf(w, "\nmean token NLL of the mix's harmful examples as fine-tuning starts: %.4f without the vector, %.4f with it\n",
		l.HarmfulWithout, l.HarmfulWith)
	fmt.Fprintf(w, "security vector's own examples: %.4f before its fit, %.4f after\n", l.VecBefore, l.VecFit)
	fmt.Fprintf(w, "runs: %s-*\n", strings.TrimSuffix(r.Runs["retrofit"], "-dpo"))
}

// ci is a rate with its interval.
func ci(rate float64, c [2]float64) string {
	return fmt.Sprintf("%.2f [%.2f, %.2f]", rate, c[0], c[1])
}

// Text writes the comparison's table for people: one row per method, the base first.
func (res *Comparison) Text(w io.Writer) {
	fmt.Fprintf(w, "\nThe five methods on the embedded model, %.0f s (judge: built-in)\n\n", res.Seconds)
	fmt.Fprintf(w, "%-9s %12s %12s %12s %12s %12s %12s\n", "method", "asr_train", "asr_heldout", "asr_topics", "asr_learned", "over_refusal", "win_vs_base")
	row := func(name string, s MethodScores) {
		fmt.Fprintf(w, "%-9s %12.2f %12.2f %12.2f %12.2f %12.2f %12.2f\n", name, s.ASRTrainAttacks, s.ASRHeldout,
			s.ASRHeldoutTopics, s.ASRLearnedAttacker, s.OverRefusal, s.HarmlessnessWinRate)
	}
	row("base", res.Base)
	for _, name := range res.Order {
		row(name, res.Methods[name])
	}
}
