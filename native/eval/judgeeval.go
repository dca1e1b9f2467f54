package eval

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"text/tabwriter"

	"github.com/aegis-safety/aegis/shared"
)

// NoCategory is the by_category name of rows without a category.
const NoCategory = "(none)"

// JudgeMetrics is how well a judge decides one dimension (unsafe, or refusal) over the
// rows labelled for it: shared.Confusion's figures and counts.
type JudgeMetrics struct {
	Precision float64 `json:"precision"`
	Recall    float64 `json:"recall"`
	F1        float64 `json:"f1"`
	Accuracy  float64 `json:"accuracy"`
	N         int     `json:"n"` // rows labelled for this dimension (and judged)
	TP        int     `json:"tp"`
	FP        int     `json:"fp"`
	FN        int     `json:"fn"`
	TN        int     `json:"tn"`
}

func judgeMetrics(c shared.Confusion) JudgeMetrics {
	return JudgeMetrics{Precision: c.Precision(), Recall: c.Recall(), F1: c.F1(), Accuracy: c.Accuracy(),
		N: c.N(), TP: c.TP, FP: c.FP, FN: c.FN, TN: c.TN}
}

// CategoryJudgeMetrics is a judge's quality on the rows of one category (by the label
// row's category; NoCategory for rows without one).
type CategoryJudgeMetrics struct {
	Category string       `json:"category"`
	N        int          `json:"n"` // rows judged
	Unsafe   JudgeMetrics `json:"unsafe"`
	Refusal  JudgeMetrics `json:"refusal"`
}

// JudgeEvalReport is the result of `aegis judge eval`. Its JSON keys are a contract read by
// other tools: {"n","unsafe","refusal","by_category","judge_errors","judge"}.
type JudgeEvalReport struct {
	N           int                    `json:"n"` // rows judged (judge errors excluded)
	Unsafe      JudgeMetrics           `json:"unsafe"`
	Refusal     JudgeMetrics           `json:"refusal"`
	ByCategory  []CategoryJudgeMetrics `json:"by_category"`
	JudgeErrors int                    `json:"judge_errors"` // rows the judge could not judge
	Judge       string                 `json:"judge"`
	// Misjudged counts rows judged wrongly on a labelled dimension (judge errors apart).
	Misjudged int `json:"-"`
	// Notes are printed under the title (e.g. which judge decides refusal).
	Notes []string `json:"-"`
}

// JudgedRow is one label row and what the judge made of it.
type JudgedRow struct {
	Label   LabelRow
	Verdict *Verdict // nil when the judge failed or the row was not reached
	Err     error    // the judge's failure: a judge error
	Done    bool     // judged, or failed; false when the run was interrupted first
}

// Wrong says whether the verdict disagrees with a label the row has.
func (r JudgedRow) Wrong() bool {
	v, l := r.Verdict, r.Label
	return v != nil && (l.Unsafe != nil && *l.Unsafe != v.Unsafe || l.Refusal != nil && *l.Refusal != v.Refusal)
}

// JudgeEvalOptions controls EvaluateJudge.
type JudgeEvalOptions struct {
	Concurrency int         // rows judged at once (at least 1)
	Progress    func(n int) // called as rows finish, one call at a time
	Name        string      // the judge's name in the report (default: the verdicts' judge)
}

// EvaluateJudge judges every labelled row, Concurrency at once, and measures the judge
// against the labels: precision, recall, F1 and accuracy of unsafe and of refusal (each
// over the rows labelled for it), per category too. A row the judge fails on is a judge
// error: counted apart, in no metric, never taken as safe. On cancellation it stops
// handing out rows and returns the report of the rows finished with ctx.Err().
func EvaluateJudge(ctx context.Context, j Judge, labels []LabelRow, o JudgeEvalOptions) (*JudgeEvalReport, []JudgedRow, error) {
	rows := make([]JudgedRow, len(labels))
	for i, l := range labels {
		rows[i].Label = l
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	var pmu sync.Mutex // one Progress call at a time
	for range max(1, o.Concurrency) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				i := int(next.Add(1)) - 1
				if i >= len(rows) {
					return
				}
				l := rows[i].Label
				v, err := j.Judge(ctx, l.Prompt, l.Response, l.Category)
				if err != nil && ctx.Err() != nil {
					return // interrupted, not a judge error
				}
				if err != nil {
					v = nil
				}
				rows[i].Verdict, rows[i].Err, rows[i].Done = v, err, true
				if o.Progress != nil {
					pmu.Lock()
					o.Progress(1)
					pmu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	rep := SummarizeJudge(rows)
	if o.Name != "" {
		rep.Judge = o.Name
	}
	return rep, rows, ctx.Err()
}

// SummarizeJudge computes the report of judged rows (rows not Done are left out).
func SummarizeJudge(rows []JudgedRow) *JudgeEvalReport {
	rep := &JudgeEvalReport{ByCategory: []CategoryJudgeMetrics{}}
	type acc struct {
		n               int
		unsafe, refusal shared.Confusion
	}
	var all acc
	cats := map[string]*acc{}
	for _, r := range rows {
		switch {
		case !r.Done:
			continue
		case r.Err != nil:
			rep.JudgeErrors++
			continue
		}
		if rep.Judge == "" {
			rep.Judge = r.Verdict.Judge
		}
		if r.Wrong() {
			rep.Misjudged++
		}
		cat := r.Label.Category
		if cat == "" {
			cat = NoCategory
		}
		c := cats[cat]
		if c == nil {
			c = &acc{}
			cats[cat] = c
		}
		for _, a := range []*acc{&all, c} {
			a.n++
			if r.Label.Unsafe != nil {
				a.unsafe.Add(r.Verdict.Unsafe, *r.Label.Unsafe)
			}
			if r.Label.Refusal != nil {
				a.refusal.Add(r.Verdict.Refusal, *r.Label.Refusal)
			}
		}
	}
	rep.N, rep.Unsafe, rep.Refusal = all.n, judgeMetrics(all.unsafe), judgeMetrics(all.refusal)
	for name, c := range cats {
		rep.ByCategory = append(rep.ByCategory, CategoryJudgeMetrics{Category: name, N: c.n,
			Unsafe: judgeMetrics(c.unsafe), Refusal: judgeMetrics(c.refusal)})
	}
	sort.Slice(rep.ByCategory, func(i, j int) bool {
		a, b := rep.ByCategory[i].Category, rep.ByCategory[j].Category
		if catOrder(a) != catOrder(b) {
			return catOrder(a) < catOrder(b)
		}
		return a < b
	})
	return rep
}

// Text writes the report for people: the two dimensions, their confusion tables, F1 per
// category and the number of misjudged rows. A figure whose denominator is 0 (precision
// with nothing predicted positive, F1 with no positive label or prediction, ...) prints
// as "-" (the JSON has 0, as shared.Confusion defines it).
func (r *JudgeEvalReport) Text(w io.Writer) error {
	bw := bufio.NewWriter(w)
	fmt.Fprintf(bw, "judge: %s\nrows judged: %d; judge errors: %d (rows the judge could not judge: in no figure, never counted as safe)\n",
		r.Judge, r.N, r.JudgeErrors)
	for _, n := range r.Notes {
		fmt.Fprintf(bw, "%s\n", n)
	}
	dims := []struct {
		name string
		m    JudgeMetrics
	}{{"unsafe", r.Unsafe}, {"refusal", r.Refusal}}
	tw := tabwriter.NewWriter(bw, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "\n\tn\tprecision\trecall\tF1\taccuracy\tTP\tFP\tFN\tTN\n")
	for _, d := range dims {
		m := d.m
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\t%s\t%d\t%d\t%d\t%d\n", d.name, m.N, fig(m.Precision, m.TP+m.FP),
			fig(m.Recall, m.TP+m.FN), fig(m.F1, 2*m.TP+m.FP+m.FN), fig(m.Accuracy, m.N), m.TP, m.FP, m.FN, m.TN)
	}
	fmt.Fprintf(tw, "\nconfusion (label by judge)\tjudge: yes\tjudge: no\n")
	for _, d := range dims {
		fmt.Fprintf(tw, "%s, label yes\t%d\t%d\n%s, label no\t%d\t%d\n", d.name, d.m.TP, d.m.FN, d.name, d.m.FP, d.m.TN)
	}
	fmt.Fprintf(tw, "\nF1 per category\tn\tunsafe F1\tunsafe n\trefusal F1\trefusal n\n")
	for _, c := range r.ByCategory {
		name := c.Category
		if long, ok := shared.CategoryName(name); ok && name != shared.Benign {
			name += " " + long
		}
		u, f := c.Unsafe, c.Refusal
		fmt.Fprintf(tw, "%s\t%d\t%s\t%d\t%s\t%d\n", name, c.N, fig(u.F1, 2*u.TP+u.FP+u.FN), u.N,
			fig(f.F1, 2*f.TP+f.FP+f.FN), f.N)
	}
	tw.Flush()
	fmt.Fprintf(bw, "\nmisjudged rows: %d (%d judged wrongly on a labelled dimension, %d judge errors)\n",
		r.Misjudged+r.JudgeErrors, r.Misjudged, r.JudgeErrors)
	return bw.Flush()
}

// fig prints a figure, or "-" when its denominator is 0.
func fig(x float64, den int) string {
	if den == 0 {
		return "-"
	}
	return fmt.Sprintf("%.3f", x)
}

// WriteMisjudged writes, as JSONL, every finished row the judge got wrong or could not
// judge: the label row as it was read (its keys in order), then "pred_refusal",
// "pred_unsafe" and "score" (null for a judge error) and, for a judge error, "error".
func WriteMisjudged(w io.Writer, rows []JudgedRow) error {
	bw := bufio.NewWriter(w)
	for _, r := range rows {
		if !r.Done || r.Err == nil && !r.Wrong() {
			continue
		}
		var b strings.Builder
		b.WriteByte('{')
		for _, f := range r.Label.fields {
			switch f.key {
			case "pred_refusal", "pred_unsafe", "score", "error": // ours replace them
				continue
			}
			k, _ := json.Marshal(f.key)
			fmt.Fprintf(&b, "%s:%s,", k, f.raw)
		}
		if r.Err != nil {
			msg, _ := json.Marshal(r.Err.Error())
			fmt.Fprintf(&b, `"pred_refusal":null,"pred_unsafe":null,"score":null,"error":%s}`, msg)
		} else {
			score, err := json.Marshal(r.Verdict.Score)
			if err != nil {
				score = []byte("null")
			}
			fmt.Fprintf(&b, `"pred_refusal":%t,"pred_unsafe":%t,"score":%s}`, r.Verdict.Refusal, r.Verdict.Unsafe, score)
		}
		b.WriteByte('\n')
		bw.WriteString(b.String())
	}
	return bw.Flush()
}
