package align

import (
	"encoding/json"
	"math"
	"os"
	"testing"
)

// objGolden mirrors testdata/objectives.json (scripts/torch_align_golden.py).
type objGolden struct {
	Vocab, Pairs int
	Logits       []float32
	Targets      []int32
	Seq          []int32
	Toxic        []bool
	Ref          []float64
	Cases        map[string]caseGolden `json:"-"`
}

type caseGolden struct {
	Loss float64
	Grad []float64
	MLE  float64 `json:"mle"`
	UL   float64 `json:"ul"`
	NLL  float64 `json:"nll_loss"`

	RewardsChosen     float64 `json:"rewards/chosen"`
	RewardsRejected   float64 `json:"rewards/rejected"`
	RewardsMargins    float64 `json:"rewards/margins"`
	RewardsAccuracies float64 `json:"rewards/accuracies"`
	LogpsChosen       float64 `json:"logps/chosen"`
	LogpsRejected     float64 `json:"logps/rejected"`
}

func loadObj(t *testing.T) *objGolden {
	t.Helper()
	b, err := os.ReadFile("testdata/objectives.json")
	if err != nil {
		t.Fatal(err)
	}
	g := new(objGolden)
	if err := json.Unmarshal(b, g); err != nil {
		t.Fatal(err)
	}
	var raw map[string]json.RawMessage
	json.Unmarshal(b, &raw)
	g.Cases = map[string]caseGolden{}
	for k, v := range raw {
		var c caseGolden
		if json.Unmarshal(v, &c) == nil && c.Grad != nil {
			g.Cases[k] = c
		}
	}
	return g
}

// objective is one loss as a function of the logits, with its gradient.
type objective struct {
	name string
	f    func(z, d []float32) (float64, error)
}

func objectives(g *objGolden) []objective {
	V, P := g.Vocab, g.Pairs
	nTok := 0.0
	for i, y := range g.Targets {
		if y != Ignore && int(g.Seq[i]) < P {
			nTok++
		}
	}
	sftTargets := make([]int32, len(g.Targets))
	var nPos, nTox float64
	ptTargets := make([]int32, len(g.Targets))
	for i, y := range g.Targets {
		sftTargets[i], ptTargets[i] = Ignore, Ignore
		if y == Ignore {
			continue
		}
		if int(g.Seq[i]) < P {
			sftTargets[i], ptTargets[i] = y, y
			nPos++
		} else if g.Toxic[i] {
			ptTargets[i] = y
			nTox++
		}
	}
	obs := []objective{{"sft", func(z, d []float32) (float64, error) { return SFT(z, V, sftTargets, nTok, d) }}}
	for _, c := range []struct {
		name string
		beta float64
		ipo  bool
	}{{"dpo_beta0.1", 0.1, false}, {"ipo_beta0.1", 0.1, true}, {"dpo_beta1", 1, false}, {"ipo_beta1", 1, true}} {
		obs = append(obs, objective{c.name, func(z, d []float32) (float64, error) {
			l, _, err := DPO(z, V, g.Targets, g.Seq, P, g.Ref, DPOOptions{Beta: c.beta, IPO: c.ipo, Norm: float64(P)}, d)
			return l, err
		}})
	}
	for _, c := range []struct {
		name      string
		beta, rpo float64
		ipo       bool
	}{{"dpo_beta0.1_rpo1", 0.1, 1, false}, {"ipo_beta1_rpo0.5", 1, 0.5, true}} {
		obs = append(obs, objective{c.name, func(z, d []float32) (float64, error) {
			l, _, err := DPO(z, V, g.Targets, g.Seq, P, g.Ref, DPOOptions{Beta: c.beta, IPO: c.ipo, Norm: float64(P), RPOAlpha: c.rpo, NLLNorm: nPos}, d)
			return l, err
		}})
	}
	for _, c := range []struct {
		name  string
		alpha float64
	}{{"ptalign_alpha1", 1}, {"ptalign_alpha0.5", 0.5}} {
		obs = append(obs, objective{c.name, func(z, d []float32) (float64, error) {
			l, _, _, err := PTAlign(z, V, ptTargets, g.Toxic, c.alpha, nPos, nTox, d)
			return l, err
		}})
	}
	return obs
}

func TestObjectivesMatchTorch(t *testing.T) {
	g := loadObj(t)
	for _, ob := range objectives(g) {
		want, ok := g.Cases[ob.name]
		if !ok {
			t.Fatalf("no golden for %s", ob.name)
		}
		d := make([]float32, len(g.Logits))
		loss, err := ob.f(g.Logits, d)
		if err != nil {
			t.Fatal(ob.name, err)
		}
		if math.Abs(loss-want.Loss) > 1e-9*math.Max(1, math.Abs(want.Loss)) {
			t.Errorf("%s: loss %.12g, torch %.12g", ob.name, loss, want.Loss)
		}
		for i := range d {
			if math.Abs(float64(d[i])-want.Grad[i]) > 1e-6*math.Max(1, math.Abs(want.Grad[i])) {
				t.Errorf("%s: dlogits[%d] = %g, torch %g", ob.name, i, d[i], want.Grad[i])
				break
			}
		}
	}
}

// TestRPOStatsMatchTorch checks the NLL sum DPO reports under rpo_alpha (logged as
// nll_loss, TRL's name) against the reference.
func TestRPOStatsMatchTorch(t *testing.T) {
	g := loadObj(t)
	nPos := 0.0
	for i, y := range g.Targets {
		if y != Ignore && int(g.Seq[i]) < g.Pairs {
			nPos++
		}
	}
	for name, c := range map[string]DPOOptions{"dpo_beta0.1_rpo1": {Beta: 0.1, RPOAlpha: 1}, "ipo_beta1_rpo0.5": {Beta: 1, IPO: true, RPOAlpha: 0.5}} {
		c.Norm, c.NLLNorm = float64(g.Pairs), nPos
		_, st, err := DPO(g.Logits, g.Vocab, g.Targets, g.Seq, g.Pairs, g.Ref, c, nil)
		if err != nil {
			t.Fatal(err)
		}
		want := g.Cases[name].NLL
		if got := st.NLL / nPos; math.Abs(got-want) > 1e-9*math.Max(1, want) {
			t.Errorf("%s: nll_loss %.12g, torch %.12g", name, got, want)
		}
	}
}

func TestDPOStatsMatchTorch(t *testing.T) {
	g := loadObj(t)
	for _, name := range []string{"dpo_beta0.1", "ipo_beta1"} {
		want := g.Cases[name]
		_, st, err := DPO(g.Logits, g.Vocab, g.Targets, g.Seq, g.Pairs, g.Ref,
			DPOOptions{Beta: map[string]float64{"dpo_beta0.1": 0.1, "ipo_beta1": 1}[name], IPO: name[0] == 'i', Norm: 2}, nil)
		if err != nil {
			t.Fatal(err)
		}
		P := float64(g.Pairs)
		for _, c := range []struct {
			name      string
			got, want float64
		}{
			{"rewards/chosen", st.RewardsChosen / P, want.RewardsChosen},
			{"rewards/rejected", st.RewardsRejected / P, want.RewardsRejected},
			{"rewards/margins", st.RewardsMargins / P, want.RewardsMargins},
			{"rewards/accuracies", st.RewardsAccuracies / P, want.RewardsAccuracies},
			{"logps/chosen", st.LogpsChosen / P, want.LogpsChosen},
			{"logps/rejected", st.LogpsRejected / P, want.LogpsRejected},
		} {
			if math.Abs(c.got-c.want) > 1e-9 {
				t.Errorf("%s %s = %g, torch %g", name, c.name, c.got, c.want)
			}
		}
	}
}

func TestPTAlignParts(t *testing.T) {
	g := loadObj(t)
	want := g.Cases["ptalign_alpha0.5"]
	var nPos, nTox float64
	targets := make([]int32, len(g.Targets))
	for i, y := range g.Targets {
		targets[i] = Ignore
		if y != Ignore && (int(g.Seq[i]) < g.Pairs || g.Toxic[i]) {
			targets[i] = y
			if int(g.Seq[i]) < g.Pairs {
				nPos++
			} else {
				nTox++
			}
		}
	}
	_, mle, ul, err := PTAlign(g.Logits, g.Vocab, targets, g.Toxic, 0.5, nPos, nTox, nil)
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(mle-want.MLE) > 1e-9 || math.Abs(ul-want.UL) > 1e-9 {
		t.Errorf("mle %g ul %g, torch %g %g", mle, ul, want.MLE, want.UL)
	}
}

// TestObjectivesFiniteDifferences checks every analytic gradient against central
// differences of the loss itself, independently of the goldens.
func TestObjectivesFiniteDifferences(t *testing.T) {
	g := loadObj(t)
	for _, ob := range objectives(g) {
		z := append([]float32(nil), g.Logits...)
		d := make([]float32, len(z))
		if _, err := ob.f(z, d); err != nil {
			t.Fatal(err)
		}
		for i := range z {
			x := z[i]
			z[i] = x + 1e-2
			lp, _ := ob.f(z, nil)
			hi := z[i]
			z[i] = x - 1e-2
			lm, _ := ob.f(z, nil)
			lo := z[i]
			z[i] = x
			fd := (lp - lm) / float64(hi-lo)
			if math.Abs(fd-float64(d[i])) > 2e-4*math.Max(1, math.Abs(fd)) {
				t.Errorf("%s: dlogits[%d] = %g, finite difference %g", ob.name, i, d[i], fd)
			}
		}
	}
}

func TestToxicMask(t *testing.T) {
	got := ToxicMask([]int32{5, 2, 9}, []int32{7, 5, 8, 2, 7})
	want := []bool{true, false, true, false, true}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("ToxicMask = %v, want %v", got, want)
		}
	}
}

func TestBadInput(t *testing.T) {
	if _, err := SFT(make([]float32, 6), 3, []int32{0, 5}, 1, nil); err == nil {
		t.Error("target outside the vocabulary accepted")
	}
	if _, _, err := DPO(make([]float32, 6), 3, []int32{0, Ignore}, []int32{0, 1}, 1, []float64{0, 0}, DPOOptions{Beta: 0.1, Norm: 1}, nil); err == nil {
		t.Error("empty rejected response accepted")
	}
}
