package judges

// Verdict is a judge's answer for one metric, or the scorer's answer for a
// whole analysis.
type Verdict string

// The three verdicts. A judge never answers Pass without data to back it.
const (
	// Pass: the data show no regression (or, for the sequential judge, show
	// non-inferiority within the margin).
	Pass Verdict = "pass"
	// Fail: the data show a regression in a direction the metric cares about.
	Fail Verdict = "fail"
	// Inconclusive: not enough data, an error, or (sequential) keep looking.
	Inconclusive Verdict = "inconclusive"
)

// String returns the verdict name.
func (v Verdict) String() string { return string(v) }

// Classification is Kayenta's metric classification label, plus Undecided
// for the sequential judge's "continue".
type Classification string

// Classification labels. All but Undecided are Kayenta's.
const (
	// ClassPass: no significant difference in a direction the metric cares about.
	ClassPass Classification = "Pass"
	// ClassHigh: the canary is significantly higher than the baseline.
	ClassHigh Classification = "High"
	// ClassLow: the canary is significantly lower than the baseline.
	ClassLow Classification = "Low"
	// ClassNodata: a side has no (or too little) data.
	ClassNodata Classification = "Nodata"
	// ClassNodataFailMetric: a side has no data and the metric is marked mustHaveData.
	ClassNodataFailMetric Classification = "NodataFailMetric"
	// ClassError: the input could not be judged.
	ClassError Classification = "Error"
	// ClassUndecided: the sequential judge needs more data (augur's addition).
	ClassUndecided Classification = "Undecided"
)

// String returns the label.
func (c Classification) String() string { return string(c) }

// Verdict maps a classification to augur's verdict: Pass passes; High, Low
// and NodataFailMetric fail; Nodata, Error and Undecided are inconclusive.
func (c Classification) Verdict() Verdict {
	switch c {
	case ClassPass:
		return Pass
	case ClassHigh, ClassLow, ClassNodataFailMetric:
		return Fail
	default:
		return Inconclusive
	}
}

// DataKind names the data a verdict was computed from.
type DataKind string

// Data kinds, as they appear in explanations.
const (
	// DataSamples: one number per scrape or step on each side (e.g. per-minute latency).
	DataSamples DataKind = "samples"
	// DataCounts: summed request and error counts on each side.
	DataCounts DataKind = "counts"
	// DataHistogram: Prometheus histogram bucket counts on each side.
	DataHistogram DataKind = "histogram buckets"
)

// Result is a judge's answer for one metric.
type Result struct {
	// Metric is the metric's name, copied from the input.
	Metric string `json:"metric,omitempty"`
	// Judge is the judge that produced the result.
	Judge Kind `json:"judge"`
	// Verdict is Classification.Verdict().
	Verdict Verdict `json:"verdict"`
	// Classification is the Kayenta-style label.
	Classification Classification `json:"classification"`
	// Critical is copied from the configuration.
	Critical bool `json:"critical,omitempty"`
	// Veto is set when this critical metric fails the whole analysis on its
	// own (Kayenta's critical failure, extended to errors and missing data).
	Veto bool `json:"veto,omitempty"`
	// Group is the scoring group, copied from the configuration.
	Group string `json:"group,omitempty"`
	// Weight is the group's weight, copied from the configuration (nil: shared).
	Weight *float64 `json:"weight,omitempty"`
	// Error is the reason when Classification is Error.
	Error string `json:"error,omitempty"`
	// Explanation carries every number the verdict was drawn from.
	Explanation Explanation `json:"explanation"`
}

// Explanation says how a verdict was reached, with numbers. Optional numbers
// are pointers: nil means "not applicable" or "undefined" (JSON null or
// absent), so an Explanation always encodes to JSON.
type Explanation struct {
	// Data is the kind of data used: "samples", "counts" or "histogram buckets".
	Data DataKind `json:"data"`
	// Method names the test, e.g. "Mann-Whitney U, normal approximation".
	Method string `json:"method,omitempty"`
	// Canary describes the canary's data after preprocessing.
	Canary Side `json:"canary"`
	// Baseline describes the baseline's data after preprocessing.
	Baseline Side `json:"baseline"`
	// Statistic is the test statistic (U, z, …).
	Statistic *Statistic `json:"statistic,omitempty"`
	// PValue is the test's p-value (always-valid p-value for the sequential judge).
	PValue *float64 `json:"pValue,omitempty"`
	// EValue is the sequential judge's evidence against "no regression".
	EValue *float64 `json:"eValue,omitempty"`
	// Alpha is the significance level the p-value or e-value was compared with.
	Alpha float64 `json:"alpha,omitempty"`
	// Shift is the estimated difference canary − baseline with its interval.
	Shift *Shift `json:"shift,omitempty"`
	// Effect is the effect size compared with allowedIncrease/allowedDecrease.
	Effect *Effect `json:"effect,omitempty"`
	// Sequential holds the sequential judge's two tests.
	Sequential *SequentialDetail `json:"sequential,omitempty"`
	// Dispersion is the per-step (cluster) analysis when the data came in
	// steps: informative steps, estimated dispersion, the variance factor
	// applied.
	Dispersion *Dispersion `json:"dispersion,omitempty"`
	// Components are the tests a judge combined (the histogram judge's rank
	// and tail tests), each with its own p-value and weight; the one that
	// decided a failure is marked fired. PValue is then the combined one.
	Components []Component `json:"components,omitempty"`
	// Rule is a sentence saying which rule decided the verdict.
	Rule string `json:"rule"`
}

// Side describes one side's data as the judge used it.
type Side struct {
	// Count is the number of samples, requests or histogram observations.
	Count float64 `json:"count"`
	// Mean is the samples' mean (estimated from buckets for histograms without a sum).
	Mean *float64 `json:"mean,omitempty"`
	// Median is the samples' median (interpolated inside its bucket for histograms).
	Median *float64 `json:"median,omitempty"`
	// Requests is the request count (count data).
	Requests *float64 `json:"requests,omitempty"`
	// Errors is the error count (count data).
	Errors *float64 `json:"errors,omitempty"`
	// Rate is Errors/Requests (count data).
	Rate *float64 `json:"rate,omitempty"`
	// NaNs is the number of non-finite samples removed or replaced by zero.
	NaNs int `json:"nans,omitempty"`
	// Outliers is the number of samples removed by the IQR outlier filter.
	Outliers int `json:"outliers,omitempty"`
	// Buckets is the distribution a histogram judge compared: the
	// observations in each bucket (not cumulative), in increasing order of
	// bound.
	Buckets []BucketCount `json:"buckets,omitempty"`
}

// BucketCount is the number of observations of one histogram bucket: those
// above the previous bucket's bound and at most Le.
type BucketCount struct {
	// Le is the bucket's upper bound as Prometheus writes it ("+Inf" for the last).
	Le string `json:"le"`
	// Count is the observations in this bucket alone.
	Count float64 `json:"count"`
}

// Statistic is a named test statistic.
type Statistic struct {
	// Name is "U", "z", …
	Name string `json:"name"`
	// Value is the statistic's value.
	Value float64 `json:"value"`
}

// Shift is an estimate of canary − baseline with its confidence interval.
type Shift struct {
	// Kind says what is estimated: "hodges-lehmann", "rate difference", "mean difference", "median difference".
	Kind string `json:"kind"`
	// Estimate is the point estimate.
	Estimate *float64 `json:"estimate"`
	// Lower bounds the interval; nil means unbounded or not computed.
	Lower *float64 `json:"lower,omitempty"`
	// Upper bounds the interval; nil means unbounded or not computed.
	Upper *float64 `json:"upper,omitempty"`
	// Confidence is the interval's (achieved) confidence level; 0 when there is no interval.
	Confidence float64 `json:"confidence,omitempty"`
	// Tolerance is Kayenta's band ±tolerance·|estimate| that the interval must clear.
	Tolerance *float64 `json:"tolerance,omitempty"`
}

// Effect is an effect size and the threshold it was compared with.
type Effect struct {
	// Kind is the measure: "meanRatio", "cles", "rateRatio".
	Kind string `json:"kind"`
	// Value is the effect size; nil when undefined (e.g. a zero baseline mean).
	Value *float64 `json:"value"`
	// AllowedIncrease is the effect a High must reach.
	AllowedIncrease *float64 `json:"allowedIncrease,omitempty"`
	// AllowedDecrease is the effect a Low must fall to.
	AllowedDecrease *float64 `json:"allowedDecrease,omitempty"`
}

// SequentialDetail holds the two always-valid tests of the sequential judge.
type SequentialDetail struct {
	// Estimate is the observed difference canary − baseline (rates or means).
	Estimate *float64 `json:"estimate"`
	// RegressionEValue is the e-value against "no regression"; fail when ≥ FailThreshold.
	RegressionEValue *float64 `json:"regressionEValue"`
	// NonInferiorityEValue is the e-value against "worse by the margin or
	// more"; pass when ≥ PassThreshold (for direction either, the smaller of
	// the two one-sided e-values).
	NonInferiorityEValue *float64 `json:"nonInferiorityEValue"`
	// FailThreshold is 1/alpha (2/alpha for direction either, one test per side).
	FailThreshold float64 `json:"failThreshold"`
	// PassThreshold is 1/alpha.
	PassThreshold float64 `json:"passThreshold"`
	// Margin is the non-inferiority margin, in the metric's units.
	Margin float64 `json:"margin"`
	// Tau is the mixture's standard deviation on the standardized effect.
	Tau float64 `json:"tau"`
	// EffectiveN is 1/(1/n_canary + 1/n_baseline).
	EffectiveN float64 `json:"effectiveN"`
}
