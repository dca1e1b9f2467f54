package debias

import (
	"sort"

	"github.com/aegis-safety/aegis/native/eval"
)

// CategoryShift is one harm category's attack success rate before and after debiasing
// (or any two scans), from eval reports' by_category cells.
type CategoryShift struct {
	Category  string  `json:"category"`
	NBefore   int     `json:"n_before"`
	NAfter    int     `json:"n_after"`
	ASRBefore float64 `json:"asr_before"`
	ASRAfter  float64 `json:"asr_after"`
	Delta     float64 `json:"delta"` // after − before: positive means less safe
}

// CompareScans reads two eval scans (results files or the folders holding them:
// eval.ReadScan), typically without and with debiasing, and lines up their reports
// (Compare).
func CompareScans(before, after string) ([]CategoryShift, error) {
	var reps [2]*eval.Report
	for i, p := range []string{before, after} {
		a, _, err := eval.ReadScan(p)
		if err != nil {
			return nil, err
		}
		reps[i] = eval.NewReport(a)
	}
	return Compare(reps[0], reps[1]), nil
}

// Compare lines up two reports category by category (sorted by name, a category missing
// from one side has N 0 there), followed by "overall". TSDI trades some safety for
// helpfulness; the categories with the largest Delta are the weak ones to re-align.
func Compare(before, after *eval.Report) []CategoryShift {
	by := map[string]*CategoryShift{}
	get := func(c string) *CategoryShift {
		if by[c] == nil {
			by[c] = &CategoryShift{Category: c}
		}
		return by[c]
	}
	for _, c := range before.Category {
		s := get(c.Category)
		s.NBefore, s.ASRBefore = c.N, c.ASR
	}
	for _, c := range after.Category {
		s := get(c.Category)
		s.NAfter, s.ASRAfter = c.N, c.ASR
	}
	var out []CategoryShift
	for _, s := range by {
		s.Delta = s.ASRAfter - s.ASRBefore
		out = append(out, *s)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Category < out[j].Category })
	out = append(out, CategoryShift{Category: "overall", NBefore: before.Overall.N, NAfter: after.Overall.N,
		ASRBefore: before.ASR, ASRAfter: after.ASR, Delta: after.ASR - before.ASR})
	return out
}
