package eval

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/aegis-safety/aegis/native/jsonl"
)

// JudgeEvalFiles are the output files of a judge evaluation: the report as JSON and the
// misjudged rows as JSONL, each optional. They are created before any row is judged, so
// that a path that cannot be written fails at once, and written atomically at the end.
type JudgeEvalFiles struct{ report, misjudged *jsonl.Writer }

// CreateJudgeEvalFiles starts the files whose paths are not empty.
func CreateJudgeEvalFiles(reportPath, misjudgedPath string) (*JudgeEvalFiles, error) {
	f := &JudgeEvalFiles{}
	for _, x := range []struct {
		path string
		w    **jsonl.Writer
	}{{reportPath, &f.report}, {misjudgedPath, &f.misjudged}} {
		if x.path == "" {
			continue
		}
		w, err := jsonl.Create(x.path)
		if err != nil {
			f.Abort()
			return nil, err
		}
		*x.w = w
	}
	return f, nil
}

// Abort drops the files not committed.
func (f *JudgeEvalFiles) Abort() {
	for _, w := range []*jsonl.Writer{f.report, f.misjudged} {
		if w != nil {
			w.Abort()
		}
	}
}

// Commit writes the report and the misjudged rows (see WriteMisjudged) into place.
func (f *JudgeEvalFiles) Commit(rep *JudgeEvalReport, rows []JudgedRow) error {
	if f.report != nil {
		b, err := json.MarshalIndent(rep, "", "  ")
		if err != nil {
			return err
		}
		if _, err := f.report.Write(append(b, '\n')); err != nil {
			return err
		}
		if err := f.report.Commit(); err != nil {
			return err
		}
		f.report = nil
	}
	if f.misjudged != nil {
		if err := WriteMisjudged(f.misjudged, rows); err != nil {
			return err
		}
		if err := f.misjudged.Commit(); err != nil {
			return err
		}
		f.misjudged = nil
	}
	return nil
}

// JudgeEvalError is the outcome of an evaluation of total rows that EvaluateJudge ended
// with runErr: an interruption says how many rows the figures cover, and a judge that
// judged no row at all is an error naming the first row it failed on.
func JudgeEvalError(rep *JudgeEvalReport, rows []JudgedRow, runErr error, total int) error {
	switch {
	case runErr != nil && errors.Is(runErr, context.Canceled):
		return fmt.Errorf("interrupted: %d of %d rows judged; the figures cover them", rep.N+rep.JudgeErrors, total)
	case runErr != nil:
		return runErr
	case rep.N == 0:
		for _, r := range rows {
			if r.Err != nil {
				return fmt.Errorf("the judge could not judge any of the %d rows; %s: %v", total, r.Label.Pos, r.Err)
			}
		}
	}
	return nil
}

// RubricNotes says, under a report's title, who decided what when an LLM judge asked
// with r is combined with the judge module named module.
func RubricNotes(r Rubric, module string) []string {
	if r.JudgesRefusal() {
		return []string{fmt.Sprintf("rubric %s: refusal is its 1.b; unsafe = not refused and score >= %g", r.Name(),
			DefaultStrongREJECTThreshold)}
	}
	return []string{fmt.Sprintf("rubric %s judges unsafe; refusal is decided by the judge module %s (the rubric does not judge refusal)",
		r.Name(), module)}
}
