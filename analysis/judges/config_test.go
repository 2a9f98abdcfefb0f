package judges

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseConfig(t *testing.T) {
	tests := []struct {
		name    string
		kv      map[string]string
		want    Config
		wantErr []error  // every one must be wrapped
		errHas  []string // every one must appear
	}{
		{name: "empty", kv: map[string]string{}, want: Config{}},
		{
			name: "kayenta keys",
			kv: map[string]string{
				"judge": "mann-whitney", "direction": "increase", "effectSize": "cles", "allowedIncrease": "0.6",
				"allowedDecrease": "0.4", "criticalIncrease": "0.9", "nanStrategy": "replace", "outlierFactor": "0",
				"critical": "true", "mustHaveData": "1", "minPoints": "8", "weight": "40", "group": "latency",
			},
			want: Config{Judge: KindMannWhitney, Direction: DirectionIncrease, EffectSize: EffectCLES, AllowedIncrease: ptr(0.6),
				AllowedDecrease: ptr(0.4), CriticalIncrease: ptr(0.9), NaNStrategy: NaNReplace, OutlierFactor: ptr(0.0),
				Critical: true, MustHaveData: true, MinPoints: 8, Weight: ptr(40.0), Group: "latency"},
		},
		{
			name: "error rate",
			kv:   map[string]string{"judge": "error-rate", "allowedIncrease": "1.2", "alpha": "0.01", "minRequests": "500"},
			want: Config{Judge: KindErrorRate, AllowedIncrease: ptr(1.2), Alpha: 0.01, MinRequests: 500},
		},
		{
			name: "sequential",
			kv:   map[string]string{"judge": "sequential", "margin": "0.005", "tau": "0.2", "direction": "either"},
			want: Config{Judge: KindSequential, Margin: 0.005, Tau: 0.2, Direction: DirectionEither},
		},
		{name: "unknown key", kv: map[string]string{"allowedIncrese": "1.1"}, wantErr: []error{ErrUnknownKey}, errHas: []string{`key "allowedIncrese"`}},
		{name: "bad direction", kv: map[string]string{"direction": "up"}, wantErr: []error{ErrInvalidValue}, errHas: []string{`key "direction"`, "increase, decrease or either"}},
		{name: "bad judge", kv: map[string]string{"judge": "kayenta"}, wantErr: []error{ErrInvalidValue}, errHas: []string{`key "judge"`}},
		{name: "bad number", kv: map[string]string{"judge": "error-rate", "alpha": "five percent"}, wantErr: []error{ErrInvalidValue}, errHas: []string{`key "alpha"`, `"five percent"`}},
		{name: "alpha out of range", kv: map[string]string{"judge": "error-rate", "alpha": "0.9"}, wantErr: []error{ErrInvalidValue}, errHas: []string{`key "alpha"`}},
		{name: "NaN threshold", kv: map[string]string{"allowedIncrease": "NaN"}, wantErr: []error{ErrInvalidValue}, errHas: []string{`key "allowedIncrease"`}},
		{name: "cles above one", kv: map[string]string{"effectSize": "cles", "allowedIncrease": "1.5"}, wantErr: []error{ErrInvalidValue}, errHas: []string{"probability"}},
		{name: "minPoints not an integer", kv: map[string]string{"minPoints": "2.5"}, wantErr: []error{ErrInvalidValue}, errHas: []string{`key "minPoints"`}},
		{name: "minPoints negative", kv: map[string]string{"minPoints": "-1"}, wantErr: []error{ErrInvalidValue}, errHas: []string{`key "minPoints"`}},
		{name: "bool", kv: map[string]string{"critical": "maybe"}, wantErr: []error{ErrInvalidValue}, errHas: []string{`key "critical"`}},
		{name: "weight", kv: map[string]string{"weight": "150"}, wantErr: []error{ErrInvalidValue}, errHas: []string{`key "weight"`}},
		{name: "nan strategy", kv: map[string]string{"nanStrategy": "zero"}, wantErr: []error{ErrInvalidValue}, errHas: []string{`key "nanStrategy"`}},
		{name: "effect size", kv: map[string]string{"effectSize": "cohen"}, wantErr: []error{ErrInvalidValue}, errHas: []string{`key "effectSize"`}},
		{name: "tau", kv: map[string]string{"judge": "sequential", "tau": "-0.1"}, wantErr: []error{ErrInvalidValue}, errHas: []string{`key "tau"`}},
		{name: "outlier factor", kv: map[string]string{"outlierFactor": "-3"}, wantErr: []error{ErrInvalidValue}, errHas: []string{`key "outlierFactor"`}},
		{name: "tau for mann-whitney", kv: map[string]string{"tau": "0.2"}, wantErr: []error{ErrNotApplicable}, errHas: []string{`key "tau"`, `"mann-whitney"`}},
		{name: "alpha for mann-whitney", kv: map[string]string{"alpha": "0.01"}, wantErr: []error{ErrNotApplicable}, errHas: []string{`key "alpha"`}},
		{name: "outliers for error-rate", kv: map[string]string{"judge": "error-rate", "outlierFactor": "2"}, wantErr: []error{ErrNotApplicable}, errHas: []string{`key "outlierFactor"`}},
		{name: "margin for histogram", kv: map[string]string{"judge": "histogram", "margin": "2"}, wantErr: []error{ErrNotApplicable}, errHas: []string{`key "margin"`}},
		{
			name: "all problems at once", kv: map[string]string{"direction": "up", "bogus": "1", "minPoints": "x"},
			wantErr: []error{ErrUnknownKey, ErrInvalidValue}, errHas: []string{`"bogus"`, `"minPoints"`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseConfig(tt.kv)
			if len(tt.wantErr) == 0 {
				if err != nil {
					t.Fatal(err)
				}
				if diff := cmp.Diff(tt.want, got); diff != "" {
					t.Errorf("(-want +got):\n%s", diff)
				}
				back, err := ParseConfig(got.Map())
				if err != nil {
					t.Fatalf("round trip: %v", err)
				}
				if diff := cmp.Diff(got, back); diff != "" {
					t.Errorf("Map round trip (-want +got):\n%s", diff)
				}
				return
			}
			for _, want := range tt.wantErr {
				if !errors.Is(err, want) {
					t.Errorf("error %v does not wrap %v", err, want)
				}
			}
			for _, s := range tt.errHas {
				if err == nil || !strings.Contains(err.Error(), s) {
					t.Errorf("error %v does not mention %s", err, s)
				}
			}
		})
	}
}

func TestWithDefaults(t *testing.T) {
	tests := []struct {
		name string
		in   Config
		want Config
	}{
		{
			name: "mann-whitney (Kayenta's defaults)",
			in:   Config{},
			want: Config{Judge: KindMannWhitney, Direction: DirectionEither, EffectSize: EffectMeanRatio,
				AllowedIncrease: ptr(1.0), AllowedDecrease: ptr(1.0), CriticalIncrease: ptr(1.0), CriticalDecrease: ptr(1.0),
				NaNStrategy: NaNRemove, OutlierFactor: ptr(3.0), MinPoints: 5, Group: "default"},
		},
		{
			name: "cles thresholds default to one half",
			in:   Config{EffectSize: EffectCLES, AllowedIncrease: ptr(0.7)},
			want: Config{Judge: KindMannWhitney, Direction: DirectionEither, EffectSize: EffectCLES,
				AllowedIncrease: ptr(0.7), AllowedDecrease: ptr(0.5), CriticalIncrease: ptr(0.5), CriticalDecrease: ptr(0.5),
				NaNStrategy: NaNRemove, OutlierFactor: ptr(3.0), MinPoints: 5, Group: "default"},
		},
		{
			name: "error-rate",
			in:   Config{Judge: KindErrorRate},
			want: Config{Judge: KindErrorRate, Direction: DirectionIncrease, AllowedIncrease: ptr(1.0), AllowedDecrease: ptr(1.0),
				MinRequests: 100, Alpha: 0.05, Group: "default"},
		},
		{
			name: "histogram",
			in:   Config{Judge: KindHistogram},
			want: Config{Judge: KindHistogram, Direction: DirectionIncrease, EffectSize: EffectMeanRatio,
				AllowedIncrease: ptr(1.0), AllowedDecrease: ptr(1.0), CriticalIncrease: ptr(1.0), CriticalDecrease: ptr(1.0),
				MinRequests: 100, Alpha: 0.05, Group: "default"},
		},
		{
			name: "sequential",
			in:   Config{Judge: KindSequential, Group: "errors"},
			want: Config{Judge: KindSequential, Direction: DirectionIncrease, NaNStrategy: NaNRemove, MinPoints: 20,
				MinRequests: 100, Alpha: 0.05, Tau: 0.1, Group: "errors"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, tt.in.WithDefaults()); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
			if err := tt.want.Validate(); err != nil {
				t.Errorf("defaults do not validate: %v", err)
			}
		})
	}
}

func TestConfigKeys(t *testing.T) {
	for _, k := range ConfigKeys() {
		// Every listed key is accepted by some judge.
		ok := false
		for _, j := range []Kind{KindMannWhitney, KindErrorRate, KindHistogram, KindSequential} {
			ok = ok || appliesTo(j, k)
		}
		if !ok {
			t.Errorf("key %q applies to no judge", k)
		}
	}
	if len(ConfigKeys()) != 18 {
		t.Errorf("%d keys, want 18", len(ConfigKeys()))
	}
}
