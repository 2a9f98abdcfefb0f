package analysis

import (
	"time"

	"github.com/augurproj/augur/analysis/judges"
)

// Action is what the rollout driver should do after a tick.
type Action string

// The four actions. Flagger's "halt advancement" is a Hold.
const (
	// ActionAdvance: traffic weight (or iteration count) moves forward, or a new analysis starts.
	ActionAdvance Action = "advance"
	// ActionHold: nothing moves this tick (failed check, gate closed, waiting).
	ActionHold Action = "hold"
	// ActionPromote: the canary is being promoted (Promoting, Finalising, Succeeded).
	ActionPromote Action = "promote"
	// ActionRollback: the canary is rolled back (Failed).
	ActionRollback Action = "rollback"
)

// String returns the action name.
func (a Action) String() string { return string(a) }

// MetricKind says which of Flagger's evaluation paths a metric takes; it
// decides the deprecated threshold's direction and the event texts.
type MetricKind string

// Metric kinds.
const (
	KindSuccessRate MetricKind = "request-success-rate" // builtin, percentage
	KindDuration    MetricKind = "request-duration"     // builtin, milliseconds
	KindQuery       MetricKind = "query"                // deprecated inline PromQL
	KindTemplate    MetricKind = "template"             // templateRef
)

// ErrorKind classifies why an observation has no value. The core needs the
// class, not the error value, so observations stay plain data.
type ErrorKind string

// Error kinds.
const (
	ErrKindNoValues       ErrorKind = "no-values"       // empty result or NaN (Flagger's ErrNoValuesFound)
	ErrKindMultipleValues ErrorKind = "multiple-values" // matrix or several series
	ErrKindRender         ErrorKind = "render"          // template render failed
	ErrKindTemplate       ErrorKind = "template"        // MetricTemplate missing or invalid
	ErrKindSecret         ErrorKind = "secret"          // provider credentials unreadable
	ErrKindProvider       ErrorKind = "provider"        // provider could not be built (bad address, unknown type)
	ErrKindQuery          ErrorKind = "query"           // query failed (HTTP, PromQL, timeout, …)
	ErrKindNoMetric       ErrorKind = "no-metric"       // neither builtin, query nor templateRef
	ErrKindJudge          ErrorKind = "judge"           // invalid or incomplete judge configuration
)

// Observation is one metric's result for this tick, gathered by the shell.
type Observation struct {
	// Metric is analysis.metrics[].name.
	Metric string `json:"metric"`
	// Kind is the evaluation path.
	Kind MetricKind `json:"kind"`
	// Observer is the builtin query family (istio, linkerd, …) for builtin kinds.
	Observer string `json:"observer,omitempty"`
	// Template is "<name>.<namespace>" of the MetricTemplate for template kinds.
	Template string `json:"template,omitempty"`
	// Query is the rendered, whitespace-collapsed query that ran.
	Query string `json:"query,omitempty"`
	// Value is the result; for KindDuration it is in milliseconds.
	Value float64 `json:"value"`
	// Err is set when there is no value.
	Err *ObservationError `json:"error,omitempty"`
	// ThresholdRange and Threshold are copied from the metric spec.
	ThresholdRange *ThresholdRange `json:"thresholdRange,omitempty"`
	Threshold      float64         `json:"threshold,omitempty"`
	// Secret names the MetricTemplate's provider Secret (template kinds with
	// ErrKindSecret); it only fills Flagger's event text.
	Secret string `json:"secret,omitempty"`
	// ProviderType is the MetricTemplate's provider type (template kinds with
	// ErrKindProvider); it only fills Flagger's event text.
	ProviderType string `json:"providerType,omitempty"`
	// Judged is set for a metric judged against the primary: the judge's
	// configuration and both sides' data. When the metric sets no threshold
	// (no thresholdRange, threshold 0), Value and Err are not used.
	Judged *Judged `json:"judged,omitempty"`
}

// ObservationError is an error turned into data.
type ObservationError struct {
	Kind ErrorKind `json:"kind"`
	// Message is the error as Flagger's event words it.
	Message string `json:"message"`
	// Detail is augur's fuller account when it says more than Message (a
	// Prometheus error's decoded envelope and the query, say); checks
	// report it, events never do.
	Detail string `json:"detail,omitempty"`
}

// explain is the error as checks and reasons tell it: Detail, else Message.
func (e *ObservationError) explain() string {
	if e.Detail != "" {
		return e.Detail
	}
	return e.Message
}

// HookResult is the outcome of calling one webhook.
type HookResult struct {
	Name string   `json:"name"`
	Type HookType `json:"type"`
	// Err is empty on success (HTTP status <= 202), else the error text as
	// Flagger writes it in its event.
	Err string `json:"error,omitempty"`
	// Detail is augur's fuller account of the failure when it says more
	// than Err (the last status and body of a call that ran out of
	// retries, say). It goes into the decision's reasons, never into the
	// event text.
	Detail string `json:"detail,omitempty"`
}

// Passed reports whether the hook succeeded.
func (r HookResult) Passed() bool { return r.Err == "" }

// explain is the failure as the reasons tell it: Detail, else Err.
func (r HookResult) explain() string {
	if r.Detail != "" {
		return r.Detail
	}
	return r.Err
}

// Readiness is what the caller knows about the workloads. The zero value
// means "ready, no deadline exceeded" — augur does not watch Deployments.
//
// DeadlineExceeded applies to the primary when PrimaryNotReady is set, or
// when neither workload is flagged and the canary is Promoting or Finalising
// (the promoted primary is what is rolling out then); otherwise it applies to
// the canary.
type Readiness struct {
	// PrimaryNotReady and CanaryNotReady report a workload that is still
	// rolling out; without DeadlineExceeded this is retriable ("waiting for
	// rollout to finish"): the tick holds and no failed check is counted.
	PrimaryNotReady bool `json:"primaryNotReady,omitempty"`
	CanaryNotReady  bool `json:"canaryNotReady,omitempty"`
	// DeadlineExceeded reports that the progress deadline was exceeded
	// (non-retriable): rollback, or a failed promotion while Promoting or
	// Finalising, regardless of failedChecks.
	DeadlineExceeded bool `json:"deadlineExceeded,omitempty"`
	// Message is the error text shown in the event (Flagger's
	// "<name>-primary.<ns> not ready: …"); empty means a default text.
	Message string `json:"message,omitempty"`
}

// Check is a metric's verdict in a Decision.
type Check struct {
	// Metric is analysis.metrics[].name.
	Metric string `json:"metric"`
	// Kind is the evaluation path the observation took.
	Kind MetricKind `json:"kind"`
	// Query is the query that ran, when known.
	Query string `json:"query,omitempty"`
	// Value is the observed value; nil when the observation failed or the
	// value is not finite (NaN and ±Inf have no JSON form; Reason shows them).
	Value *float64 `json:"value"`
	// Min and Max are the effective inclusive bounds (from thresholdRange, or
	// the deprecated threshold in its per-kind direction); nil is open.
	Min *float64 `json:"min"`
	Max *float64 `json:"max"`
	// Passed reports whether the check passed.
	Passed bool `json:"passed"`
	// Inconclusive reports a judged metric whose judge could not decide
	// (no or too little data, an input error, or the sequential judge still
	// collecting): the check neither passes nor fails, and the tick holds
	// without counting a failed check. Passed is false.
	Inconclusive bool `json:"inconclusive,omitempty"`
	// Error is the observation's error text when it had no value.
	Error string `json:"error,omitempty"`
	// Reason is a sentence a person can read: which rule fired and why.
	Reason string `json:"reason"`
	// Judgement is a judged metric's verdict with its explanation.
	Judgement *Judgement `json:"judgement,omitempty"`
}

// EventType is Normal or Warning, as in Kubernetes events.
type EventType string

// Event types.
const (
	EventNormal  EventType = "Normal"
	EventWarning EventType = "Warning"
)

// Event is an event Flagger would have recorded, with its exact message.
type Event struct {
	// Type is Normal or Warning.
	Type EventType `json:"type"`
	// Message is the event text.
	Message string `json:"message"`
	// Phase is the status phase of the Canary object Flagger records the
	// event on, which is what its event hooks receive as the payload's
	// phase: for most events the phase the tick started in (Initializing
	// for a status without one), because Flagger's status writers update
	// copies; "Initialization done!" carries Initialized, "New revision
	// detected! Scaling up" Progressing, "Canary failed!" Failed, and
	// "Promotion completed!" (and the post-rollout events before it)
	// Succeeded. It is not part of the JSON answer.
	Phase Phase `json:"-"`
}

// AlertSeverity is the severity Flagger attaches to an alert.
type AlertSeverity string

// Flagger's alert severities.
const (
	SeverityInfo  AlertSeverity = "info"
	SeverityWarn  AlertSeverity = "warn"
	SeverityError AlertSeverity = "error"
)

// AlertMessage is a notification Flagger would have sent to its alert
// providers (Slack, Teams, …) on this tick. Alerts are not Kubernetes events.
type AlertMessage struct {
	// Severity is info, warn or error.
	Severity AlertSeverity `json:"severity"`
	// Message is the alert text.
	Message string `json:"message"`
}

// Decision is the answer to one tick.
type Decision struct {
	Action Action `json:"action"`
	// Status is the next status the caller must store.
	Status CanaryStatus `json:"status"`
	// Events are Flagger's event messages for this tick, in order.
	Events []Event `json:"events"`
	// Checks are the metric verdicts evaluated this tick (empty when no metrics ran).
	Checks []Check `json:"checks"`
	// Hooks are the webhook results consulted this tick, in call order.
	Hooks []HookResult `json:"hooks,omitempty"`
	// Alerts are the notifications Flagger would have sent this tick, in order
	// (confirm-* gates with muteAlert send none).
	Alerts []AlertMessage `json:"alerts,omitempty"`
	// Reasons explain the action in plain sentences.
	Reasons []string `json:"reasons"`
	// PostRollout, when set, asks the caller to run post-rollout hooks with this payload phase.
	PostRollout Phase `json:"postRollout,omitempty"`
	// Weights is the traffic split the router should apply after this tick.
	Weights Weights `json:"weights"`
	// Score combines this tick's judged metrics as Kayenta's scorer does
	// (groups, weights, thresholds, critical vetoes). It is reported, not
	// decisive: the action follows the per-metric checks. Nil when no
	// metric was judged.
	Score *judges.Summary `json:"score,omitempty"`
}

// Weights is a traffic split.
type Weights struct {
	// Primary and Canary are percentages that add up to 100.
	Primary int `json:"primary"`
	Canary  int `json:"canary"`
	// Mirrored reports that the canary receives a mirror of the primary's traffic.
	Mirrored bool `json:"mirrored,omitempty"`
}

// Input is everything one tick's decision depends on.
type Input struct {
	Canary Canary `json:"canary"`
	// MeshProvider is the global -mesh-provider (default istio); spec.provider wins.
	MeshProvider string `json:"meshProvider,omitempty"`
	// Status is the canary's current status.
	Status CanaryStatus `json:"status"`
	// NewRevision reports that the target spec (or a tracked ConfigMap or
	// Secret) differs from the one the current status was computed for
	// (Flagger's status.lastAppliedSpec): in Initialized, Succeeded or Failed
	// it starts an analysis; in Progressing or WaitingPromotion it restarts
	// the running one.
	NewRevision bool `json:"newRevision,omitempty"`
	// Readiness is what the caller knows about the primary and canary workloads.
	Readiness Readiness `json:"readiness,omitzero"`
	// Hooks holds the results of every hook type gathered so far, keyed by type.
	// A type is present (possibly with an empty slice) once gathered.
	Hooks map[HookType][]HookResult `json:"hooks,omitempty"`
	// Metrics holds the metric observations once gathered (nil: not gathered yet).
	Metrics []Observation `json:"metrics,omitempty"`
	// MetricsGathered distinguishes "gathered, none configured" from "not gathered".
	MetricsGathered bool `json:"metricsGathered,omitempty"`
	// Providers is the availability check of the metrics providers, once
	// gathered (nil: not gathered yet; see Need.Providers).
	Providers *ProvidersCheck `json:"providers,omitempty"`
	// Score holds the pass and marginal thresholds of the judged metrics'
	// score (Decision.Score); zero means Kayenta's 95 and 75.
	Score judges.ScoreConfig `json:"score,omitzero"`
	// Now is the tick's time. It is used only for status.lastTransitionTime,
	// which is set to Now (RFC 3339, UTC) when the phase changes; a zero Now
	// leaves it as it was.
	Now time.Time `json:"now"`
}

// Need asks the shell for more observations before the core can decide.
type Need struct {
	// Hooks is the webhook type to call next (in spec order, stopping at the first failure).
	Hooks HookType `json:"hooks,omitempty"`
	// Metrics asks for every metric to be evaluated.
	Metrics bool `json:"metrics,omitempty"`
	// Providers asks whether every metric's provider is online (Flagger's
	// checkMetricProviderAvailability, run on an initialising tick).
	Providers bool `json:"providers,omitempty"`
}

// ProvidersCheck is the answer to Need.Providers.
type ProvidersCheck struct {
	// Err is the first failure in Flagger's words (e.g. "prometheus not
	// avaiable: running query failed: …"); empty means every provider
	// answered. It only changes the tick's first event, never the decision.
	Err string `json:"err,omitempty"`
}

// Result is the core's answer to Step: either a Need or a Decision.
type Result struct {
	Need     *Need     `json:"need,omitempty"`
	Decision *Decision `json:"decision,omitempty"`
	// Events, with a Need, are the events Flagger records before it
	// consults what is needed: a prefix of the decision's events. Flagger
	// sends each event to the event hooks as it records it, so a shell
	// sends these before gathering the need.
	Events []Event `json:"events,omitempty"`
}
