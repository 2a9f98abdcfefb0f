package recorded

import (
	"strings"
	"testing"
	"time"
)

// TestNotationErrorsNameTheText: a parse error of the values names the term
// the author wrote and its column in the values, not a position in the
// parser's joined text (`1:81`) nor the digit the lexer stopped at.
func TestNotationErrorsNameTheText(t *testing.T) {
	const series = `http_requests_total{job="api",instance="a:1"}`
	tests := []struct{ values, want string }{
		{"0+1y40", `input series 0 (` + series + `): values: "0+1y40" (term 1, column 1): bad number syntax: "1"`},
		{"1 2 abc", `input series 0 (` + series + `): values: "abc" (term 3, column 5): unexpected identifier "abc" in series values, expected number or "stale"`},
		{"0+1x3 4 5 0+1y40", `input series 0 (` + series + `): values: "0+1y40" (term 4, column 11): bad number syntax: "1"`},
	}
	for _, tt := range tests {
		_, err := LoadSeries([]SeriesInput{{Series: series, Values: tt.values}}, time.Unix(0, 0), time.Minute)
		if err == nil || err.Error() != tt.want {
			t.Errorf("values %q:\n got %v\nwant %s", tt.values, err, tt.want)
		}
	}
}

// TestRateOverOneMinuteSpacing pins the README's note on template tests: a
// rate over 1m of input spaced 1m apart has no values (a left-open range
// holds one sample); 15s spacing or a 2m range has.
func TestRateOverOneMinuteSpacing(t *testing.T) {
	at := time.Unix(600, 0)
	for _, c := range []struct {
		interval time.Duration
		query    string
		values   bool
	}{
		{time.Minute, `rate(x[1m])`, false},
		{15 * time.Second, `rate(x[1m])`, true},
		{time.Minute, `rate(x[2m])`, true},
	} {
		store, err := LoadSeries([]SeriesInput{{Series: `x`, Values: `0+60x40`}}, time.Unix(0, 0), c.interval)
		if err != nil {
			t.Fatal(err)
		}
		_, err = New(store, Options{}).Query(t.Context(), c.query, at)
		if (err == nil) != c.values {
			t.Errorf("%s over input every %s: err %v, want values %v", c.query, c.interval, err, c.values)
		}
	}
}

// TestNotationHugeExpansionsAreRefused: a few bytes of notation that would
// expand to a trillion samples are refused before anything is expanded, with
// a message naming the series (the bound is MaxNotationSamples per series;
// internal/testfile adds one per file).
func TestNotationHugeExpansionsAreRefused(t *testing.T) {
	const series = `http_requests_total{job="api"}`
	tests := []struct{ values, want string }{
		{"0+1x1e12", `input series 0 (` + series + `): values: "0+1x1e12" (term 1, column 1): invalid repetition in series values`},
		{"0+1x1000000000000", `input series 0 (` + series + `): values expand to more than 1048576 samples`},
		{"1 2 _x1048576", `input series 0 (` + series + `): values expand to more than 1048576 samples`},
		{"0+1x99999999999999999999999999", `input series 0 (` + series + `): values expand to more than 1048576 samples`},
		{"stale x1000000000000", `input series 0 (` + series + `): values expand to more than 1048576 samples`},
	}
	for _, tt := range tests {
		_, err := LoadSeries([]SeriesInput{{Series: series, Values: tt.values}}, time.Unix(0, 0), time.Minute)
		if err == nil || !strings.HasPrefix(err.Error(), tt.want) {
			t.Errorf("values %q:\n got %v\nwant %s…", tt.values, err, tt.want)
		}
	}
	// An expansion just under the bound loads (a few MB in chunks).
	s, err := LoadSeries([]SeriesInput{{Series: series, Values: "0+1x1048000"}}, time.Unix(0, 0), time.Second)
	if err != nil || s.SampleCount() != 1048001 {
		t.Fatalf("0+1x1048000: %v, %v", s, err)
	}
}
