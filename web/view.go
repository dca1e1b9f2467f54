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

// Heatmap is ASR by category (rows) × attack style (columns), and the over-refusal of
// the benign prompts (sent unattacked: the "none" column).
type Heatmap struct {
	Attacks []string
	Rows    []HeatRow
	// OverRefusal is the benign prompts' cell: Unsafe counts refusals, ASR is the
	// over-refusal rate; nil when no benign prompt was judged.
	OverRefusal *HeatCell
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
	Charts []rundir.Chart
	// Stats are a training run's total steps, tokens/s and s/step over its last steps,
	// and its ETA while it runs.
	Stats   []Metric
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

// ComparePage is runs side by side: their figures and differing settings, training
// curves overlaid, each scan's heatmap and each later scan's difference from the first.
type ComparePage struct {
	Runs     []RunRow // all runs, for the pickers
	Picked   []RunRow // the runs compared, in the order picked
	Rows     []CompareRow
	Charts   []rundir.Chart // the training runs' curves (overlaid)
	Heatmaps []RunHeatmap   // the scans among Picked
	Diffs    []DiffHeatmap  // each later scan minus the first
}

// CompareRow is one figure of every picked run, in Picked order ("–" where a run has none).
type CompareRow struct {
	Name   string
	Values []string
}

// RunHeatmap is one run's heatmap.
type RunHeatmap struct {
	ID      string
	Heatmap *Heatmap
}

// DiffHeatmap is After's ASR minus Before's, per category × attack (and the benign
// over-refusal), over the union of both scans' rows and columns.
type DiffHeatmap struct {
	Before, After string
	Attacks       []string
	Rows          []DiffRow
	OverRefusal   *DiffCell
}

// DiffRow is one category's differences, in DiffHeatmap.Attacks order.
type DiffRow struct {
	Category string
	Cells    []DiffCell
}

// DiffCell is one cell of both scans; Delta is After.ASR - Before.ASR when both have
// judged attempts there (Both).
type DiffCell struct {
	Before, After HeatCell
	Both          bool
	Delta         float64
}

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

// LaunchPage is the form that starts a training or eval run. Models and data are picked
// from the folders the server knows, by name.
type LaunchPage struct {
	Methods     []string
	Models      []Choice       // full model folders (training and eval)
	EvalModels  []Choice       // Models and the LoRA adapters of finished runs
	Data        []Choice       // JSONL files (training data, eval prompts)
	Modules     []LaunchModule // attack modules usable by eval (built-in and uploaded)
	TrainParams []Param        // the main hyperparameters of training
	EvalParams  []Param        // the main settings of a scan
	Message     string
	Error       string
	Running     []string // runs this server started that are still going
	Ended       []Ended  // runs this server started that have exited
}

// Choice is an option of a select: the value the form sends and what people read.
type Choice struct{ Key, Label string }

// LaunchModule is an attack module and the styles it takes in --attacks.
type LaunchModule struct {
	Name   string
	Styles []string
}

// Param is a setting of the launch form: a number ("int", "float"), one of Choices
// ("choice") or a checkbox ("bool"), with its default Value.
type Param struct {
	Name, Label, Kind, Value, Hint string
	Choices                        []string
}

// Ended is a launched run's process after it exited: how, and its log's last line (a
// run that fails before writing anything shows up only here and in RUN/aegis.log).
type Ended struct {
	ID, Status, LastLine string
	Failed               bool
}
