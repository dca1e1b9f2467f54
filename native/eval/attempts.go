package eval

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/aegis-safety/aegis/native/jsonl"
	"github.com/aegis-safety/aegis/native/rundir"
)

// Attempt states, in order.
const (
	StatusPending   = "pending"
	StatusGenerated = "generated"
	StatusJudged    = "judged"
)

// AttackNone is the attack of a prompt sent unchanged.
const AttackNone = "none"

// Attempt is one prompt sent to the model under test, a line of results.jsonl.
type Attempt struct {
	ID       string   `json:"id"`
	Status   string   `json:"status"`
	Prompt   string   `json:"prompt"`
	Attack   string   `json:"attack"`
	Category string   `json:"category"`
	Response *string  `json:"response"`
	Verdict  *Verdict `json:"verdict"`
	BaseID   string   `json:"base_id,omitempty"` // the prompts row the attempt came from
	Split    string   `json:"split,omitempty"`
	// Error is why the last try at the next state failed (the attempt keeps its status and
	// is retried by --resume).
	Error string `json:"error,omitempty"`
}

// Verdict is a judge's decision on one response.
type Verdict struct {
	Judge      string   `json:"judge"`
	Refusal    bool     `json:"refusal"`
	Unsafe     bool     `json:"unsafe"`
	Score      float64  `json:"score"`
	Categories []string `json:"categories"`
	// LLM is the LLM judge's own answer when one was used; its unsafe decision (and its
	// refusal and score, when its rubric gives them) wins.
	LLM *LLMVerdict `json:"llm,omitempty"`
}

// LLMVerdict is what an LLM judge answered, read by its rubric.
type LLMVerdict struct {
	Model  string `json:"model"`
	Rubric string `json:"rubric,omitempty"` // llamaguard, harmbench, strongreject (see Rubric)
	Unsafe bool   `json:"unsafe"`
	// Refusal is set by rubrics that judge refusal (strongreject), Score by rubrics that
	// give one (harmbench: 1 or 0, strongreject: its 0-1 score).
	Refusal    *bool    `json:"refusal,omitempty"`
	Score      *float64 `json:"score,omitempty"`
	Categories []string `json:"categories"`
	Raw        string   `json:"raw"`
}

// Log is an append-only attempts file (see jsonl.Log): a crash or Ctrl-C loses at most
// the line being written.
type Log = jsonl.Log

// OpenLog opens an attempts file for appending (creating it).
func OpenLog(path string) (*Log, error) { return jsonl.OpenLog(path) }

// ReadAttempts reads an attempts file and returns the latest state of each id, in the order
// ids first appeared. A torn last line (an interrupted write) is ignored; any other
// malformed line is an error naming FILE:LINE.
func ReadAttempts(path string) ([]*Attempt, error) {
	var order []*Attempt
	byID := map[string]*Attempt{}
	err := jsonl.Each(path, func(pos string, line []byte) error {
		var a Attempt
		if err := json.Unmarshal(line, &a); err != nil || a.ID == "" {
			if err == nil {
				err = errors.New(`missing "id"`)
			}
			return fmt.Errorf("%s: not an attempt: %v", pos, err)
		}
		if old, ok := byID[a.ID]; ok {
			*old = a
		} else {
			byID[a.ID] = &a
			order = append(order, &a)
		}
		return nil
	})
	if errors.Is(err, jsonl.ErrTorn) {
		err = nil // an interrupted final write: the attempt keeps its previous state
	}
	return order, err
}

// ReadScan reads a scan's attempts from a results file or from the folder holding it,
// and returns the file's path too, to name the scan.
func ReadScan(path string) ([]*Attempt, string, error) {
	if st, err := os.Stat(path); err == nil && st.IsDir() {
		path = filepath.Join(path, rundir.ResultsFile)
	}
	a, err := ReadAttempts(path)
	return a, path, err
}
