package argo

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/argoproj/argo-rollouts/pkg/apis/rollouts/v1alpha1"
	"github.com/argoproj/argo-rollouts/utils/evaluate"

	"github.com/augurproj/augur/analysis"
	"github.com/augurproj/augur/analysis/judges"
	"github.com/augurproj/augur/metrics"
)

// verdict is a measurement's phase, value and message.
type verdict struct {
	phase   v1alpha1.AnalysisPhase
	value   string
	message string
}

// result is what successCondition and failureCondition see as `result`:
// the values of the query's vector, as Argo's Prometheus provider gives them
// ([]float64). augur's providers reduce a query to one series, so it holds
// the check's value (±Inf included); [NaN] when the query returned NaN
// (which augur, like Flagger, otherwise treats as "no values"); and nothing
// for an empty result.
func result(chk analysis.Check, out outcome) []float64 {
	switch {
	case out.nan():
		return []float64{math.NaN()}
	case out.noValues():
		return []float64{}
	case chk.Value != nil:
		return []float64{*chk.Value}
	}
	// A value without a JSON form: ±Inf (NaN is "no values" above).
	return []float64{out.value}
}

// formatValue renders result as Argo's Prometheus provider renders a vector:
// "[v1,v2]" with Prometheus's number format.
func formatValue(vals []float64) string {
	parts := make([]string, len(vals))
	for i, v := range vals {
		parts[i] = formatNumber(v)
	}
	return "[" + strings.Join(parts, ",") + "]"
}

// formatNumber is Prometheus's number format (model.SampleValue.String).
func formatNumber(v float64) string {
	switch {
	case math.IsInf(v, 1):
		return "+Inf"
	case math.IsInf(v, -1):
		return "-Inf"
	case math.IsNaN(v):
		return "NaN"
	}
	return strconv.FormatFloat(v, 'f', -1, 64)
}

// judge decides a measurement from the metric's check (service.Query) and
// what its query returned at the provider: thresholdRange (Flagger's rule,
// the check's verdict) and/or the metric's conditions (Argo's rule); when
// both are set the worse phase wins (Error, then Failed, then Inconclusive,
// then Successful). A metric without a value for another reason than "no
// values" (query, render, template or provider error, several series) is an
// Error.
func judge(chk analysis.Check, out outcome, metric v1alpha1.Metric, tr *analysis.ThresholdRange) verdict {
	if chk.Judgement != nil {
		return judged(chk, out, metric, tr)
	}
	noValues := out.noValues()
	if !noValues && (chk.Error != "" || (chk.Value == nil && !out.ran)) {
		msg := chk.Reason
		if errors.Is(out.err, metrics.ErrMultipleValues) {
			msg += "; augur measures one number: aggregate the query to a single series (sum, max, topk(1, …))"
		}
		return verdict{phase: v1alpha1.AnalysisPhaseError, message: msg}
	}
	vals := result(chk, out)
	v := verdict{phase: v1alpha1.AnalysisPhaseSuccessful, value: formatValue(vals)}
	// Argo's Prometheus provider hands a scalar to the conditions as a bare
	// number (`result >= 0`) and shows it unbracketed; a vector is a list.
	var condResult any = vals
	if out.scalar && len(vals) == 1 {
		condResult, v.value = vals[0], formatNumber(vals[0])
	}
	var msgs []string
	hasCond := metric.SuccessCondition != "" || metric.FailureCondition != ""
	if hasCond {
		p, err := conditionsPhase(condResult, metric)
		if err != nil {
			msg := err.Error()
			if len(vals) == 0 {
				msg += "; the query returned no values (empty result): guard the condition with len(result) > 0 (or use thresholdRange)"
			}
			return verdict{phase: v1alpha1.AnalysisPhaseError, value: v.value, message: msg}
		}
		v.phase = p
		msgs = append(msgs, conditionsMessage(p, metric))
	}
	if tr != nil {
		p, msg := rangePhase(chk, noValues, vals)
		v.phase = worse(v.phase, p)
		msgs = append(msgs, msg)
	}
	if !hasCond && tr == nil {
		if noValues {
			msgs = append(msgs, noValuesText(vals)+"; no successCondition, failureCondition or thresholdRange, so the measurement is Successful (as with Argo's providers)")
		} else {
			msgs = append(msgs, "no successCondition, failureCondition or thresholdRange: Successful (as with Argo's providers)")
		}
	}
	v.message = strings.Join(msgs, "; ")
	return v
}

func noValuesText(vals []float64) string {
	if len(vals) == 1 {
		return "the query returned NaN (no values, as Flagger counts it)"
	}
	return "the query returned no values (empty result)"
}

// rangePhase is the check's thresholdRange verdict (Flagger's rules, applied
// by the service); no value (empty or NaN) fails, as a Flagger check without
// a value does.
func rangePhase(chk analysis.Check, noValues bool, vals []float64) (v1alpha1.AnalysisPhase, string) {
	if noValues {
		return v1alpha1.AnalysisPhaseFailed, noValuesText(vals) + ": thresholdRange fails a metric without a value, as Flagger does"
	}
	if chk.Passed {
		return v1alpha1.AnalysisPhaseSuccessful, chk.Reason
	}
	return v1alpha1.AnalysisPhaseFailed, chk.Reason
}

// conditionsPhase applies Argo's rules (utils/evaluate.EvaluateResult) to
// the metric's conditions, each evaluated by Argo's own EvalCondition:
// without a failure condition a false success condition fails; without a
// success condition a false failure condition succeeds; with both, neither
// true is Inconclusive and a true failure condition wins.
func conditionsPhase(vals any, metric v1alpha1.Metric) (v1alpha1.AnalysisPhase, error) {
	var success, failure bool
	var err error
	if metric.SuccessCondition != "" {
		if success, err = evalCondition(vals, metric.SuccessCondition); err != nil {
			return v1alpha1.AnalysisPhaseError, fmt.Errorf("could not evaluate successCondition %q: %w", metric.SuccessCondition, err)
		}
	}
	if metric.FailureCondition != "" {
		if failure, err = evalCondition(vals, metric.FailureCondition); err != nil {
			return v1alpha1.AnalysisPhaseError, fmt.Errorf("could not evaluate failureCondition %q: %w", metric.FailureCondition, err)
		}
	}
	switch {
	case metric.SuccessCondition == "" && metric.FailureCondition == "":
		return v1alpha1.AnalysisPhaseSuccessful, nil
	case metric.FailureCondition == "":
		failure = !success
	case metric.SuccessCondition == "":
		success = !failure
	}
	switch {
	case failure:
		return v1alpha1.AnalysisPhaseFailed, nil
	case !success:
		return v1alpha1.AnalysisPhaseInconclusive, nil
	}
	return v1alpha1.AnalysisPhaseSuccessful, nil
}

// evalCondition is Argo's EvalCondition, with a panic (which expr-lang does
// not always catch) turned into an error.
func evalCondition(vals any, cond string) (ok bool, err error) {
	defer func() {
		if r := recover(); r != nil {
			ok, err = false, fmt.Errorf("panic: %v", r)
		}
	}()
	ok, err = evaluate.EvalCondition(vals, cond)
	if err != nil {
		// expr-lang's messages span lines (a caret under the expression).
		err = errors.New(strings.Join(strings.Fields(err.Error()), " "))
	}
	return ok, err
}

func conditionsMessage(p v1alpha1.AnalysisPhase, m v1alpha1.Metric) string {
	var parts []string
	if m.SuccessCondition != "" {
		parts = append(parts, fmt.Sprintf("successCondition %q", m.SuccessCondition))
	}
	if m.FailureCondition != "" {
		parts = append(parts, fmt.Sprintf("failureCondition %q", m.FailureCondition))
	}
	return strings.Join(parts, " and ") + ": " + string(p)
}

// severity orders phases from best to worst.
func severity(p v1alpha1.AnalysisPhase) int {
	switch p {
	case v1alpha1.AnalysisPhaseSuccessful:
		return 0
	case v1alpha1.AnalysisPhaseInconclusive:
		return 1
	case v1alpha1.AnalysisPhaseFailed:
		return 2
	}
	return 3
}

func worse(a, b v1alpha1.AnalysisPhase) v1alpha1.AnalysisPhase {
	if severity(b) > severity(a) {
		return b
	}
	return a
}

// judged decides a measurement of a metric judged against the primary: the
// judge's verdict (pass Successful, fail Failed, inconclusive Inconclusive;
// a critical metric's veto and data that could not be fetched Failed), and
// thresholdRange and the conditions on the metric's value as judge does
// for an unjudged metric, the worse phase winning. The value is the
// metric's value when it was queried (thresholdRange or conditions), else
// the judge's p-value (or e-value) and verdict, "[]" when it has neither.
func judged(chk analysis.Check, out outcome, metric v1alpha1.Metric, tr *analysis.ThresholdRange) verdict {
	j := chk.Judgement
	jv := verdict{phase: v1alpha1.AnalysisPhaseInconclusive}
	switch {
	case chk.Error != "" && j.Classification == judges.ClassError:
		jv.phase = v1alpha1.AnalysisPhaseFailed
	case j.Verdict == judges.Pass:
		jv.phase = v1alpha1.AnalysisPhaseSuccessful
	case j.Verdict == judges.Fail, j.Veto:
		jv.phase = v1alpha1.AnalysisPhaseFailed
	}
	jv.message = fmt.Sprintf("judged against the primary by %s: %s (%s): %s", j.Judge, j.Verdict, j.Classification, j.Explanation.Rule)
	if tr == nil && metric.SuccessCondition == "" && metric.FailureCondition == "" {
		jv.value = "[]"
		if e := j.Explanation; e.PValue != nil {
			jv.value = formatValue([]float64{*e.PValue})
		}
		return jv
	}
	unjudged := chk
	unjudged.Judgement = nil
	unjudged.Reason = strings.TrimSuffix(strings.SplitN(chk.Reason, "; judged against the primary", 2)[0], ";")
	v := judge(unjudged, out, metric, tr)
	if v.phase == v1alpha1.AnalysisPhaseError {
		return v
	}
	v.phase = worse(v.phase, jv.phase)
	v.message += "; " + jv.message
	return v
}
