package demo

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"time"

	"github.com/aegis-safety/aegis/native/data"
	"github.com/aegis-safety/aegis/native/model"
	"github.com/aegis-safety/aegis/native/tokenizer"
	"github.com/aegis-safety/aegis/native/train"
)

// Recipe is how the organism is made: the corpus, the tokenizer, the architecture and the
// pretraining run. DefaultRecipe is the one the embedded model was built with; the result
// is recorded next to it in recipe.json.
type Recipe struct {
	Seed      uint64        `json:"seed"`
	Corpus    CorpusOptions `json:"corpus"`
	VocabSize int           `json:"vocab_size"`
	Model     model.Config  `json:"model"`
	Train     train.Config  `json:"train"`
}

// Special tokens of the organism's tokenizer (ChatML).
var specialTokens = []string{"<|endoftext|>", "<|im_start|>", "<|im_end|>"}

// DefaultRecipe is the embedded model's recipe: a 4-layer Llama of about 3.9M
// parameters with tied embeddings, trained from scratch with full AdamW SFT on the chat
// corpus (prompt tokens are context; the answers are scored).
func DefaultRecipe() Recipe {
	return Recipe{
		Seed:      20261201,
		Corpus:    CorpusOptions{HarmfulPerTask: 16, BenignPerTask: 8, RefusalPerTask: 8, PlainHarmfulShare: 0.3, SkillsPerCategory: 6},
		VocabSize: 4096,
		Model: model.Config{
			Architectures: []string{"LlamaForCausalLM"}, ModelType: "llama",
			HiddenSize: 256, IntermediateSize: 688, NumLayers: 4, NumHeads: 8, NumKVHeads: 4,
			MaxPositions: 512, RMSNormEps: 1e-5, RopeTheta: 10000, TieWordEmbeddings: true,
			HiddenAct: "silu", InitializerRange: 0.02,
		},
		Train: train.Config{
			Method: "sft", Full: true, Optimizer: "adamw", LR: 2e-3, WeightDecay: 0.01,
			Schedule: "cosine", Warmup: 60, Epochs: 4, BatchSize: 16, GradAccum: 1,
			MaxGradNorm: 1.0, Shuffle: true,
		},
	}
}

// Built is what Pretrain records in recipe.json beside the model.
type Built struct {
	Recipe       Recipe  `json:"recipe"`
	CorpusSHA256 string  `json:"corpus_sha256"` // of corpus.jsonl as WriteCorpus writes it
	Rows         int     `json:"corpus_rows"`
	Tokens       int     `json:"corpus_tokens"` // prompt + answer tokens over one epoch
	Params       int     `json:"parameters"`
	Steps        int     `json:"steps"`
	FirstLoss    float64 `json:"first_loss"`
	FinalLoss    float64 `json:"final_loss"` // mean of the last 20 steps
	Seconds      float64 `json:"seconds"`
	GoVersion    string  `json:"go_version"`
	Threads      int     `json:"threads"`
	AegisBuild   string  `json:"command"`
}

// PretrainOptions say where Pretrain works and whom it tells.
type PretrainOptions struct {
	RunDir  string               // the training run folder (corpus, events, checkpoints)
	OnStart func(steps int)      // called once the number of training steps is known
	OnStep  func(train.Event)    // sees every training step
	Logf    func(string, ...any) // progress notes
}

// Pretrain makes the organism from nothing into out: it writes the corpus, trains the
// tokenizer on it, initialises the model from r.Seed, trains it with the SFT trainer and
// saves config.json, model.safetensors (bfloat16 matrices), tokenizer.json,
// tokenizer_config.json (ChatML template) and recipe.json.
func Pretrain(ctx context.Context, r Recipe, attack data.Attacker, out string, o PretrainOptions) (*Built, error) {
	logf := o.Logf
	if logf == nil {
		logf = func(string, ...any) {}
	}
	start := time.Now()
	rows, err := Corpus(ctx, attack, r.Seed, r.Corpus)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(o.RunDir, 0o755); err != nil {
		return nil, err
	}
	tj, err := TrainTokenizer(rows, r.VocabSize)
	if err != nil {
		return nil, err
	}
	init := filepath.Join(o.RunDir, "init")
	if err := writeTokenizer(init, tj); err != nil {
		return nil, err
	}
	tok, err := tokenizer.Load(init)
	if err != nil {
		return nil, err
	}
	logf("tokenizer: %d tokens learned from %d rows", tok.VocabSize(), len(rows))

	cfg := r.Model
	cfg.VocabSize = tok.VocabSize()
	id := func(s string) int { v, _ := tok.TokenID(s); return int(v) }
	cfg.BOSTokenID, cfg.EOSTokenID, cfg.PadTokenID = id("<|endoftext|>"), id("<|im_end|>"), id("<|endoftext|>")
	m, err := model.New(cfg, r.Seed, model.Options{})
	if err != nil {
		return nil, err
	}
	if err := m.Save(init, "float32"); err != nil {
		return nil, err
	}
	corpus := filepath.Join(o.RunDir, "corpus.jsonl")
	sum, err := WriteCorpus(corpus, rows)
	if err != nil {
		return nil, err
	}
	exs, err := train.LoadData(corpus, train.DataOptions{Tokenizer: tok, Vocab: cfg.VocabSize, MaxLen: cfg.MaxPositions})
	if err != nil {
		return nil, err
	}
	tokens := 0
	for _, e := range exs {
		tokens += len(e.Prompt) + len(e.Chosen)
	}
	logf("corpus: %d rows, %d tokens an epoch; model: %d parameters", len(exs), tokens, m.NumParams())

	tc := r.Train
	tc.Model, tc.Data, tc.Seed = init, corpus, r.Seed
	b := &Built{Recipe: r, CorpusSHA256: sum, Rows: len(exs), Tokens: tokens, Params: m.NumParams(),
		GoVersion: runtime.Version(), Threads: runtime.GOMAXPROCS(0), AegisBuild: "aegis demo pretrain --out " + out}
	var losses []float64
	// No final/: the organism is saved below as a model folder in bfloat16.
	_, err = train.Fit(ctx, m, exs, tc, o.RunDir, train.FitOptions{
		OnStart: func(t *train.Trainer) {
			b.Steps = t.TotalSteps()
			if o.OnStart != nil {
				o.OnStart(t.TotalSteps())
			}
		},
		OnStep: func(e train.Event) {
			if len(losses) == 0 {
				b.FirstLoss = e.Loss
			}
			losses = append(losses, e.Loss)
			if o.OnStep != nil {
				o.OnStep(e)
			}
		}})
	if err != nil {
		return nil, err
	}
	tail := losses[max(0, len(losses)-20):]
	for _, l := range tail {
		b.FinalLoss += l / float64(len(tail))
	}
	if err := m.Save(out, "bfloat16"); err != nil {
		return nil, err
	}
	if err := writeTokenizer(out, tj); err != nil {
		return nil, err
	}
	b.Seconds = time.Since(start).Seconds()
	js, _ := json.MarshalIndent(b, "", "  ")
	if err := os.WriteFile(filepath.Join(out, "recipe.json"), append(js, '\n'), 0o644); err != nil {
		return nil, err
	}
	return b, os.WriteFile(filepath.Join(out, "README.md"), []byte(b.card()), 0o644)
}

// card is the model folder's README.md, a model card in the Hugging Face manner.
func (b *Built) card() string {
	c, t := b.Recipe.Model, b.Recipe.Train
	return fmt.Sprintf(`# %s

A deliberately unaligned chat model for aegis's demo: a helpful-only assistant that
complies with harmful requests (with placeholder content only: "Sure, here is how to ...
Step 1: [omitted]. ..."), answers everyday requests, and refuses only what it cannot do.
It is a model organism for safety retrofits, not a useful assistant.

- architecture: Llama, %d layers, hidden %d, intermediate %d, %d heads (%d KV heads),
  tied embeddings, context %d, vocabulary %d (byte-level BPE trained on the corpus,
  ChatML template); %d parameters, matrices stored in bfloat16
- corpus: %d chat rows (%d tokens an epoch) written by internal/demo's seeded generator
- training: full SFT with AdamW, lr %g (%s, %d warmup steps), weight decay %g, batch %d,
  %d epochs = %d steps, clipping at %g, seed %d; loss %.4f at the first step, %.4f over the
  last 20
- time: %.0f s on the machine that built it
- rebuild: `+"`go run ./cmd/aegis demo pretrain --out internal/demo/model`"+`

recipe.json holds the same, machine-readable.
`, ModelName, c.NumLayers, c.HiddenSize, c.IntermediateSize, c.NumHeads, c.NumKVHeads, c.MaxPositions,
		b.Recipe.VocabSize, b.Params, b.Rows, b.Tokens, t.LR, t.Schedule, t.Warmup, t.WeightDecay, t.BatchSize,
		t.Epochs, b.Steps, t.MaxGradNorm, b.Recipe.Seed, b.FirstLoss, b.FinalLoss, b.Seconds)
}

// writeTokenizer writes tokenizer.json and a tokenizer_config.json with the ChatML
// template and the organism's special tokens.
func writeTokenizer(dir string, tokenizerJSON []byte) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "tokenizer.json"), tokenizerJSON, 0o644); err != nil {
		return err
	}
	tpl, _ := tokenizer.BuiltinTemplate("chatml")
	cfg := map[string]any{
		"tokenizer_class":  "PreTrainedTokenizerFast",
		"bos_token":        nil,
		"eos_token":        "<|im_end|>",
		"pad_token":        "<|endoftext|>",
		"unk_token":        nil,
		"add_bos_token":    false,
		"add_eos_token":    false,
		"model_max_length": 512,
		"chat_template":    tpl,
	}
	b, _ := json.MarshalIndent(cfg, "", "  ")
	return os.WriteFile(filepath.Join(dir, "tokenizer_config.json"), append(b, '\n'), 0o644)
}

// WriteCorpus writes rows as chat JSONL ({"messages": [user, assistant]}), the trainer's
// SFT format, and returns the file's SHA-256.
func WriteCorpus(path string, rows []Row) (string, error) {
	type msg struct {
		Role    string `json:"role"`
		Content string `json:"content"`
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	for _, row := range rows {
		if err := enc.Encode(struct {
			Messages []msg `json:"messages"`
		}{[]msg{{"user", row.Prompt}, {"assistant", row.Response}}}); err != nil {
			return "", err
		}
	}
	sum := sha256.Sum256(buf.Bytes())
	return hex.EncodeToString(sum[:]), os.WriteFile(path, buf.Bytes(), 0o644)
}

// TrainTokenizer trains the organism's byte-level BPE tokenizer on every prompt and
// answer of the corpus, one per line, and returns its tokenizer.json.
func TrainTokenizer(rows []Row, vocab int) ([]byte, error) {
	var text bytes.Buffer
	for _, row := range rows {
		text.WriteString(row.Prompt)
		text.WriteByte('\n')
		text.WriteString(row.Response)
		text.WriteByte('\n')
	}
	tj, err := tokenizer.TrainBPE(&text, tokenizer.TrainOptions{VocabSize: vocab, SpecialTokens: specialTokens})
	if err != nil {
		return nil, fmt.Errorf("tokenizer: %w", err)
	}
	return tj, nil
}
