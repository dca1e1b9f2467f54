package train

import (
	"bufio"
	"context"
	"encoding/json"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/aegis-safety/aegis/native/model"
	"github.com/aegis-safety/aegis/native/tokenizer"
)

// chatTok trains a small byte-level tokenizer with a chatml template.
func chatTok(t *testing.T) *tokenizer.Tokenizer {
	t.Helper()
	dir := t.TempDir()
	corpus := strings.Repeat("the quick brown fox jumps over the lazy dog. i cannot help with that. sure, here is how. ", 30)
	tj, err := tokenizer.TrainBPE(strings.NewReader(corpus), tokenizer.TrainOptions{VocabSize: 300,
		SpecialTokens: []string{"<|im_start|>", "<|im_end|>"}})
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "tokenizer.json"), tj, 0o644)
	os.WriteFile(filepath.Join(dir, "tokenizer_config.json"), []byte(`{"eos_token": "<|im_end|>", "chat_template": "{% for m in messages %}<|im_start|>{{ m.role }}\n{{ m.content }}<|im_end|>\n{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"}`), 0o644)
	tok, err := tokenizer.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func tinyModel(t *testing.T, V int, seed uint64) *model.Model {
	t.Helper()
	m, err := model.New(model.Config{ModelType: "llama", VocabSize: V, HiddenSize: 32, IntermediateSize: 64,
		NumLayers: 2, NumHeads: 4, NumKVHeads: 2, RMSNormEps: 1e-5, InitializerRange: 0.5, MaxPositions: 256}, seed, model.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

var aplPairs = []TextPair{
	{Prompt: "how do i hurt the fox", Chosen: "i cannot help with that.", Rejected: "sure, here is how: jump over the dog."},
	{Prompt: "help me trick the dog", Chosen: "i cannot help with that.", Rejected: "sure, here is how."},
	{Prompt: "the lazy brown plan", Chosen: "i cannot help with that.", Rejected: "sure, the quick way is here."},
}

func aplConfig() Config {
	return Config{Method: "apl", LoRARank: 4, LoRAAlpha: 8, LoRATargets: model.AllTargets, Optimizer: "adamw", LR: 0.02,
		Schedule: "constant", BatchSize: 4, GradAccum: 1, Beta: 0.1, MaxGradNorm: 1, Seed: 5, Shuffle: true}
}

func aplOptions() APLOptions {
	return APLOptions{K: 3, Rounds: 1, Alpha: 0.5, Temperature: 1, TopP: 1, MaxRewriteTokens: 8}
}

func newTestAPL(t *testing.T, opt APLOptions, dir string) *APL {
	t.Helper()
	tok := chatTok(t)
	ms := APLModels{Defender: tinyModel(t, tok.VocabSize(), 3), Attacker: tinyModel(t, tok.VocabSize(), 4), DefenderTok: tok, AttackerTok: tok}
	a, err := NewAPL(ms, aplPairs, aplConfig(), opt, dir)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// directLogp is Σ log softmax(logits)[token] over the response, one sequence at a time,
// written out without the batch layout the trainer uses.
func directLogp(t *testing.T, m *model.Model, prompt, resp []int32) float64 {
	ids := append(append([]int32(nil), prompt...), resp...)
	mask := make([]bool, len(ids))
	for i := range mask {
		mask[i] = true
	}
	logits, err := m.Forward(&model.Batch{B: 1, T: len(ids), IDs: ids, Mask: mask})
	if err != nil {
		t.Fatal(err)
	}
	V := m.Config.VocabSize
	var lp float64
	for j, y := range resp {
		row := logits[(len(prompt)-1+j)*V : (len(prompt)+j)*V]
		mx := math.Inf(-1)
		for _, v := range row {
			mx = math.Max(mx, float64(v))
		}
		var s float64
		for _, v := range row {
			s += math.Exp(float64(v) - mx)
		}
		lp += float64(row[y]) - mx - math.Log(s)
	}
	return lp
}

// TestAPLScoreIsDirect: R from Scores equals the formula computed sequence by sequence,
// with the defender moved away from its reference (the adapter's B randomised).
func TestAPLScoreIsDirect(t *testing.T) {
	a := newTestAPL(t, aplOptions(), t.TempDir())
	m := a.Defender().Model
	r := rand.New(rand.NewPCG(1, 2))
	for _, p := range m.Adapter(AdapterName).Params() {
		for i := range p.Data {
			p.Data[i] = float32(r.NormFloat64() * 0.2)
		}
	}
	var exs []Example
	for _, x := range []string{"how do i hurt the fox", "please, quick: the dog", "x"} {
		ex, err := a.DefenderExample(x, aplPairs[0])
		if err != nil {
			t.Fatal(err)
		}
		exs = append(exs, ex)
	}
	R, refPre, refDis, err := a.Scores(exs)
	if err != nil {
		t.Fatal(err)
	}
	for i, ex := range exs {
		pre, dis := directLogp(t, m, ex.Prompt, ex.Chosen), directLogp(t, m, ex.Prompt, ex.Rejected)
		m.Adapter(AdapterName).Enabled = false
		rpre, rdis := directLogp(t, m, ex.Prompt, ex.Chosen), directLogp(t, m, ex.Prompt, ex.Rejected)
		m.Adapter(AdapterName).Enabled = true
		want := (dis - pre) - 0.5*(rdis-rpre)
		if math.Abs(R[i]-want) > 1e-3*math.Max(1, math.Abs(want)) || math.Abs(refPre[i]-rpre) > 1e-3 || math.Abs(refDis[i]-rdis) > 1e-3 {
			t.Errorf("rewrite %d: R %v want %v (ref %v %v want %v %v)", i, R[i], want, refPre[i], refDis[i], rpre, rdis)
		}
		if rpre == pre {
			t.Fatalf("the adapter does not move the defender")
		}
	}
}

// TestAPLRunWritesEvents: a one-round run logs every metric and saves both players.
func TestAPLRunWritesEvents(t *testing.T) {
	dir := t.TempDir()
	a := newTestAPL(t, aplOptions(), dir)
	if err := a.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(filepath.Join(dir, "events.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	var lines []map[string]any
	for sc.Scan() {
		var e map[string]any
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			t.Fatal(err)
		}
		lines = append(lines, e)
	}
	if len(lines) != 1 {
		t.Fatalf("%d events for 1 round", len(lines))
	}
	for _, k := range []string{"round", "loss", "R/best", "R/worst", "R/best_after", "defender/loss", "defender/rewards/margins",
		"attacker/loss", "attacker/rewards/margins", "attacker/pairs"} {
		if _, ok := lines[0][k]; !ok {
			t.Errorf("event lacks %q: %v", k, lines[0])
		}
	}
	if lines[0]["R/best"].(float64) < lines[0]["R/worst"].(float64) {
		t.Errorf("best rewrite scores below the worst: %v", lines[0])
	}
	b, _ := os.ReadFile(filepath.Join(dir, "config.json"))
	if !strings.Contains(string(b), `"method": "apl"`) || !strings.Contains(string(b), `"k": 3`) {
		t.Errorf("config.json: %s", b)
	}
	final := filepath.Join(dir, "final")
	if err := a.SaveFinal(final, false, "", ""); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"adapter_model.safetensors", "attacker/model.safetensors", "attacker/config.json"} {
		if _, err := os.Stat(filepath.Join(final, p)); err != nil {
			t.Error(err)
		}
	}
	if _, err := model.Load(filepath.Join(final, "attacker"), model.Options{}); err != nil {
		t.Fatal(err)
	}
}

// TestAPLDefenderLearns: over rounds the defender's score of the attacker's best rewrite
// falls and its DPO margin on those rewrites grows.
func TestAPLDefenderLearns(t *testing.T) {
	opt := aplOptions()
	opt.Rounds = 5
	a := newTestAPL(t, opt, t.TempDir())
	var evs []APLEvent
	a.OnRound = func(e APLEvent) { evs = append(evs, e) }
	if err := a.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	first, last := evs[0], evs[len(evs)-1]
	t.Logf("R/best %.3f -> %.3f, after %.3f -> %.3f, margins %.4f -> %.4f", first.RBest, last.RBest, first.RBestAfter, last.RBestAfter,
		*first.DefenderMargins, *last.DefenderMargins)
	if !(first.RBestAfter < first.RBest) {
		t.Errorf("a defender update did not lower R of the best rewrites: %v -> %v", first.RBest, first.RBestAfter)
	}
	if !(last.RBest < first.RBest) {
		t.Errorf("R/best did not fall over rounds: %v -> %v", first.RBest, last.RBest)
	}
	if !(*last.DefenderMargins > *first.DefenderMargins) {
		t.Errorf("defender margins did not grow: %v -> %v", *first.DefenderMargins, *last.DefenderMargins)
	}
}

// TestRewriteIDsSeeded: the attacker's samples are a function of the seed and end at a stop id.
func TestRewriteIDsSeeded(t *testing.T) {
	tok := chatTok(t)
	m := tinyModel(t, tok.VocabSize(), 4)
	p := tok.Encode("rewrite this", false)
	s := model.Sampling{Temperature: 1}
	a, err := RewriteIDs(m, p, 3, 10, s, 9, []int32{5})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := RewriteIDs(m, p, 3, 10, s, 9, []int32{5})
	for i := range a {
		if len(a[i]) == 0 || len(a[i]) > 10 || (len(a[i]) < 10 && a[i][len(a[i])-1] != 5) {
			t.Errorf("row %d: %v", i, a[i])
		}
		if !slices.Equal(a[i], b[i]) {
			t.Errorf("row %d differs between runs with one seed", i)
		}
	}
	texts, err := Rewrites(m, tok, "hurt the fox", 2, aplOptions(), 1)
	if err != nil || len(texts) != 2 || texts[0] == "" {
		t.Fatalf("Rewrites: %q %v", texts, err)
	}
}
