package argo

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/argoproj/argo-rollouts/pkg/apis/rollouts/v1alpha1"
	"github.com/argoproj/argo-rollouts/utils/evaluate"
	"github.com/sirupsen/logrus"

	"github.com/augurproj/augur/analysis"
	"github.com/augurproj/augur/metrics"
)

const (
	successful   = v1alpha1.AnalysisPhaseSuccessful
	failed       = v1alpha1.AnalysisPhaseFailed
	inconclusive = v1alpha1.AnalysisPhaseInconclusive
	errored      = v1alpha1.AnalysisPhaseError
)

// Conditions that evaluate to true, false, or fail, on result = [5].
const (
	condTrue  = "result[0] >= 5"
	condFalse = "result[0] > 5"
	condError = "result[0] > 'x'"
)

// TestConditionsTruthTable is Argo's rule table (utils/evaluate), row by row.
func TestConditionsTruthTable(t *testing.T) {
	tests := []struct {
		success, failure string
		want             v1alpha1.AnalysisPhase
	}{
		{"", "", successful},
		{condTrue, "", successful},
		{condFalse, "", failed},
		{"", condTrue, failed},
		{"", condFalse, successful},
		{condTrue, condFalse, successful},
		{condFalse, condFalse, inconclusive},
		{condTrue, condTrue, failed},
		{condFalse, condTrue, failed},
		{condError, "", errored},
		{"", condError, errored},
		{condTrue, condError, errored},
		{condError, condTrue, errored},
	}
	for _, tt := range tests {
		t.Run(tt.success+"|"+tt.failure, func(t *testing.T) {
			m := v1alpha1.Metric{SuccessCondition: tt.success, FailureCondition: tt.failure}
			got, err := conditionsPhase([]float64{5}, m)
			if got != tt.want {
				t.Errorf("phase %s (err %v), want %s", got, err, tt.want)
			}
			if (err != nil) != (tt.want == errored) {
				t.Errorf("error %v for phase %s", err, got)
			}
		})
	}
}

// argoPhase is what Argo's own EvaluateResult decides.
func argoPhase(vals []float64, m v1alpha1.Metric) (v1alpha1.AnalysisPhase, error) {
	return evaluate.EvaluateResult(vals, m, *logrus.NewEntry(logrus.New()))
}

// TestConditionsMatchArgo compares conditionsPhase with Argo's
// EvaluateResult over conditions users write, on the results augur produces
// (one value, NaN, ±Inf, empty).
func TestConditionsMatchArgo(t *testing.T) {
	conds := []string{
		"", condTrue, condFalse,
		"len(result) == 0 || result[0] >= 0.99",
		"len(result) > 0 && result[0] < 0.5",
		"isNaN(result[0])",
		"!isNaN(result[0]) && result[0] >= 0.95",
		"isInf(result[0])",
		"asInt(result[0]) == 5",
		"asFloat(result[0]) < 1",
		"isNil(result)",
		"default(result, [0])[0] >= 0",
		"all(result, {# > 1})",
		"result[0] > 'x'",
		"result == nil",
		"result",
	}
	results := [][]float64{{5}, {0.999}, {0.2}, {math.NaN()}, {math.Inf(1)}, {math.Inf(-1)}, {}}
	for _, vals := range results {
		for _, s := range conds {
			for _, f := range conds {
				m := v1alpha1.Metric{SuccessCondition: s, FailureCondition: f}
				want, wantErr := argoPhase(vals, m)
				got, err := conditionsPhase(vals, m)
				if got != want || (err == nil) != (wantErr == nil) {
					t.Errorf("result %v success %q failure %q: augur %s (%v), Argo %s (%v)", vals, s, f, got, err, want, wantErr)
				}
			}
		}
	}
}

func TestFormatValue(t *testing.T) {
	tests := []struct {
		vals []float64
		want string
	}{
		{[]float64{}, "[]"},
		{[]float64{0.995}, "[0.995]"},
		{[]float64{1e21}, "[1000000000000000000000]"},
		{[]float64{-0.25, 3}, "[-0.25,3]"},
		{[]float64{math.NaN()}, "[NaN]"},
		{[]float64{math.Inf(1)}, "[+Inf]"},
		{[]float64{math.Inf(-1)}, "[-Inf]"},
	}
	for _, tt := range tests {
		if got := formatValue(tt.vals); got != tt.want {
			t.Errorf("formatValue(%v) = %q, want %q", tt.vals, got, tt.want)
		}
	}
}

// value, empty, nan, failing, multiple and unrendered are what a provider
// returned, as the probe records it.
func value(v float64) outcome { return outcome{ran: true, value: v} }

var (
	empty      = outcome{ran: true, err: fmt.Errorf("empty vector: %w", metrics.ErrNoValues)}
	nanRec     = outcome{ran: true, err: fmt.Errorf("NaN: %w", metrics.ErrNoValues)}
	nanProm    = outcome{ran: true, err: fmt.Errorf("%w: value is NaN", metrics.ErrNoValues)}
	failing    = outcome{ran: true, err: errors.New("server returned HTTP status 500")}
	multiple   = outcome{ran: true, err: fmt.Errorf("%w: vector with 2 series", metrics.ErrMultipleValues)}
	unrendered = outcome{}
)

// check is the service's check of what the engine observed for out, with tr.
func check(out outcome, tr *analysis.ThresholdRange, renderErr string) analysis.Check {
	o := analysis.Observation{Metric: "m", Kind: analysis.KindTemplate, ThresholdRange: tr}
	switch {
	case renderErr != "":
		o.Err = &analysis.ObservationError{Kind: analysis.ErrKindRender, Message: renderErr}
	case out.noValues():
		o.Err = &analysis.ObservationError{Kind: analysis.ErrKindNoValues, Message: metrics.ErrNoValues.Error()}
	case errors.Is(out.err, metrics.ErrMultipleValues):
		o.Err = &analysis.ObservationError{Kind: analysis.ErrKindMultipleValues, Message: out.err.Error()}
	case out.err != nil:
		o.Err = &analysis.ObservationError{Kind: analysis.ErrKindQuery, Message: out.err.Error()}
	default:
		o.Value = out.value
	}
	return analysis.CheckObservation(o)
}

func ptr[T any](v T) *T { return &v }

func TestJudge(t *testing.T) {
	rangeMin := &analysis.ThresholdRange{Min: ptr(0.99)}
	tests := []struct {
		name        string
		out         outcome
		renderErr   string
		success     string
		failure     string
		tr          *analysis.ThresholdRange
		want        v1alpha1.AnalysisPhase
		wantValue   string
		wantMessage string
	}{
		{"value, nothing to check", value(0.5), "", "", "", nil, successful, "[0.5]", "no successCondition"},
		{"value within range", value(0.995), "", "", "", rangeMin, successful, "[0.995]", "m = 0.995 is within [0.99, +Inf]"},
		{"value below range", value(0.9), "", "", "", rangeMin, failed, "[0.9]", "below the minimum 0.99"},
		{"range inclusive", value(0.99), "", "", "", rangeMin, successful, "[0.99]", "within"},
		{"success condition true", value(0.995), "", "result[0] >= 0.99", "", nil, successful, "[0.995]", `successCondition "result[0] >= 0.99": Successful`},
		{"success condition false", value(0.9), "", "result[0] >= 0.99", "", nil, failed, "[0.9]", "Failed"},
		{"both conditions false", value(0.9), "", "result[0] >= 0.99", "result[0] < 0.5", nil, inconclusive, "[0.9]", "Inconclusive"},
		{"condition passes, range fails", value(0.9), "", "result[0] >= 0.5", "", rangeMin, failed, "[0.9]", "below the minimum"},
		{"condition inconclusive, range passes", value(0.995), "", "result[0] > 1", "result[0] < 0.5", rangeMin, inconclusive, "[0.995]", "within"},
		{"empty result with range", empty, "", "", "", rangeMin, failed, "[]", "no values (empty result): thresholdRange fails"},
		{"empty result, index condition", empty, "", "result[0] >= 0.99", "", nil, errored, "[]", "guard the condition with len(result) > 0"},
		{"empty result, guarded condition", empty, "", "len(result) == 0 || result[0] >= 0.99", "", nil, successful, "[]", "Successful"},
		{"empty result, nothing to check", empty, "", "", "", nil, successful, "[]", "no values (empty result); no successCondition"},
		{"NaN fails a comparison", nanRec, "", "result[0] >= 8", "", nil, failed, "[NaN]", "Failed"},
		{"NaN guarded (prometheus)", nanProm, "", "isNaN(result[0]) || result[0] >= 8", "", nil, successful, "[NaN]", "Successful"},
		{"NaN as a value", value(math.NaN()), "", "isNaN(result[0])", "", nil, successful, "[NaN]", "Successful"},
		{"NaN with range", nanRec, "", "", "", rangeMin, failed, "[NaN]", "returned NaN"},
		{"+Inf", value(math.Inf(1)), "", "isInf(result[0])", "", nil, successful, "[+Inf]", "Successful"},
		{"-Inf below range", value(math.Inf(-1)), "", "", "", rangeMin, failed, "[-Inf]", "below the minimum"},
		{"query error", failing, "", "result[0] > 0", "", rangeMin, errored, "", "m has no value (query): server returned HTTP status 500"},
		{"multiple values", multiple, "", "", "", nil, errored, "", "aggregate the query"},
		{"render error", unrendered, `template: x: function "nope" not defined`, "", "", nil, errored, "", "(render): template"},
		{"condition error", value(1), "", "result[0] > 'x'", "", nil, errored, "[1]", `could not evaluate successCondition "result[0] > 'x'"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			chk := check(tt.out, tt.tr, tt.renderErr)
			got := judge(chk, tt.out, v1alpha1.Metric{Name: "m", SuccessCondition: tt.success, FailureCondition: tt.failure}, tt.tr)
			if got.phase != tt.want || got.value != tt.wantValue || !strings.Contains(got.message, tt.wantMessage) {
				t.Errorf("got {%s %q %q}, want {%s %q …%q…}", got.phase, got.value, got.message, tt.want, tt.wantValue, tt.wantMessage)
			}
		})
	}
}

// FuzzConditions evaluates arbitrary conditions on arbitrary values: no
// panic, and the same phase (and error or not) as Argo's EvaluateResult.
func FuzzConditions(f *testing.F) {
	f.Add("result[0] >= 0.99", "", 0.995, true)
	f.Add("", "result[0] < 0.5", math.NaN(), true)
	f.Add("isNaN(result[0])", "isInf(result[0])", math.Inf(1), true)
	f.Add("len(result) == 0 || result[0] > 1", "result[0] > 2", 0.0, false)
	f.Add("asInt('x') == 1", "", 1.0, true)
	f.Add("asFloat(result[0]) > 1", "default(result, [1])[0] > 3", 2.0, true)
	f.Add("result[0] > 'x'", "nope(", 1.0, true)
	f.Fuzz(func(t *testing.T, success, failure string, v float64, hasValue bool) {
		vals := []float64{}
		if hasValue {
			vals = []float64{v}
		}
		m := v1alpha1.Metric{SuccessCondition: success, FailureCondition: failure}
		got, err := conditionsPhase(vals, m)
		switch got {
		case successful, failed, inconclusive:
			if err != nil {
				t.Fatalf("phase %s with error %v", got, err)
			}
		case errored:
			if err == nil {
				t.Fatal("Error phase without an error")
			}
		default:
			t.Fatalf("phase %q", got)
		}
		want, wantErr := func() (p v1alpha1.AnalysisPhase, err error) {
			defer func() {
				if r := recover(); r != nil {
					p, err = errored, nil
				}
			}()
			return argoPhase(vals, m)
		}()
		if wantErr != nil {
			want = errored
		}
		if got != want {
			t.Fatalf("success %q failure %q result %v: augur %s (%v), Argo %s (%v)", success, failure, vals, got, err, want, wantErr)
		}
	})
}

// TestScalarResultIsABareNumber pins what Argo's own Prometheus provider
// does with a scalar result: conditions see a bare number (`result >= 0`)
// and the value is unbracketed; a vector stays a list.
func TestScalarResultIsABareNumber(t *testing.T) {
	p := newProvider(t)
	data := podinfoData("identical.om")
	tests := []struct {
		query, cond, wantValue string
		want                   v1alpha1.AnalysisPhase
	}{
		{"scalar(vector(0.5))", "result >= 0.5", "0.5", v1alpha1.AnalysisPhaseSuccessful},
		{"scalar(vector(0.5))", "result < 0.5", "0.5", v1alpha1.AnalysisPhaseFailed},
		{"vector(0.5)", "result[0] >= 0.5", "[0.5]", v1alpha1.AnalysisPhaseSuccessful},
		{"vector(0.5)", "result >= 0.5", "[0.5]", v1alpha1.AnalysisPhaseError},
	}
	for _, tt := range tests {
		m := p.Run(nil, metric(t, "m", obj{"data": data, "query": tt.query}, tt.cond, ""))
		if m.Phase != tt.want || m.Value != tt.wantValue {
			t.Errorf("%s with %q: phase %s value %q (%s), want %s %q", tt.query, tt.cond, m.Phase, m.Value, m.Message, tt.want, tt.wantValue)
		}
	}
}
