package judges

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func res(metric, group string, weight *float64, class Classification, critical, veto bool) Result {
	return Result{Metric: metric, Group: group, Weight: weight, Classification: class, Verdict: class.Verdict(), Critical: critical, Veto: veto}
}

func TestScore(t *testing.T) {
	w := func(v float64) *float64 { return &v }
	tests := []struct {
		name      string
		cfg       ScoreConfig
		results   []Result
		wantClass ScoreClass
		wantScore *float64
		ruleHas   string
		groups    []GroupScore // checked when set
	}{
		{name: "all pass", results: []Result{res("a", "", nil, ClassPass, false, false), res("b", "", nil, ClassPass, false, false)},
			wantClass: ScorePass, wantScore: w(100)},
		{
			// Kayenta: 0.6·50 + 0.4·100 = 70 < 75 → Fail.
			name: "weighted groups",
			results: []Result{
				res("a1", "A", w(60), ClassPass, false, false), res("a2", "A", w(60), ClassHigh, false, false),
				res("b1", "B", w(40), ClassPass, false, false), res("b2", "B", nil, ClassPass, false, false),
			},
			wantClass: ScoreFail, wantScore: w(70), ruleHas: "below marginal 75",
			groups: []GroupScore{{Name: "A", Score: w(50), Weight: 60, Passed: 1, Failed: 1}, {Name: "B", Score: w(100), Weight: 40, Passed: 2}},
		},
		{
			// A has 50; B and C share the other 50: 25 each. Scores 100, 0,
			// 100 → (50·100 + 25·0 + 25·100)/100 = 75 → Marginal.
			name: "unweighted groups share the rest",
			results: []Result{
				res("a", "A", w(50), ClassPass, false, false), res("b", "B", nil, ClassLow, false, false), res("c", "C", nil, ClassPass, false, false),
			},
			wantClass: ScoreMarginal, wantScore: w(75), ruleHas: "Marginal",
		},
		{
			// 2 of 3 pass: 66.666… rounds to 66.67.
			name: "rounding", results: []Result{res("a", "", nil, ClassPass, false, false), res("b", "", nil, ClassPass, false, false), res("c", "", nil, ClassNodataFailMetric, false, false)},
			wantClass: ScoreFail, wantScore: w(66.67),
		},
		{name: "custom thresholds", cfg: ScoreConfig{Pass: w(60), Marginal: w(50)},
			results:   []Result{res("a", "", nil, ClassPass, false, false), res("b", "", nil, ClassPass, false, false), res("c", "", nil, ClassHigh, false, false)},
			wantClass: ScorePass, wantScore: w(66.67)},
		{name: "critical failure vetoes", results: []Result{res("a", "", nil, ClassPass, false, false), res("lat", "", nil, ClassHigh, true, true)},
			wantClass: ScoreFail, wantScore: w(0), ruleHas: `critical metric "lat"`},
		{
			// Kayenta gap: a critical metric whose classification errored keeps
			// critical=false and vanishes; here it vetoes.
			name: "critical error vetoes", results: []Result{res("a", "", nil, ClassPass, false, false), res("b", "", nil, ClassPass, false, false), res("err", "", nil, ClassError, true, true)},
			wantClass: ScoreFail, wantScore: w(0), ruleHas: `"err"`,
		},
		{name: "critical nodata vetoes", results: []Result{res("a", "", nil, ClassPass, false, false), res("b", "", nil, ClassPass, false, false), res("nd", "", nil, ClassNodata, true, true)},
			wantClass: ScoreFail, wantScore: w(0)},
		{name: "half nodata fails", results: []Result{res("a", "", nil, ClassPass, false, false), res("b", "", nil, ClassNodata, false, false)},
			wantClass: ScoreFail, wantScore: w(0), ruleHas: "1 of 2 metrics have no data"},
		{name: "errors count as no data", results: []Result{res("a", "", nil, ClassPass, false, false), res("b", "", nil, ClassError, false, false), res("c", "", nil, ClassNodata, false, false)},
			wantClass: ScoreFail, wantScore: w(0)},
		{
			// Kayenta credits a group with only Nodata 100 (here: 0.5·100 +
			// 0.5·50 = 75, Marginal); augur leaves it out: 50 → Fail.
			name: "nodata group left out",
			results: []Result{
				res("a", "A", w(50), ClassNodata, false, false),
				res("b1", "B", w(50), ClassPass, false, false), res("b2", "B", w(50), ClassHigh, false, false),
			},
			wantClass: ScoreFail, wantScore: w(50),
		},
		{
			// Kayenta: 0.4·100 + 0.4·100 = 80 (Marginal) when the weights sum
			// to 80; augur normalises: 100.
			name:      "weights need not sum to 100",
			results:   []Result{res("a", "A", w(40), ClassPass, false, false), res("b", "B", w(40), ClassPass, false, false)},
			wantClass: ScorePass, wantScore: w(100),
		},
		{name: "non-critical undecided is excluded", results: []Result{res("a", "", nil, ClassPass, false, false), res("s", "", nil, ClassUndecided, false, false)},
			wantClass: ScorePass, wantScore: w(100)},
		{name: "critical undecided holds", results: []Result{res("a", "", nil, ClassPass, false, false), res("s", "", nil, ClassUndecided, true, false)},
			wantClass: ScoreNone, ruleHas: `critical metric "s" has not decided`},
		{name: "zero weight", results: []Result{res("a", "A", w(0), ClassPass, false, false), res("b", "A", w(0), ClassPass, false, false)},
			wantClass: ScoreNone, ruleHas: "positive weight"},
		{name: "nothing", results: nil, wantClass: ScoreNone, ruleHas: "no metric results"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Score(tt.cfg, tt.results)
			if err != nil {
				t.Fatal(err)
			}
			if got.Classification != tt.wantClass {
				t.Errorf("classification %v, want %v (%s)", got.Classification, tt.wantClass, got.Rule)
			}
			if diff := cmp.Diff(tt.wantScore, got.Score); diff != "" {
				t.Errorf("score (-want +got):\n%s", diff)
			}
			wantVerdict := map[ScoreClass]Verdict{ScorePass: Pass, ScoreFail: Fail, ScoreMarginal: Inconclusive, ScoreNone: Inconclusive}[tt.wantClass]
			if got.Verdict != wantVerdict {
				t.Errorf("verdict %v, want %v", got.Verdict, wantVerdict)
			}
			if !strings.Contains(got.Rule, tt.ruleHas) {
				t.Errorf("rule %q does not mention %q", got.Rule, tt.ruleHas)
			}
			if tt.groups != nil {
				if diff := cmp.Diff(tt.groups, got.Groups); diff != "" {
					t.Errorf("groups (-want +got):\n%s", diff)
				}
			}
		})
	}
}

func TestScoreErrors(t *testing.T) {
	w := func(v float64) *float64 { return &v }
	_, err := Score(ScoreConfig{}, []Result{res("a", "A", w(30), ClassPass, false, false), res("b", "A", w(20), ClassPass, false, false)})
	if !errors.Is(err, ErrInvalidValue) || !strings.Contains(err.Error(), `group "A"`) {
		t.Errorf("conflicting weights: %v", err)
	}
	_, err = Score(ScoreConfig{Pass: w(70), Marginal: w(80)}, nil)
	if !errors.Is(err, ErrInvalidValue) || !strings.Contains(err.Error(), `"marginal"`) {
		t.Errorf("marginal above pass: %v", err)
	}
}

func TestParseScoreConfig(t *testing.T) {
	tests := []struct {
		name    string
		kv      map[string]string
		want    ScoreConfig
		wantErr error
		errHas  string
	}{
		{name: "empty", kv: nil, want: ScoreConfig{}},
		{name: "both", kv: map[string]string{"pass": "90", "marginal": "50"}, want: ScoreConfig{Pass: ptr(90.0), Marginal: ptr(50.0)}},
		{name: "unknown", kv: map[string]string{"passing": "90"}, wantErr: ErrUnknownKey, errHas: `"passing"`},
		{name: "not a number", kv: map[string]string{"pass": "high"}, wantErr: ErrInvalidValue, errHas: `"pass"`},
		{name: "out of range", kv: map[string]string{"pass": "120"}, wantErr: ErrInvalidValue, errHas: `"pass"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseScoreConfig(tt.kv)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("error = %v, want %v", err, tt.wantErr)
			}
			if err != nil {
				if !strings.Contains(err.Error(), tt.errHas) {
					t.Errorf("error %q does not name %s", err, tt.errHas)
				}
				return
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}
