package web

import "github.com/aegis-safety/aegis/native/rundir"

// RunsPage is the runs list: the runs that match its filter, in its order.
type RunsPage struct {
	Runs           []RunRow
	All            int // runs in the folder, before the filter
	Filter         RunsFilter
	Message, Error string
	CanLaunch      bool // the server has a launcher (stop buttons work)
}

// RunsFilter is the runs list's search (every word in the id, method, model, status or
// kind), status and kind filters, and order.
type RunsFilter struct {
	Q, Status, Kind string
	Sort            string // one of RunSorts
	Order           string // asc or desc
}

// RunSorts are the columns the runs list sorts by.
var RunSorts = []string{"id", "status", "method", "model", "started", "updated", "progress"}

// RunRow is one run in the runs list and at the top of a run page.
type RunRow struct {
	ID      string
	Kind    string // "train" or "eval"
	Status  string // running, done, interrupted
	Method  string // sft, dpo, ... for training; "eval" for scans
	Model   string
	Started string
	Step    int // training: last step written; eval: attempts judged
	Total   int // training: planned steps when known; eval: attempts
	Metrics []Metric
	// Launched: started from the launch form, so it can be deleted once it is not
	// running; Stoppable: started by this server and still running.
	Launched, Stoppable bool
}

// Metric is a named, already formatted key figure.
type Metric struct{ Name, Value string }

// Sample is one eval attempt in the sample browser.
type Sample struct {
	ID, Status, Category, Attack, Prompt, Response string
	Judged, Unsafe, Refusal                        bool
	Score                                          float64
	Error                                          string
}

// Heatmap is ASR by category (rows) × attack style (columns).
type Heatmap struct {
	Attacks []string
	Rows    []HeatRow
}

// HeatRow is one category's cells, in Heatmap.Attacks order.
type HeatRow struct {
	Category string
	Cells    []HeatCell
}

// HeatCell is one category × attack cell; N is 0 where nothing was judged.
type HeatCell struct {
	N, Unsafe   int
	ASR, Lo, Hi float64
}

// RunPage is everything a run page shows.
type RunPage struct {
	Run RunRow
	// Charts are a training run's line charts, from its method's entry in the method
	// table (native/train, which the server reads: web holds views only).
	Charts  []rundir.Chart
	Config  string // pretty JSON of config.json, or of the report's header for eval runs
	Heatmap *Heatmap
	Samples []Sample
	Filter  SampleFilter
	Total   int // samples matching Filter (Samples holds one page of them)
}

// SampleFilter narrows the sample browser.
type SampleFilter struct {
	Category, Attack string
	UnsafeOnly       bool
	Page, Pages      int
}

// ComparePage is two runs side by side.
type ComparePage struct {
	Runs    []RunRow // all runs, for the pickers
	A, B    *RunRow
	Rows    []CompareRow
	Heatmap [2]*Heatmap
}

// CompareRow is one figure of both runs.
type CompareRow struct{ Name, A, B string }

// Module is a WebAssembly module the server knows; GET /api/modules lists them with these
// JSON names (the manifest's, plus source).
type Module struct {
	Name        string   `json:"name"`
	Kind        string   `json:"kind"`
	Version     string   `json:"version"`
	Description string   `json:"description"`
	Styles      []string `json:"styles,omitempty"`
	Source      string   `json:"source"` // "built-in" or "uploaded"
}

// ModulesPage lists modules and takes uploads.
type ModulesPage struct {
	Modules  []Module
	Message  string
	Error    string
	MaxBytes int
}

// LaunchPage is the form that starts a training or eval run.
type LaunchPage struct {
	Methods []string
	Modules []string // attack modules usable by eval (built-in and uploaded)
	Message string
	Error   string
	Running []string // runs this server started that are still going
	Ended   []Ended  // runs this server started that have exited
}

// Ended is a launched run's process after it exited: how, and its log's last line (a
// run that fails before writing anything shows up only here and in RUN/aegis.log).
type Ended struct {
	ID, Status, LastLine string
	Failed               bool
}
