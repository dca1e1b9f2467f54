package train

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"time"

	"github.com/aegis-safety/aegis/native/align"
	"github.com/aegis-safety/aegis/native/jsonl"
	"github.com/aegis-safety/aegis/native/model"
	"github.com/aegis-safety/aegis/native/rundir"
)

// Adapter names the trainer uses: the adapter it fits, and the frozen security vector.
const (
	AdapterName        = "default"
	SecurityVectorName = "security_vector"
)

// Event is one line of events.jsonl: one optimizer step. Metrics are the method's own
// figures (Method.Metrics names them: TRL's means over the step's pairs for dpo and
// ipo, PT-ALIGN's two terms), written after the common fields in the order logged.
type Event struct {
	Step     int     `json:"step"`
	Epoch    float64 `json:"epoch"`
	Loss     float64 `json:"loss"`
	LR       float64 `json:"lr"`
	GradNorm float64 `json:"grad_norm"`
	Tokens   int     `json:"tokens"`
	Seconds  float64 `json:"seconds"`
	Metrics  Metrics `json:"-"`
}

// MarshalJSON writes the common fields, then the metrics as members of the same object.
func (e Event) MarshalJSON() ([]byte, error) {
	type common Event // without the method: plain struct encoding
	b, err := json.Marshal(common(e))
	if err != nil || len(e.Metrics) == 0 {
		return b, err
	}
	b, err = e.Metrics.appendJSON(b[:len(b)-1])
	return append(b, '}'), err
}

// Trainer runs one method over a data set into a run folder. A Trainer is not safe for
// concurrent use.
type Trainer struct {
	Cfg   Config
	Model *model.Model
	Data  []Example
	Dir   string
	// OnStep, if set, sees every event after it is written.
	OnStep func(Event)
	// Warn, if set, is told what Resume passed over (a damaged checkpoint) in one line.
	Warn func(string)

	opt    Optimizer
	params []*model.Param
	ref    []float64 // DPO/IPO reference: chosen then rejected summed log-probs, per example
	cur    cursor
	step   int
	total  int
	// lastCkpt is the step of the newest checkpoint written or resumed from, -1 for none.
	lastCkpt int

	dlogits []float32
}

// cursor is the data position: the epoch, its order, and how far into it the run is.
type cursor struct {
	Epoch int    `json:"epoch"`
	Pos   int    `json:"pos"`
	Perm  []int  `json:"perm"`
	RNG   []byte `json:"rng"` // the shuffling generator's state after Perm was drawn
	rng   *rand.PCG
}

// NewTrainer prepares m for cfg: it makes the base trainable (Full) or attaches a fresh
// LoRA adapter, and builds the optimizer. A security-vector adapter already loaded on m
// stays enabled and frozen.
func NewTrainer(m *model.Model, data []Example, cfg Config, dir string) (*Trainer, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	if len(data) == 0 {
		return nil, fmt.Errorf("no training data")
	}
	t := &Trainer{Cfg: cfg, Model: m, Data: data, Dir: dir}
	if cfg.Full {
		if err := m.SetBaseTrainable(true); err != nil {
			return nil, err
		}
	} else {
		name := AdapterName
		if cfg.method().SecurityVector {
			name = SecurityVectorName
		}
		if _, err := m.AddAdapter(name, cfg.LoRARank, cfg.LoRAAlpha, cfg.LoRATargets, cfg.Seed); err != nil {
			return nil, err
		}
	}
	t.params = m.Params()
	if len(t.params) == 0 {
		return nil, fmt.Errorf("the model has no trainable parameters")
	}
	if cfg.Optimizer == "sgd" {
		t.opt = &SGD{Momentum: cfg.Momentum, WeightDecay: cfg.WeightDecay}
	} else {
		o := NewAdamW()
		o.WeightDecay = cfg.WeightDecay
		t.opt = o
	}
	per := (len(data) + cfg.BatchSize*cfg.GradAccum - 1) / (cfg.BatchSize * cfg.GradAccum)
	t.total = cfg.Steps
	if t.total == 0 {
		t.total = cfg.Epochs * per
	}
	t.cur.rng = rand.NewPCG(cfg.Seed, 0x7472616e)
	t.cur.Epoch = -1
	t.lastCkpt = -1
	return t, nil
}

// TotalSteps is the number of optimizer steps the run takes.
func (t *Trainer) TotalSteps() int { return t.total }

// StepsDone is the number of optimizer steps taken (including before a resume).
func (t *Trainer) StepsDone() int { return t.step }

// LR is the learning rate of optimizer step s (0-based) as transformers' schedulers
// give it: a linear warmup from 0 over Warmup steps, then linear decay to 0, a cosine
// to 0, or constant. With no warmup the first step uses the full rate.
func LR(base float64, s, total, warmup int, kind string) float64 {
	if s < warmup {
		return base * float64(s) / float64(max(1, warmup))
	}
	prog := float64(s-warmup) / float64(max(1, total-warmup))
	switch kind {
	case "linear":
		return base * max(0, float64(total-s)/float64(max(1, total-warmup)))
	case "cosine":
		return base * max(0, 0.5*(1+math.Cos(math.Pi*prog)))
	}
	return base
}

// next returns the examples of the next optimizer step: up to BatchSize×GradAccum from
// the current epoch, starting a new (reshuffled) epoch when the last is used up.
func (t *Trainer) next() []Example {
	c := &t.cur
	if c.Epoch < 0 || c.Pos >= len(t.Data) {
		c.Epoch++
		c.Pos = 0
		c.Perm = make([]int, len(t.Data))
		for i := range c.Perm {
			c.Perm[i] = i
		}
		if t.Cfg.Shuffle {
			rand.New(c.rng).Shuffle(len(c.Perm), func(i, j int) { c.Perm[i], c.Perm[j] = c.Perm[j], c.Perm[i] })
		}
	}
	n := min(t.Cfg.BatchSize*t.Cfg.GradAccum, len(t.Data)-c.Pos)
	out := make([]Example, n)
	for i := range out {
		out[i] = t.Data[c.Perm[c.Pos+i]]
		out[i].idx = c.Perm[c.Pos+i]
	}
	c.Pos += n
	return out
}

// micro is one forward pass: a padded batch, the target of each row and, for pairs, the
// sequence of each row and PT-ALIGN's toxic flags.
type micro struct {
	b       model.Batch
	targets []int32
	seq     []int32
	toxic   []bool
	pairs   int
	nPos    int // scored chosen (or completion) tokens
	nTox    int // scored flagged toxic tokens
	tokens  int
}

// build lays out examples as TRL's concatenated forward does: chosen sequences, then
// (for pairs) rejected ones, right-padded to the longest.
func (t *Trainer) build(exs []Example) *micro {
	type sq struct {
		prompt, resp []int32
		toxic        []bool
		rejected     bool
	}
	var seqs []sq
	for _, e := range exs {
		seqs = append(seqs, sq{prompt: e.Prompt, resp: e.Chosen})
	}
	toxicOnly := t.Cfg.method().toxicOnly
	if t.Cfg.Pairs() {
		for _, e := range exs {
			m := e.ToxicMask
			if m == nil && toxicOnly {
				m = align.ToxicMask(e.Chosen, e.Rejected)
			}
			seqs = append(seqs, sq{prompt: e.Prompt, resp: e.Rejected, toxic: m, rejected: true})
		}
	}
	T := 0
	for _, s := range seqs {
		T = max(T, len(s.prompt)+len(s.resp))
	}
	B := len(seqs)
	mb := &micro{b: model.Batch{B: B, T: T, IDs: make([]int32, B*T), Mask: make([]bool, B*T)},
		targets: make([]int32, B*T), seq: make([]int32, B*T), toxic: make([]bool, B*T), pairs: len(exs)}
	for r, s := range seqs {
		row := r * T
		copy(mb.b.IDs[row:], s.prompt)
		copy(mb.b.IDs[row+len(s.prompt):], s.resp)
		L := len(s.prompt) + len(s.resp)
		mb.tokens += L
		for i := 0; i < T; i++ {
			mb.b.Mask[row+i] = i < L
			mb.targets[row+i] = align.Ignore
			mb.seq[row+i] = int32(r)
		}
		// Position len(prompt)-1+j predicts response token j.
		for j, id := range s.resp {
			i := row + len(s.prompt) - 1 + j
			switch {
			case !s.rejected:
				mb.targets[i] = id
				mb.nPos++
			case !toxicOnly:
				mb.targets[i] = id
			case s.toxic[j]:
				mb.targets[i] = id
				mb.toxic[i] = true
				mb.nTox++
			}
		}
	}
	return mb
}

// computeRef fills the DPO/IPO reference log-probs with the model as it is now (the
// start of training), or reads them from the run folder's cache. It stops with ctx's
// error when ctx ends, writing no cache.
func (t *Trainer) computeRef(ctx context.Context) error {
	path := filepath.Join(t.Dir, rundir.RefLogpsFile)
	if b, err := os.ReadFile(path); err == nil {
		var ref []float64
		if err := json.Unmarshal(b, &ref); err != nil || len(ref) != 2*len(t.Data) {
			return fmt.Errorf("%s: not the reference log-probs of this data set", path)
		}
		t.ref = ref
		return nil
	}
	if t.step > 0 && t.Cfg.Full {
		return fmt.Errorf("%s is missing: the reference (the model at the start of this run) cannot be recomputed once full fine-tuning has moved the weights", path)
	}
	// Under LoRA the reference is the base with the fitted adapter disabled: at the start
	// that adapter contributes nothing (B = 0), and a resumed run whose cache was lost
	// still gets the same reference. A security vector stays enabled: it is part of the
	// model being fine-tuned.
	if a := t.Model.Adapter(AdapterName); a != nil && !t.Cfg.Full && !t.Cfg.method().SecurityVector {
		was := a.Enabled
		a.Enabled = false
		defer func() { a.Enabled = was }()
	}
	t.ref = make([]float64, 2*len(t.Data))
	for lo := 0; lo < len(t.Data); lo += t.Cfg.BatchSize {
		if err := ctx.Err(); err != nil {
			t.ref = nil
			return err
		}
		exs := t.Data[lo:min(lo+t.Cfg.BatchSize, len(t.Data))]
		mb := t.build(exs)
		logits, err := t.Model.Forward(&mb.b)
		if err != nil {
			return err
		}
		lp, _, err := align.SeqLogProbs(logits, t.Model.Config.VocabSize, mb.targets, mb.seq, 2*len(exs))
		if err != nil {
			return err
		}
		for i := range exs {
			t.ref[2*(lo+i)], t.ref[2*(lo+i)+1] = lp[i], lp[len(exs)+i]
		}
	}
	b, _ := json.Marshal(t.ref)
	return jsonl.WriteBytes(path, b)
}

// ErrNonFinite reports a NaN or infinite loss, gradient or updated weight; the run stopped
// without checkpointing that state, so the last checkpoint it wrote is still good.
var ErrNonFinite = errors.New("non-finite loss, gradient or weights")

// nonFinite is an ErrNonFinite with the details of where it happened.
type nonFinite string

func (e nonFinite) Error() string        { return string(e) }
func (e nonFinite) Is(target error) bool { return target == ErrNonFinite }

// kept says which checkpoint a stopped run leaves to resume from.
func (t *Trainer) kept() string {
	if t.lastCkpt < 0 {
		return "no checkpoint was written yet"
	}
	return fmt.Sprintf("the last good checkpoint is %s (continue from it with --resume, e.g. with a lower --lr)",
		filepath.Join(t.Dir, rundir.Checkpoint(t.lastCkpt)))
}

// finite reports whether every value of params is finite.
func finite(params []*model.Param) bool {
	for _, p := range params {
		for _, v := range p.Data {
			if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
				return false
			}
		}
	}
	return true
}

// Run trains until the step budget is spent or ctx is cancelled. It appends to
// events.jsonl, checkpoints every SaveSteps steps, at the end and when cancelled (then
// it returns ctx's error; cancelled before its first step, during the reference
// log-probs say, it writes no checkpoint: Resume then starts the run from the beginning). A non-finite loss or gradient stops the run without
// applying the step, and weights made non-finite by a step stop it before they are
// checkpointed (an error wrapping ErrNonFinite either way), so the last checkpoint
// stays good.
func (t *Trainer) Run(ctx context.Context) error {
	if err := os.MkdirAll(t.Dir, 0o755); err != nil {
		return err
	}
	if t.step == 0 {
		b, _ := json.MarshalIndent(&t.Cfg, "", "  ")
		if err := jsonl.WriteBytes(filepath.Join(t.Dir, rundir.ConfigFile), append(b, '\n')); err != nil {
			return err
		}
	}
	if t.Cfg.method().Reference {
		if err := t.computeRef(ctx); err != nil {
			return err
		}
	}
	ev, err := jsonl.OpenLog(filepath.Join(t.Dir, rundir.EventsFile))
	if err != nil {
		return err
	}
	defer ev.Close()
	for t.step < t.total {
		if ctx.Err() != nil {
			if t.step == 0 {
				return ctx.Err() // nothing to keep
			}
			if err := t.Checkpoint(); err != nil {
				return err
			}
			return ctx.Err()
		}
		start := time.Now()
		e, err := t.Step()
		if err != nil {
			return err
		}
		e.Seconds = time.Since(start).Seconds()
		if err := ev.Append(&e); err != nil {
			return err
		}
		if t.OnStep != nil {
			t.OnStep(e)
		}
		if t.Cfg.SaveSteps > 0 && t.step%t.Cfg.SaveSteps == 0 && t.step < t.total {
			if err := t.Checkpoint(); err != nil {
				return err
			}
		}
	}
	return t.Checkpoint()
}

// Step runs one optimizer step over the next examples of the data and returns its event
// (without Seconds). It is Run's step without the log and the checkpoints: `aegis bench
// train` times it. Before the first Step of a run with a Reference, Run computes the
// reference log-probs; Step alone is for methods without one.
func (t *Trainer) Step() (Event, error) {
	if t.Cfg.method().Reference && t.ref == nil {
		return Event{}, fmt.Errorf("train: %s needs the reference log-probs that Run computes first", t.Cfg.Method)
	}
	exs := t.next()
	e, err := t.stepOn(exs, t.ref)
	e.Epoch = float64(t.cur.Epoch) + float64(t.cur.Pos)/float64(len(t.Data))
	return e, err
}

// stepOn runs one optimizer step over exs in micro-batches of BatchSize; refs holds the
// reference log-probs, (chosen, rejected) of each example at 2·idx, 2·idx+1. APL calls it
// with pairs it makes each round.
func (t *Trainer) stepOn(exs []Example, refs []float64) (Event, error) {
	obj := t.Cfg.method().objective
	st := &stepInfo{cfg: &t.Cfg, vocab: t.Model.Config.VocabSize}
	var mbs []*micro
	tokens := 0
	for lo := 0; lo < len(exs); lo += t.Cfg.BatchSize {
		mb := t.build(exs[lo:min(lo+t.Cfg.BatchSize, len(exs))])
		mbs = append(mbs, mb)
		st.nPos, st.nTox, st.pairs, tokens = st.nPos+mb.nPos, st.nTox+mb.nTox, st.pairs+mb.pairs, tokens+mb.tokens
	}
	lr := LR(t.Cfg.LR, t.step, t.total, t.Cfg.Warmup, t.Cfg.Schedule)
	model.ZeroGrad(t.params)
	var loss float64
	var metrics Metrics
	off := 0
	for _, mb := range mbs {
		logits, err := t.Model.Forward(&mb.b)
		if err != nil {
			return Event{}, err
		}
		if cap(t.dlogits) < len(logits) {
			t.dlogits = make([]float32, len(logits))
		}
		d := t.dlogits[:len(logits)]
		var ref []float64
		if t.Cfg.method().Reference {
			ref = make([]float64, 2*mb.pairs)
			for i := 0; i < mb.pairs; i++ {
				k := exs[off+i].idx
				ref[i], ref[mb.pairs+i] = refs[2*k], refs[2*k+1]
			}
		}
		l, err := obj(st, mb, ref, logits, d, &metrics)
		if err != nil {
			return Event{}, err
		}
		loss += l
		off += mb.pairs
		if err := t.Model.Backward(d); err != nil {
			return Event{}, err
		}
	}
	if math.IsNaN(loss) || math.IsInf(loss, 0) {
		return Event{}, nonFinite(fmt.Sprintf("non-finite loss (%v) at step %d: stopped without applying the step; %s", loss, t.step+1, t.kept()))
	}
	norm := ClipGradNorm(t.params, t.Cfg.MaxGradNorm)
	if math.IsNaN(norm) || math.IsInf(norm, 0) {
		return Event{}, nonFinite(fmt.Sprintf("non-finite gradient (global norm %v) at step %d: stopped without applying the step; %s", norm, t.step+1, t.kept()))
	}
	t.opt.Step(t.params, lr)
	if !finite(t.params) {
		return Event{}, nonFinite(fmt.Sprintf("non-finite weights after step %d (lr %g): stopped without saving them; %s", t.step+1, lr, t.kept()))
	}
	t.step++
	return Event{Step: t.step, Loss: loss, LR: lr, GradNorm: norm, Tokens: tokens, Metrics: metrics}, nil
}
