package train

import (
	"context"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/aegis-safety/aegis/native/model"
)

// TestMethodTable: every method a Trainer runs logs only the metrics its table entry
// declares, its charts and key metrics draw on logged fields, and APL's round events use
// the names its entry declares.
func TestMethodTable(t *testing.T) {
	common := []string{"step", "epoch", "loss", "lr", "grad_norm", "tokens", "seconds"}
	for _, meth := range Methods(true) {
		m, err := model.Load(goldenModel, model.Options{})
		if err != nil {
			t.Fatal(err)
		}
		cfg := testConfig(meth.Name)
		cfg.Full, cfg.RPOAlpha = !meth.SecurityVector, 0
		if meth.Reference {
			cfg.RPOAlpha = 0.5
		}
		var ev Event
		o := FitOptions{OnStep: func(e Event) { ev = e }}
		if _, err := Fit(context.Background(), m, loadPairs(t, meth.Data == PreferencePairs), cfg, t.TempDir(), o); err != nil {
			t.Fatal(meth.Name, err)
		}
		for _, x := range ev.Metrics {
			if !slices.Contains(meth.Metrics, x.Name) {
				t.Errorf("%s logs %s, not in its table entry", meth.Name, x.Name)
			}
		}
		for _, c := range meth.Charts {
			if !slices.Contains(common, c.Key) && !slices.Contains(meth.Metrics, c.Key) {
				t.Errorf("%s charts %s, which it does not log", meth.Name, c.Key)
			}
		}
	}
	apl, ok := Lookup("apl")
	if !ok || apl.objective != nil {
		t.Fatal("apl: missing, or run by a Trainer")
	}
	rt := reflect.TypeFor[APLEvent]()
	for i := range rt.NumField() {
		name, _, _ := strings.Cut(rt.Field(i).Tag.Get("json"), ",")
		if !slices.Contains(common, name) && !slices.Contains(apl.Metrics, name) {
			t.Errorf("APLEvent logs %s, not in apl's table entry", name)
		}
	}
}

// TestEventJSON: an event is one flat object, the common fields then the method's
// metrics in the order logged, as events.jsonl has always held them.
func TestEventJSON(t *testing.T) {
	e := Event{Step: 2, Epoch: 0.5, Loss: 0.25, LR: 1e-4, GradNorm: 1.5, Tokens: 12, Seconds: 0.125,
		Metrics: Metrics{{"rewards/chosen", 0.5}, {"rewards/accuracies", 1}}}
	b, err := e.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	want := `{"step":2,"epoch":0.5,"loss":0.25,"lr":0.0001,"grad_norm":1.5,"tokens":12,"seconds":0.125,"rewards/chosen":0.5,"rewards/accuracies":1}`
	if string(b) != want {
		t.Errorf("got %s\nwant %s", b, want)
	}
	e.Metrics = nil
	if b, _ := e.MarshalJSON(); !strings.HasSuffix(string(b), `"seconds":0.125}`) {
		t.Errorf("without metrics: %s", b)
	}
}
