// Package rundir is the schema of a run folder, the contract between the processes that
// write runs (aegis train, aegis eval, the demo) and those that read them (aegis serve
// and its web pages):
//
//	config.json       a training run's settings (train.Config; APL adds an "apl" object),
//	                  written once at the start; Config is the part readers rely on
//	events.jsonl      one JSON object a line: an optimizer step (an APL round) with
//	                  "step", "loss", "lr", "grad_norm", "tokens", "seconds" and the
//	                  method's own metrics (the names below)
//	ref_logps.json    DPO/IPO reference log-probs, chosen then rejected of each example
//	checkpoint-N/     the state after step N (trainable weights, optimizer, data cursor)
//	final/            the result: a PEFT adapter or a Hugging Face model folder
//	pairs.jsonl       the preference pairs a demo retrofit trained on, kept as a record
//	results.jsonl     an eval scan's attempts, one a line
//	report.json       an eval scan's report (report.md the same for people)
//	scan.json         what an eval scan is of (endpoint or model, judge), written at its
//	                  start; a resumed scan must be of the same
//
// The package holds names and a small struct only, so that any reader can import it.
package rundir

import (
	"strconv"
	"strings"
)

// The files of a run folder.
const (
	ConfigFile     = "config.json"
	EventsFile     = "events.jsonl"
	RefLogpsFile   = "ref_logps.json"
	FinalDir       = "final"
	PairsFile      = "pairs.jsonl"
	ResultsFile    = "results.jsonl"
	ReportFile     = "report.json"
	ReportMarkdown = "report.md"
	ScanFile       = "scan.json"
	// LogFile is the output of a run the server launched.
	LogFile = "aegis.log"

	checkpointPrefix = "checkpoint-"
)

// Checkpoint is the folder name of the checkpoint after step.
func Checkpoint(step int) string { return checkpointPrefix + strconv.Itoa(step) }

// CheckpointStep is the step of a checkpoint folder's name; ok is false for other names.
func CheckpointStep(name string) (step int, ok bool) {
	s, ok := strings.CutPrefix(name, checkpointPrefix)
	if !ok || s == "" || strings.Trim(s, "0123456789") != "" { // digits only: no sign
		return 0, false
	}
	n, err := strconv.Atoi(s)
	return n, err == nil
}

// Config is the part of a training run's config.json that readers rely on; the trainer
// writes more (every train.Config field).
type Config struct {
	Method string `json:"method"`
	Model  string `json:"model"`
	Data   string `json:"data"`
	Steps  int    `json:"max_steps"` // 0 when the run is bounded by epochs
}

// Metric names: fields of events.jsonl lines. The preference metrics are TRL's names.
const (
	Step     = "step"
	Epoch    = "epoch"
	Loss     = "loss"
	LR       = "lr"
	GradNorm = "grad_norm"
	Tokens   = "tokens"
	Seconds  = "seconds"

	RewardsChosen     = "rewards/chosen"
	RewardsRejected   = "rewards/rejected"
	RewardsMargins    = "rewards/margins"
	RewardsAccuracies = "rewards/accuracies"
	LogpsChosen       = "logps/chosen"
	LogpsRejected     = "logps/rejected"
	NLLLoss           = "nll_loss" // with rpo_alpha: mean NLL of the chosen tokens

	MLE = "mle" // PT-ALIGN: mean NLL of the positive answers
	UL  = "ul"  // PT-ALIGN: mean unlikelihood of the toxic tokens

	// APL, one line per round.
	Round              = "round"
	RBest              = "R/best"
	RWorst             = "R/worst"
	RMean              = "R/mean"
	RBestAfter         = "R/best_after"
	DefenderMargins    = "defender/rewards/margins"
	DefenderAccuracies = "defender/rewards/accuracies"
)

// Chart is one line chart of a training run: an events.jsonl field and its caption.
type Chart struct{ Key, Label string }
