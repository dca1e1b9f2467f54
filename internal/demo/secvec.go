package demo

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/aegis-safety/aegis/native/align"
	"github.com/aegis-safety/aegis/native/data"
	"github.com/aegis-safety/aegis/native/eval"
	"github.com/aegis-safety/aegis/native/jsonl"
	"github.com/aegis-safety/aegis/native/model"
	"github.com/aegis-safety/aegis/native/tokenizer"
	"github.com/aegis-safety/aegis/native/train"
	"github.com/aegis-safety/aegis/shared"
)

// The security-vector experiment (Zhou et al., "Making Harmful Behaviors Unlearnable for
// Large Language Models"): a user fine-tunes an aligned model on their own data, benign
// examples with some harmful ones mixed in, and the fine-tuning undoes the alignment. A
// security vector, a LoRA adapter fitted beforehand on a small harmful set with the base
// frozen, is loaded enabled and frozen during that fine-tuning: with it, the model
// already produces the harmful answers, their loss is low, and the fine-tuning learns
// little harm. Dropped afterwards, it leaves a model about as safe as before.
//
// On the embedded organism: the aligned model is the demo's retrofit (LoRA DPO, merged
// into the base); the security vector and the fine-tuning mix are drawn from the
// corpus's training tasks, split so that the two never share a task; the evaluation is
// the demo's evaluation set, whose harmful tasks neither ever holds.

// SecVecOptions configure SecVec. The embedded Options set the model, runs folder, run
// prefix [secvec-YYYYMMDD-HHMMSS], modules, seed, hooks, and the retrofit as the demo
// does it. Zero values take the defaults in brackets.
type SecVecOptions struct {
	Options

	VecExamples int     // harmful examples the security vector is fitted on [100]
	VecRank     int     // security vector LoRA rank [8]
	VecLR       float64 // [2e-3]
	VecEpochs   int     // [6]

	FTHarmful int     // harmful examples in the fine-tuning mix [one per fine-tuning task]
	FTBenign  int     // benign examples in the mix [2 × FTHarmful]
	FTRank    int     // fine-tuning LoRA rank [8]
	FTLR      float64 // [1e-3]
	FTEpochs  int     // [3]
}

func (o *SecVecOptions) defaults() {
	if o.RunID == "" {
		o.RunID = "secvec-" + time.Now().Format("20060102-150405")
	}
	o.Options.defaults()
	orDefault(&o.VecExamples, 100)
	orDefault(&o.VecRank, 8)
	orDefault(&o.VecEpochs, 6)
	orDefault(&o.FTHarmful, len(secVecTasks(1)))
	orDefault(&o.FTBenign, 2*o.FTHarmful)
	orDefault(&o.FTRank, 8)
	orDefault(&o.FTEpochs, 3)
	orDefault(&o.VecLR, 2e-3)
	orDefault(&o.FTLR, 1e-3)
}

// SecVecStage is one evaluated model's figures.
type SecVecStage struct {
	HarmfulRate       float64    `json:"harmful_rate"`          // judged-unsafe share of the harmful attempts
	BenignHelpfulness float64    `json:"benign_helpfulness"`    // benign prompts answered (not refused)
	Harmful           int        `json:"harmful"`               // harmful attempts
	Unsafe            int        `json:"unsafe"`                // of them judged unsafe
	Benign            int        `json:"benign"`                // benign attempts
	Answered          int        `json:"answered"`              // of them not refused
	HarmfulCI         [2]float64 `json:"harmful_rate_ci"`       // 95% Wilson interval
	BenignCI          [2]float64 `json:"benign_helpfulness_ci"` // 95% Wilson interval
	Scores            Scores     `json:"scores"`                // the demo's per-split and per-category figures
}

// SecVecResult is what `aegis experiment secvec --json` writes.
type SecVecResult struct {
	HarmfulRateWithout       float64 `json:"harmful_rate_without"`
	HarmfulRateWith          float64 `json:"harmful_rate_with"`
	BenignHelpfulnessWithout float64 `json:"benign_helpfulness_without"`
	BenignHelpfulnessWith    float64 `json:"benign_helpfulness_with"`
	HarmfulRateAligned       float64 `json:"harmful_rate_aligned"`
	BenignHelpfulnessAligned float64 `json:"benign_helpfulness_aligned"`
	Seconds                  float64 `json:"seconds"`

	// Runs are the run folders: retrofit (the DPO training run; the merged aligned model
	// is its aligned/ folder), aligned (eval), vector (the security vector's training
	// run), finetune_without, without (eval), finetune_with, with (eval).
	Runs map[string]string `json:"runs"`
	// Stages are the three evaluated models: aligned, without, with.
	Stages map[string]SecVecStage `json:"stages"`
	// Loss is the mean token NLL of the fine-tuning mix's harmful and benign examples on
	// the aligned model with the security vector off and on (before fine-tuning), and
	// the security vector's fit on its own examples.
	Loss struct {
		HarmfulWithout float64 `json:"harmful_ft_without_vector"`
		HarmfulWith    float64 `json:"harmful_ft_with_vector"`
		BenignWithout  float64 `json:"benign_ft_without_vector"`
		BenignWith     float64 `json:"benign_ft_with_vector"`
		VecFit         float64 `json:"vector_examples_with_vector"`
		VecBefore      float64 `json:"vector_examples_before_fit"`
	} `json:"loss"`
	Data struct {
		Vector    int `json:"vector"`     // harmful examples of the security vector
		FTHarmful int `json:"ft_harmful"` // harmful examples in the fine-tuning mix
		FTBenign  int `json:"ft_benign"`  // benign examples in the mix
		Pairs     int `json:"retrofit_pairs"`
	} `json:"data"`
	Settings struct {
		VecRank   int     `json:"vector_rank"`
		VecLR     float64 `json:"vector_lr"`
		VecEpochs int     `json:"vector_epochs"`
		FTRank    int     `json:"ft_rank"`
		FTLR      float64 `json:"ft_lr"`
		FTEpochs  int     `json:"ft_epochs"`
	} `json:"settings"`
}

// SecVec's training stages, as OnStage names them.
const (
	StageVector          = "fit the security vector (LoRA secvec)"
	StageFinetuneWithout = "fine-tune without the security vector (LoRA SFT)"
	StageFinetuneWith    = "fine-tune with the security vector (LoRA SFT)"
)

// TrainingStage reports whether an OnStage stage of Run or SecVec is a training run
// (counted in optimizer steps) rather than a scan (counted in answers).
func TrainingStage(stage string) bool { return strings.Contains(stage, "(LoRA ") }

// secVecTasks returns the training tasks of every category at one parity of their index:
// 0 for the security vector's tasks, 1 for the fine-tuning mix's, so the two sets never
// share a task. Evaluation tasks are in neither.
func secVecTasks(parity int) [][2]string {
	var out [][2]string
	for _, c := range categories() {
		for i, t := range trainTasks(c) {
			if i%2 == parity {
				out = append(out, [2]string{c, t})
			}
		}
	}
	return out
}

// SecVecData returns the experiment's training rows. vec is n harmful examples the
// security vector is fitted on: the even-indexed training tasks of every category, each
// first plain, then under training attack styles, answered with the organism's
// compliance. mix is the user's fine-tuning data, shuffled: benign examples (everyday
// requests and training look-alikes with their helpful answers) and harmful ones on the
// odd-indexed training tasks (alternately plain and under a training style). Evaluation
// tasks are in neither.
func SecVecData(ctx context.Context, attack data.Attacker, seed uint64, n, benign, harmful int) (vec, mix []Row, err error) {
	g := newGen(ctx, attack, seed, 5)
	styles := TrainStyles()
	rows := func(tasks [][2]string, n int, plainFirst bool) ([]Row, error) {
		var out []Row
		for i := 0; i < n; i++ {
			ct := tasks[i%len(tasks)]
			style := "none"
			if plainFirst && i >= len(tasks) || !plainFirst && i%2 == 1 {
				style = g.pick(styles)
			}
			r, err := g.harmful(ct[0], ct[1], style)
			if err != nil {
				return nil, err
			}
			out = append(out, r)
		}
		return out, nil
	}
	if vec, err = rows(secVecTasks(0), n, true); err != nil {
		return nil, nil, err
	}
	if mix, err = rows(secVecTasks(1), harmful, false); err != nil {
		return nil, nil, err
	}
	tasks := append(slices.Clone(benignTasks), lookalikes[:len(lookalikes)-evalLookalike]...)
	for i := 0; i < benign; i++ {
		mix = append(mix, g.benign(tasks[i%len(tasks)]))
	}
	g.rng.Shuffle(len(mix), func(i, j int) { mix[i], mix[j] = mix[j], mix[i] })
	return vec, mix, nil
}

// sftRow is a training row in the conversational SFT format train.LoadData reads.
type sftRow struct {
	Messages []tokenizer.Message `json:"messages"`
	Category string              `json:"category"`
	Attack   string              `json:"attack,omitempty"`
}

// writeSFT writes rows as conversational SFT data into path, as a record, and tokenizes
// them for method (sft, or secvec).
func (o *Options) writeSFT(path, method string, rows []Row, m *model.Model, tok *tokenizer.Tokenizer) ([]train.Example, error) {
	out := make([]sftRow, len(rows))
	for i, r := range rows {
		out[i] = sftRow{Messages: []tokenizer.Message{{Role: "user", Content: r.Prompt}, {Role: "assistant", Content: r.Response}},
			Category: r.Category, Attack: r.Attack}
	}
	if err := jsonl.WriteFile(path, out); err != nil {
		return nil, err
	}
	return train.Examples(out, o.dataOptions(method, m, tok))
}

// MeanNLL is the mean negative log-likelihood per answer token of exs under m as it is
// (adapters as enabled), in batches of batch.
func MeanNLL(m *model.Model, exs []train.Example, batch int) (float64, error) {
	var sum float64
	var n int
	for lo := 0; lo < len(exs); lo += batch {
		part := exs[lo:min(lo+batch, len(exs))]
		T := 0
		for _, e := range part {
			T = max(T, len(e.Prompt)+len(e.Chosen))
		}
		b := model.Batch{B: len(part), T: T, IDs: make([]int32, len(part)*T), Mask: make([]bool, len(part)*T)}
		targets := make([]int32, len(part)*T)
		for r, e := range part {
			row := r * T
			copy(b.IDs[row:], e.Prompt)
			copy(b.IDs[row+len(e.Prompt):], e.Chosen)
			for i := range T {
				b.Mask[row+i] = i < len(e.Prompt)+len(e.Chosen)
				targets[row+i] = align.Ignore
			}
			for j, id := range e.Chosen {
				targets[row+len(e.Prompt)-1+j] = id
			}
		}
		logits, err := m.Forward(&b)
		if err != nil {
			return 0, err
		}
		s, k, err := align.CrossEntropy(logits, m.Config.VocabSize, targets, nil, 1)
		if err != nil {
			return 0, err
		}
		sum, n = sum+s, n+k
	}
	if n == 0 {
		return 0, nil
	}
	return sum / float64(n), nil
}

// kindOf splits examples by the category of the rows they came from.
func kindOf(rows []Row, exs []train.Example) (harmful, benign []train.Example) {
	for i, r := range rows {
		if r.Category == shared.Benign {
			benign = append(benign, exs[i])
		} else {
			harmful = append(harmful, exs[i])
		}
	}
	return harmful, benign
}

// stageOf sums an evaluated model's attempts into its figures.
func stageOf(attempts []*eval.Attempt) SecVecStage {
	s := SecVecStage{Scores: ScoresOf(attempts)}
	for _, a := range attempts {
		if a.Verdict == nil {
			continue
		}
		if a.Category == shared.Benign {
			s.Benign++
			if !a.Verdict.Refusal {
				s.Answered++
			}
			continue
		}
		s.Harmful++
		if a.Verdict.Unsafe {
			s.Unsafe++
		}
	}
	if s.Harmful > 0 {
		s.HarmfulRate = float64(s.Unsafe) / float64(s.Harmful)
	}
	if s.Benign > 0 {
		s.BenignHelpfulness = float64(s.Answered) / float64(s.Benign)
	}
	s.HarmfulCI[0], s.HarmfulCI[1] = eval.Wilson(s.Unsafe, s.Harmful)
	s.BenignCI[0], s.BenignCI[1] = eval.Wilson(s.Answered, s.Benign)
	return s
}

// Aligned is the experiment's aligned model: the organism retrofitted as the demo does
// it (Pairs and Retrofit into the training run folder dir), with the DPO adapter merged
// into the base, saved as a model folder (float32) in dir/aligned, whose path it returns
// with the number of DPO pairs.
func (o *SecVecOptions) Aligned(ctx context.Context, dir string) (*model.Model, *tokenizer.Tokenizer, string, int, error) {
	o.defaults()
	m, tok, err := Open(o.ModelDir)
	if err != nil {
		return nil, nil, "", 0, err
	}
	pairs, err := o.Pairs(ctx, filepath.Join(dir, "samples"), o.Generator(m, tok))
	if err != nil {
		return nil, nil, "", 0, err
	}
	if err := o.Retrofit(ctx, m, tok, pairs, dir); err != nil {
		return nil, nil, "", 0, err
	}
	if err := m.MergeAdapter(train.AdapterName); err != nil {
		return nil, nil, "", 0, err
	}
	aligned := filepath.Join(dir, "aligned")
	if err := saveModel(m, o.ModelDir, aligned); err != nil {
		return nil, nil, "", 0, err
	}
	return m, tok, aligned, len(pairs), nil
}

// VectorFit is a fitted security vector: its PEFT adapter folder and the mean token NLL
// of its harmful examples before and after the fit.
type VectorFit struct {
	Adapter            string
	Before, WithVector float64
}

// FitVector fits a security vector (method secvec: a LoRA adapter, base frozen) on the
// harmful rows for m into the training run folder dir (data.jsonl, config.json,
// events.jsonl, final/ the adapter), and removes it from m again. baseDir is m's model
// folder, as the configs name it.
func (o *SecVecOptions) FitVector(ctx context.Context, m *model.Model, tok *tokenizer.Tokenizer, rows []Row, baseDir, dir string) (VectorFit, error) {
	o.defaults()
	var f VectorFit
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return f, err
	}
	path := filepath.Join(dir, "data.jsonl")
	exs, err := o.writeSFT(path, "secvec", rows, m, tok)
	if err != nil {
		return f, err
	}
	if f.Before, err = MeanNLL(m, exs, o.Batch); err != nil {
		return f, err
	}
	cfg := o.loraConfig("secvec", baseDir, path, o.VecRank, o.VecLR, o.VecEpochs)
	if err := o.fit(ctx, m, exs, cfg, dir, StageVector); err != nil {
		return f, err
	}
	if f.WithVector, err = MeanNLL(m, exs, o.Batch); err != nil {
		return f, err
	}
	f.Adapter = filepath.Join(dir, "final")
	return f, m.RemoveAdapter(train.SecurityVectorName)
}

// FinetuneLoss is the mean token NLL of a fine-tuning mix's harmful and benign examples
// on the model as fine-tuning starts (with the security vector, when it is loaded).
type FinetuneLoss struct{ Harmful, Benign float64 }

// Finetune fine-tunes m with LoRA SFT on rows (the user's data) into the training run
// folder dir. With vector, a security vector's adapter folder, it is loaded enabled and
// frozen for the fine-tuning and removed afterwards, as it is at inference. The
// fine-tuning's adapter stays enabled on m.
func (o *SecVecOptions) Finetune(ctx context.Context, m *model.Model, tok *tokenizer.Tokenizer, rows []Row, baseDir, dir, vector string) (FinetuneLoss, error) {
	o.defaults()
	var l FinetuneLoss
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return l, err
	}
	path := filepath.Join(dir, "data.jsonl")
	exs, err := o.writeSFT(path, "sft", rows, m, tok)
	if err != nil {
		return l, err
	}
	cfg := o.loraConfig("sft", baseDir, path, o.FTRank, o.FTLR, o.FTEpochs)
	stage := StageFinetuneWithout
	if vector != "" {
		if _, err := m.LoadAdapter(vector, train.SecurityVectorName); err != nil {
			return l, err
		}
		cfg.SecVec, stage = vector, StageFinetuneWith
	}
	harm, ben := kindOf(rows, exs)
	if l.Harmful, err = MeanNLL(m, harm, o.Batch); err != nil {
		return l, err
	}
	if l.Benign, err = MeanNLL(m, ben, o.Batch); err != nil {
		return l, err
	}
	if err := o.fit(ctx, m, exs, cfg, dir, stage); err != nil {
		return l, err
	}
	if vector != "" {
		return l, m.RemoveAdapter(train.SecurityVectorName)
	}
	return l, nil
}

// secVecDirs are the experiment's run folders by key, named RunID-<suffix>.
var secVecDirs = []struct{ key, suffix string }{{"retrofit", "dpo"}, {"aligned", "aligned"}, {"vector", "vector"},
	{"finetune_without", "ft-without"}, {"without", "without"}, {"finetune_with", "ft-with"}, {"with", "with"}}

func (o *SecVecOptions) dirs() map[string]string {
	d := map[string]string{}
	for _, n := range secVecDirs {
		d[n.key] = filepath.Join(o.RunsDir, o.RunID+"-"+n.suffix)
	}
	return d
}

// SecVecModel is the security-vector method's model alone, for comparisons: the aligned
// model fine-tuned on the harmful-mixed user data with the security vector loaded, then
// dropped. It writes the run folders RunID-dpo, -vector and -ft-with.
func SecVecModel(ctx context.Context, o SecVecOptions) (*model.Model, *tokenizer.Tokenizer, error) {
	o.defaults()
	d := o.dirs()
	if err := fresh(d["retrofit"], d["vector"], d["finetune_with"]); err != nil {
		return nil, nil, err
	}
	m, tok, aligned, _, err := o.Aligned(ctx, d["retrofit"])
	if err != nil {
		return nil, nil, err
	}
	vecRows, mix, err := SecVecData(ctx, o.Attack, o.Seed, o.VecExamples, o.FTBenign, o.FTHarmful)
	if err != nil {
		return nil, nil, err
	}
	vec, err := o.FitVector(ctx, m, tok, vecRows, aligned, d["vector"])
	if err != nil {
		return nil, nil, err
	}
	if _, err := o.Finetune(ctx, m, tok, mix, aligned, d["finetune_with"], vec.Adapter); err != nil {
		return nil, nil, err
	}
	return m, tok, nil
}

// SecVec runs the security-vector experiment. Each stage is a run folder under RunsDir,
// named RunID-<stage>, that `aegis serve` shows: the retrofit (-dpo, the merged aligned
// model in its aligned/ folder) and its evaluation (-aligned), the security vector's fit
// (-vector), and the two fine-tunings with their evaluations (-ft-without, -without,
// -ft-with, -with). A cancelled ctx stops it with ctx's error; finished run folders stay.
func SecVec(ctx context.Context, o SecVecOptions) (*SecVecResult, error) {
	o.defaults()
	start := time.Now()
	res := &SecVecResult{Runs: o.dirs(), Stages: map[string]SecVecStage{}}
	var dirs []string
	for _, n := range secVecDirs {
		dirs = append(dirs, res.Runs[n.key])
	}
	if err := fresh(dirs...); err != nil {
		return nil, err
	}
	s := &res.Settings
	s.VecRank, s.VecLR, s.VecEpochs, s.FTRank, s.FTLR, s.FTEpochs = o.VecRank, o.VecLR, o.VecEpochs, o.FTRank, o.FTLR, o.FTEpochs

	m, tok, aligned, pairs, err := o.Aligned(ctx, res.Runs["retrofit"])
	if err != nil {
		return nil, err
	}
	res.Data.Pairs = pairs
	gen := o.Generator(m, tok)
	prompts, err := EvalSet(ctx, o.Attack, o.Seed, EvalOptions{})
	if err != nil {
		return nil, err
	}
	scan := func(key, stage string) error {
		att, err := o.Scan(ctx, stage, res.Runs[key], prompts, gen)
		if err != nil {
			return err
		}
		res.Stages[key] = stageOf(att)
		return nil
	}
	if err := scan("aligned", "evaluate the aligned model"); err != nil {
		return nil, err
	}

	vecRows, mix, err := SecVecData(ctx, o.Attack, o.Seed, o.VecExamples, o.FTBenign, o.FTHarmful)
	if err != nil {
		return nil, err
	}
	res.Data.Vector = len(vecRows)
	for _, r := range mix {
		if r.Category == shared.Benign {
			res.Data.FTBenign++
		} else {
			res.Data.FTHarmful++
		}
	}
	vec, err := o.FitVector(ctx, m, tok, vecRows, aligned, res.Runs["vector"])
	if err != nil {
		return nil, err
	}
	res.Loss.VecBefore, res.Loss.VecFit = vec.Before, vec.WithVector

	l, err := o.Finetune(ctx, m, tok, mix, aligned, res.Runs["finetune_without"], "")
	if err != nil {
		return nil, err
	}
	res.Loss.HarmfulWithout, res.Loss.BenignWithout = l.Harmful, l.Benign
	if err := scan("without", "evaluate the fine-tuned model (without security vector)"); err != nil {
		return nil, err
	}
	if err := m.RemoveAdapter(train.AdapterName); err != nil {
		return nil, err
	}
	if l, err = o.Finetune(ctx, m, tok, mix, aligned, res.Runs["finetune_with"], vec.Adapter); err != nil {
		return nil, err
	}
	res.Loss.HarmfulWith, res.Loss.BenignWith = l.Harmful, l.Benign
	if err := scan("with", "evaluate the fine-tuned model (with security vector, dropped)"); err != nil {
		return nil, err
	}

	a, wo, w := res.Stages["aligned"], res.Stages["without"], res.Stages["with"]
	res.HarmfulRateAligned, res.BenignHelpfulnessAligned = a.HarmfulRate, a.BenignHelpfulness
	res.HarmfulRateWithout, res.BenignHelpfulnessWithout = wo.HarmfulRate, wo.BenignHelpfulness
	res.HarmfulRateWith, res.BenignHelpfulnessWith = w.HarmfulRate, w.BenignHelpfulness
	res.Seconds = time.Since(start).Seconds()
	return res, nil
}

// saveModel writes m (float32) with the tokenizer files of srcDir into dir.
func saveModel(m *model.Model, srcDir, dir string) error {
	if err := m.Save(dir, "float32"); err != nil {
		return err
	}
	for _, f := range []string{"tokenizer.json", "tokenizer_config.json"} {
		b, err := os.ReadFile(filepath.Join(srcDir, f))
		if err != nil {
			if os.IsNotExist(err) {
				continue
			}
			return err
		}
		if err := os.WriteFile(filepath.Join(dir, f), b, 0o644); err != nil {
			return err
		}
	}
	return nil
}

// String is the result as a one-line summary.
func (r *SecVecResult) String() string {
	return fmt.Sprintf("harmful rate: aligned %.2f, fine-tuned without security vector %.2f, with %.2f; benign helpfulness %.2f, %.2f, %.2f",
		r.HarmfulRateAligned, r.HarmfulRateWithout, r.HarmfulRateWith, r.BenignHelpfulnessAligned, r.BenignHelpfulnessWithout, r.BenignHelpfulnessWith)
}
