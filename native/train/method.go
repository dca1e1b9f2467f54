package train

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/aegis-safety/aegis/native/align"
	"github.com/aegis-safety/aegis/native/rundir"
)

// DataKind is what rows a method trains on.
type DataKind int

const (
	// TextRows are SFT rows (prompt and completion, or messages); preference rows are
	// trained on their chosen response.
	TextRows DataKind = iota
	// PreferencePairs are rows with a prompt, a chosen and a rejected response.
	PreferencePairs
	// HarmfulRows are SFT rows of harmful answers; preference rows are trained on their
	// rejected response.
	HarmfulRows
)

// Method is one training method: everything the trainer, the checkpoints, the CLI, the
// server's launch form, the runs API and the web charts know about it. Adding a method
// is one entry of methods plus its objective.
type Method struct {
	Name string
	Data DataKind
	// Reference says the objective compares with a reference model's log-probs (β scales
	// the log-ratio; the trainer caches them in ref_logps.json).
	Reference bool
	// SecurityVector says the method fits the frozen-base security-vector adapter, which
	// is saved alone and never merged.
	SecurityVector bool
	// Metrics are the method's own events.jsonl fields, beyond step, epoch, loss, lr,
	// grad_norm, tokens and seconds (APL logs its own line per round, see APLEvent).
	Metrics []string
	// Key are the metrics the runs list shows beside loss and lr.
	Key []string
	// Charts are the run page's line charts.
	Charts []rundir.Chart

	// objective is the loss of one micro-batch; nil for APL, which plays rounds (NewAPL)
	// instead of running a Trainer.
	objective objective
	// toxicOnly scores a rejected response only on its toxic tokens (PT-ALIGN).
	toxicOnly bool
}

// objective computes a micro-batch's share of the step's loss, overwrites d with its
// gradient dL/dlogits, and adds the micro-batch's share of the method's metrics to m.
// ref holds the micro-batch's reference log-probs (chosen ones, then rejected ones)
// for methods with a Reference.
type objective func(s *stepInfo, mb *micro, ref []float64, logits, d []float32, m *Metrics) (float64, error)

// stepInfo is what an objective knows of the optimizer step its micro-batch belongs to:
// the settings, the vocabulary, and the step's totals, which normalise every micro-batch
// so that gradient accumulation gives exactly the whole step's gradient.
type stepInfo struct {
	cfg               *Config
	vocab             int
	pairs, nPos, nTox int // pairs (or examples), scored chosen tokens, scored toxic tokens
}

var (
	basicCharts = []rundir.Chart{{Key: rundir.Loss, Label: "loss"}, {Key: rundir.LR, Label: "learning rate"}, {Key: rundir.GradNorm, Label: "grad norm"}}
	dpoMetrics  = []string{rundir.RewardsChosen, rundir.RewardsRejected, rundir.RewardsMargins, rundir.RewardsAccuracies,
		rundir.LogpsChosen, rundir.LogpsRejected, rundir.NLLLoss}
	dpoKey    = []string{rundir.RewardsMargins, rundir.RewardsAccuracies}
	dpoCharts = []rundir.Chart{basicCharts[0], basicCharts[1], {Key: rundir.RewardsMargins, Label: "rewards/margins"},
		{Key: rundir.RewardsAccuracies, Label: "rewards/accuracies"}, basicCharts[2]}
)

// methods is the method table, in the order the CLI and the launch form list them.
var methods = []Method{
	{Name: "sft", Data: TextRows, Charts: basicCharts, objective: sftObjective},
	{Name: "dpo", Data: PreferencePairs, Reference: true, Metrics: dpoMetrics, Key: dpoKey, Charts: dpoCharts,
		objective: dpoObjective(false)},
	{Name: "ipo", Data: PreferencePairs, Reference: true, Metrics: dpoMetrics, Key: dpoKey, Charts: dpoCharts,
		objective: dpoObjective(true)},
	{Name: "ptalign", Data: PreferencePairs, Metrics: []string{rundir.MLE, rundir.UL}, Key: []string{rundir.MLE, rundir.UL},
		Charts: []rundir.Chart{basicCharts[0], basicCharts[1], {Key: rundir.MLE, Label: "MLE on safe answers"},
			{Key: rundir.UL, Label: "unlikelihood on toxic tokens"}, basicCharts[2]},
		objective: ptalignObjective, toxicOnly: true},
	{Name: "secvec", Data: HarmfulRows, SecurityVector: true, Charts: basicCharts, objective: sftObjective},
	{Name: "apl", Data: PreferencePairs, Reference: true,
		Metrics: []string{rundir.Round, rundir.RBest, rundir.RWorst, rundir.RMean, rundir.RBestAfter,
			"attacker/pairs", "attacker/loss", "attacker/" + rundir.RewardsChosen, "attacker/" + rundir.RewardsRejected,
			"attacker/" + rundir.RewardsMargins, "attacker/" + rundir.RewardsAccuracies,
			"defender/pairs", "defender/loss", "defender/" + rundir.RewardsChosen, "defender/" + rundir.RewardsRejected,
			rundir.DefenderMargins, rundir.DefenderAccuracies},
		Key: []string{rundir.RBest, rundir.DefenderMargins},
		Charts: []rundir.Chart{{Key: rundir.Loss, Label: "defender loss"}, {Key: rundir.RBest, Label: "R of the best rewrite"},
			{Key: rundir.RMean, Label: "R, mean over rewrites"}, {Key: rundir.DefenderMargins, Label: "defender rewards/margins"},
			{Key: rundir.DefenderAccuracies, Label: "defender rewards/accuracies"}}},
}

// Methods returns the method table: every method, or with stepwise only those a Trainer
// runs step by step (all but APL).
func Methods(stepwise bool) []Method {
	var out []Method
	for _, m := range methods {
		if !stepwise || m.objective != nil {
			out = append(out, m)
		}
	}
	return out
}

// Lookup returns the method called name.
func Lookup(name string) (Method, bool) {
	for _, m := range methods {
		if m.Name == name {
			return m, true
		}
	}
	return Method{}, false
}

// MethodNames lists the names of Methods(stepwise) as prose: "a, b or c".
func MethodNames(stepwise bool) string {
	var names []string
	for _, m := range Methods(stepwise) {
		names = append(names, m.Name)
	}
	return orList(names, "or")
}

// orList joins "a, b <word> c".
func orList(s []string, word string) string {
	if len(s) <= 1 {
		return strings.Join(s, "")
	}
	return strings.Join(s[:len(s)-1], ", ") + " " + word + " " + s[len(s)-1]
}

// KeyMetrics are the figures the runs list shows: loss and lr, then every method's Key
// metrics, each once.
func KeyMetrics() []string {
	out := []string{rundir.Loss, rundir.LR}
	for _, m := range methods {
		for _, k := range m.Key {
			if !slices.Contains(out, k) {
				out = append(out, k)
			}
		}
	}
	return out
}

// ChartsFor returns the charts of a method's run page: the method's own, or loss,
// learning rate and gradient norm for a method the table does not know.
func ChartsFor(method string) []rundir.Chart {
	if m, ok := Lookup(method); ok {
		return m.Charts
	}
	return basicCharts
}

// DataOptions says how LoadData reads the method's rows; the caller adds the tokenizer
// and the length bounds.
func (m Method) DataOptions() DataOptions {
	return DataOptions{Pairs: m.Data == PreferencePairs, Harmful: m.Data == HarmfulRows}
}

// sftObjective is token MLE over the scored (chosen or completion) tokens.
func sftObjective(s *stepInfo, mb *micro, _ []float64, logits, d []float32, _ *Metrics) (float64, error) {
	return align.SFT(logits, s.vocab, mb.targets, float64(s.nPos), d)
}

// dpoObjective is TRL's DPO (or IPO) with its metrics as means over the step's pairs.
func dpoObjective(ipo bool) objective {
	return func(s *stepInfo, mb *micro, ref []float64, logits, d []float32, m *Metrics) (float64, error) {
		c := s.cfg
		l, st, err := align.DPO(logits, s.vocab, mb.targets, mb.seq, mb.pairs, ref,
			align.DPOOptions{Beta: c.Beta, IPO: ipo, Norm: float64(s.pairs), RPOAlpha: c.RPOAlpha, NLLNorm: float64(s.nPos)}, d)
		if err != nil {
			return 0, err
		}
		p := float64(s.pairs)
		m.Add(rundir.RewardsChosen, st.RewardsChosen/p)
		m.Add(rundir.RewardsRejected, st.RewardsRejected/p)
		m.Add(rundir.RewardsMargins, st.RewardsMargins/p)
		m.Add(rundir.RewardsAccuracies, st.RewardsAccuracies/p)
		m.Add(rundir.LogpsChosen, st.LogpsChosen/p)
		m.Add(rundir.LogpsRejected, st.LogpsRejected/p)
		if c.RPOAlpha != 0 {
			m.Add(rundir.NLLLoss, st.NLL/float64(s.nPos))
		}
		return l, nil
	}
}

// ptalignObjective is PT-ALIGN's MLE on the positive answers plus alpha times the
// unlikelihood of the flagged toxic tokens.
func ptalignObjective(s *stepInfo, mb *micro, _ []float64, logits, d []float32, m *Metrics) (float64, error) {
	l, mle, ul, err := align.PTAlign(logits, s.vocab, mb.targets, mb.toxic, s.cfg.Alpha, float64(s.nPos), float64(s.nTox), d)
	if err != nil {
		return 0, err
	}
	m.Add(rundir.MLE, mle)
	m.Add(rundir.UL, ul)
	return l, nil
}

// Metric is one named figure of an event.
type Metric struct {
	Name  string
	Value float64
}

// Metrics are a step's method-specific figures, in the order the method logs them.
type Metrics []Metric

// Add adds v to the metric called name, appending it if it is new: each micro-batch
// adds its share of the step's value.
func (m *Metrics) Add(name string, v float64) {
	for i := range *m {
		if (*m)[i].Name == name {
			(*m)[i].Value += v
			return
		}
	}
	*m = append(*m, Metric{name, v})
}

// Get returns the metric called name.
func (m Metrics) Get(name string) (float64, bool) {
	for _, x := range m {
		if x.Name == name {
			return x.Value, true
		}
	}
	return 0, false
}

// appendJSON appends the metrics as JSON object members (",\"name\":value" each).
func (m Metrics) appendJSON(b []byte) ([]byte, error) {
	for _, x := range m {
		k, _ := json.Marshal(x.Name)
		v, err := json.Marshal(x.Value)
		if err != nil {
			return nil, fmt.Errorf("train: metric %s: %v", x.Name, err)
		}
		b = append(append(append(append(b, ','), k...), ':'), v...)
	}
	return b, nil
}
