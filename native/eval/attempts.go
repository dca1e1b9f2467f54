package eval

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
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

// Log is an append-only attempts file. Each Append writes one whole line with one write
// call, so a crash or Ctrl-C loses at most the line being written, never a finished one.
type Log struct {
	mu sync.Mutex
	f  *os.File
}

// OpenLog opens path for appending (creating it).
func OpenLog(path string) (*Log, error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	return &Log{f: f}, nil
}

// Append writes the attempt's current state.
func (l *Log) Append(a *Attempt) error {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(a); err != nil {
		return err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	_, err := l.f.Write(buf.Bytes())
	return err
}

// Close closes the file.
func (l *Log) Close() error { return l.f.Close() }

// ReadAttempts reads an attempts file and returns the latest state of each id, in the order
// ids first appeared. A torn last line (an interrupted write) is ignored; any other
// malformed line is an error naming FILE:LINE.
func ReadAttempts(path string) ([]*Attempt, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var order []*Attempt
	byID := map[string]*Attempt{}
	r := bufio.NewReaderSize(f, 1<<16)
	for n := 1; ; n++ {
		line, rerr := r.ReadBytes('\n')
		last := errors.Is(rerr, io.EOF)
		if t := bytes.TrimSpace(line); len(t) > 0 {
			var a Attempt
			if err := json.Unmarshal(t, &a); err != nil || a.ID == "" {
				if last && line[len(line)-1] != '\n' {
					break // torn final write
				}
				if err == nil {
					err = errors.New(`missing "id"`)
				}
				return nil, fmt.Errorf("%s:%d: not an attempt: %v", path, n, err)
			}
			if old, ok := byID[a.ID]; ok {
				*old = a
			} else {
				p := &a
				byID[a.ID] = p
				order = append(order, p)
			}
		}
		if last {
			break
		}
		if rerr != nil {
			return nil, rerr
		}
	}
	return order, nil
}
