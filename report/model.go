package report

import (
	"time"

	"github.com/augurproj/augur/analysis"
	"github.com/augurproj/augur/analysis/judges"
)

// Report kinds: what the page reports on. They decide the exit-code legend
// and the wording of the verdict.
const (
	KindReplay  = "replay"  // augur replay: many ticks on a simulated clock
	KindAnalyze = "analyze" // augur analyze: one tick
	KindDecide  = "decide"  // POST /v1/report: one tick of a decide request
)

// Replay is the input of a replay or decision report: the same data as
// `augur replay -o json` (one Tick per tick), plus where it came from.
type Replay struct {
	// Kind is KindReplay, KindAnalyze or KindDecide.
	Kind string `json:"kind"`
	// Namespace and Name identify the Canary.
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
	// Source describes the data: a recorded file and its time range, or a
	// Prometheus address.
	Source string `json:"source"`
	// DataStart and DataEnd are the recorded data's time range (zero when
	// the data is live); tick times are shown as offsets from DataStart.
	DataStart time.Time `json:"dataStart,omitzero"`
	DataEnd   time.Time `json:"dataEnd,omitzero"`
	// Before is the status before the first tick.
	Before analysis.CanaryStatus `json:"before"`
	// Result is the final phase; Finished reports Succeeded or Failed.
	Result   analysis.Phase `json:"result"`
	Finished bool           `json:"finished"`
	// Ticks are the ticks in order.
	Ticks []Tick `json:"ticks"`
	// Generated is when the report was written (shown in the footer; zero
	// omits it, as golden tests do).
	Generated time.Time `json:"generated,omitzero"`
}

// Tick is one tick: the fields of `augur replay -o json`'s ticks, plus the
// webhooks the tick called.
type Tick struct {
	Time         time.Time             `json:"time"`
	Phase        analysis.Phase        `json:"phase"`
	CanaryWeight int                   `json:"canaryWeight"`
	FailedChecks int                   `json:"failedChecks"`
	Iterations   int                   `json:"iterations"`
	Action       analysis.Action       `json:"action"`
	Events       []analysis.Event      `json:"events"`
	Checks       []analysis.Check      `json:"checks"`
	Score        *judges.Summary       `json:"score,omitempty"`
	Reasons      []string              `json:"reasons,omitempty"`
	Hooks        []analysis.HookResult `json:"hooks,omitempty"`
}

// FromDecision is the tick of one decision taken at t.
func FromDecision(t time.Time, d analysis.Decision) Tick {
	return Tick{
		Time: t.UTC(), Phase: d.Status.Phase, CanaryWeight: d.Status.CanaryWeight, FailedChecks: d.Status.FailedChecks,
		Iterations: d.Status.Iterations, Action: d.Action, Events: d.Events, Checks: d.Checks, Score: d.Score,
		Reasons: d.Reasons, Hooks: d.Hooks,
	}
}

// TestRun is the input of an `augur test` report: the content of
// `augur test -o json`.
type TestRun struct {
	Passed    int        `json:"passed"`
	Failed    int        `json:"failed"`
	Errors    int        `json:"errors"`
	Files     []TestFile `json:"files"`
	Generated time.Time  `json:"generated,omitzero"`
}

// TestFile is one test file's outcome.
type TestFile struct {
	Path   string      `json:"file"`
	Result string      `json:"result"`
	Errors []TestError `json:"errors,omitempty"`
	Cases  []TestCase  `json:"cases"`
}

// TestCase is one case's outcome.
type TestCase struct {
	Name       string        `json:"name"`
	Line       int           `json:"line"`
	Result     string        `json:"result"`
	Assertions int           `json:"assertions"`
	Failures   []TestFailure `json:"failures,omitempty"`
	Errors     []TestError   `json:"errors,omitempty"`
}

// TestError is a problem that kept a file or case from running.
type TestError struct {
	File    string `json:"file"`
	Line    int    `json:"line,omitempty"`
	Case    string `json:"case,omitempty"`
	Path    string `json:"path,omitempty"`
	Message string `json:"message"`
}

// TestFailure is one expectation that did not hold.
type TestFailure struct {
	Line    int      `json:"line"`
	Metric  string   `json:"metric,omitempty"`
	What    string   `json:"what"`
	Query   string   `json:"query,omitempty"`
	Want    []string `json:"want"`
	Got     []string `json:"got"`
	Details []string `json:"details,omitempty"`
}
