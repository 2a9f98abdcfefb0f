package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/augurproj/augur/metrics"
	"github.com/augurproj/augur/metrics/recorded"
)

var update = flag.Bool("update", false, "rewrite golden files")

// committed is where the datasets live in the repository.
var committed = filepath.Join("..", "..", "testdata", "podinfo")

var wantFiles = []string{"healthy.om", "identical.om", "latency-regression.om", "no-traffic.om", "noisy-equal.om", "not-found-climb.om", "slow.om"}

func readDir(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join(dir, "*.om"))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]byte{}
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		out[filepath.Base(p)] = data
	}
	return out
}

// firstDiff describes where two big files first differ.
func firstDiff(a, b []byte) string {
	la, lb := bytes.Split(a, []byte{'\n'}), bytes.Split(b, []byte{'\n'})
	for i := range min(len(la), len(lb)) {
		if !bytes.Equal(la[i], lb[i]) {
			return fmt.Sprintf("line %d:\n  have %s\n  want %s", i+1, la[i], lb[i])
		}
	}
	return fmt.Sprintf("%d lines vs %d lines", len(la), len(lb))
}

func TestGenerationIsDeterministic(t *testing.T) {
	dirs := []string{t.TempDir(), t.TempDir()}
	for _, d := range dirs {
		if err := run([]string{"-out", d}, io.Discard); err != nil {
			t.Fatal(err)
		}
	}
	first, second := readDir(t, dirs[0]), readDir(t, dirs[1])
	if got := slices.Sorted(func(yield func(string) bool) {
		for k := range first {
			if !yield(k) {
				return
			}
		}
	}); !slices.Equal(got, wantFiles) {
		t.Fatalf("files = %v, want %v", got, wantFiles)
	}
	for _, name := range wantFiles {
		if !bytes.Equal(first[name], second[name]) {
			t.Errorf("%s differs between two runs: %s", name, firstDiff(second[name], first[name]))
		}
	}
}

func TestSeedChangesTheData(t *testing.T) {
	a, b := generate(1), generate(2)
	for _, name := range wantFiles {
		if bytes.Equal(a[name], b[name]) {
			t.Errorf("%s is the same for seeds 1 and 2", name)
		}
	}
}

// TestCommittedDatasetsAreFresh fails when testdata/podinfo/*.om differ from
// what the generator writes (run `go run ./internal/gendata -out
// testdata/podinfo` from the repository root, or this test with -update).
func TestCommittedDatasetsAreFresh(t *testing.T) {
	fresh := generate(defaultSeed)
	if *update {
		if err := run([]string{"-out", committed}, io.Discard); err != nil {
			t.Fatal(err)
		}
	}
	have := readDir(t, committed)
	for _, name := range wantFiles {
		data, ok := have[name]
		switch {
		case !ok:
			t.Errorf("%s is missing from %s", name, committed)
		case !bytes.Equal(data, fresh[name]):
			t.Errorf("%s is not what gendata writes (regenerate it, do not edit it): %s", name, firstDiff(data, fresh[name]))
		}
		delete(have, name)
	}
	for name := range have {
		t.Errorf("%s/%s is not written by gendata", committed, name)
	}
}

func TestRunErrors(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		wantErr string
	}{
		{"unknown flag", []string{"-bogus"}, "flag provided but not defined: -bogus"},
		{"bad seed", []string{"-seed", "x"}, `invalid value "x" for flag -seed: parse error`},
		{"extra argument", []string{"-out", t.TempDir(), "extra"}, `unexpected arguments ["extra"]`},
		{"missing directory", []string{"-out", filepath.Join(t.TempDir(), "nope")}, "writing dataset: open "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := run(tt.args, io.Discard)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("error = %v, want it to contain %q", err, tt.wantErr)
			}
		})
	}
}

func TestSeconds(t *testing.T) {
	tests := []struct {
		at   time.Time
		want string
	}{
		{time.Date(2026, 11, 1, 9, 58, 7, 500_000_000, time.UTC), "1793527087.5"},
		{time.Unix(60, 0), "60"},
		{time.Unix(60, 120_000_000), "60.12"},
		{time.Unix(60, 1_000_000), "60.001"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			if got := seconds(tt.at); got != tt.want {
				t.Errorf("seconds(%s) = %q, want %q", tt.at, got, tt.want)
			}
		})
	}
}

func loadCommitted(t *testing.T, name string) *recorded.Store {
	t.Helper()
	s, err := recorded.LoadOpenMetricsFile(filepath.Join(committed, name))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestDatasetLayout checks the shape the README promises: the time range,
// the series, the off-grid scrape times and the le values.
func TestDatasetLayout(t *testing.T) {
	first := time.Date(2026, 11, 1, 9, 58, 7, 500_000_000, time.UTC)
	last := time.Date(2026, 11, 1, 10, 29, 52, 500_000_000, time.UTC)
	tests := []struct {
		file       string
		workloads  []string
		wantSeries int
	}{
		{"healthy.om", []string{canary, primary}, 2 * 3 * (1 + len(bucketLabels) + 2)},
		{"not-found-climb.om", []string{canary, primary}, 2 * 3 * (1 + len(bucketLabels) + 2)},
		{"slow.om", []string{canary, primary}, 2 * 3 * (1 + len(bucketLabels) + 2)},
		{"no-traffic.om", []string{primary}, 3 * (1 + len(bucketLabels) + 2)},
		{"latency-regression.om", []string{canary, primary}, 2 * 3 * (1 + len(bucketLabels) + 2)},
		{"identical.om", []string{canary, primary}, 2 * 3 * (1 + len(bucketLabels) + 2)},
		{"noisy-equal.om", []string{canary, primary}, 2 * 3 * (1 + len(bucketLabels) + 2)},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			s := loadCommitted(t, tt.file)
			if !s.Start().Equal(first) || !s.End().Equal(last) {
				t.Errorf("time range %s – %s, want %s – %s", s.Start(), s.End(), first, last)
			}
			if s.SeriesCount() != tt.wantSeries || s.SampleCount() != tt.wantSeries*128 {
				t.Errorf("%d series, %d samples; want %d series of 128 samples", s.SeriesCount(), s.SampleCount(), tt.wantSeries)
			}
			workloads := map[string]bool{}
			les := map[string]bool{}
			for _, ser := range s.Series() {
				workloads[ser.Labels["destination_workload"]] = true
				if le, ok := ser.Labels["le"]; ok {
					les[le] = true
				}
				if ser.Labels["reporter"] != "destination" || ser.Labels["destination_workload_namespace"] != namespace {
					t.Fatalf("series %v lacks Istio's destination labels", ser.Labels)
				}
				for _, smp := range ser.Samples {
					if off := smp.T.Sub(smp.T.Truncate(scrapeInterval)); off != scrapeOffset {
						t.Fatalf("sample of %v at %s is %s past the 15s grid, want 7.5s", ser.Labels, smp.T, off)
					}
				}
			}
			if got := slices.Sorted(keys(workloads)); !slices.Equal(got, slices.Sorted(slices.Values(tt.workloads))) {
				t.Errorf("workloads %v, want %v", got, tt.workloads)
			}
			// The loader normalises le values of histogram families, so equal
			// sets mean the text already carries Prometheus's normal form.
			if diff := cmp.Diff(slices.Sorted(slices.Values(bucketLabels)), slices.Sorted(keys(les))); diff != "" {
				t.Errorf("le values (-want +got):\n%s", diff)
			}
		})
	}
}

func keys(m map[string]bool) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// outcome judges one query result at minute m of the analysis window.
type outcome func(m int, v float64, err error) error

func atLeast(lo float64) outcome {
	return func(_ int, v float64, err error) error {
		if err != nil || v < lo {
			return fmt.Errorf("%v, %v; want ≥ %v", v, err, lo)
		}
		return nil
	}
}

func atMost(hi float64) outcome {
	return func(_ int, v float64, err error) error {
		if err != nil || v > hi {
			return fmt.Errorf("%v, %v; want ≤ %v", v, err, hi)
		}
		return nil
	}
}

func above(lo float64) outcome {
	return func(_ int, v float64, err error) error {
		if err != nil || v <= lo {
			return fmt.Errorf("%v, %v; want > %v", v, err, lo)
		}
		return nil
	}
}

func noValues(_ int, v float64, err error) error {
	if !errors.Is(err, metrics.ErrNoValues) {
		return fmt.Errorf("%v, %v; want no values found", v, err)
	}
	return nil
}

// climbing checks the not-found share of the not-found-climb canary: below 5
// over the first minutes, then above 5 from its first crossing (between
// minutes 2 and 5) to the end, and above 15 at the end.
func climbing() outcome {
	crossed := -1
	return func(m int, v float64, err error) error {
		switch {
		case err != nil:
			return err
		case crossed < 0 && v > 5:
			crossed = m
			if m < 2 || m > 5 {
				return fmt.Errorf("%v at minute %d: first above 5 outside minutes 2–5", v, m)
			}
		case crossed >= 0 && v <= 5:
			return fmt.Errorf("%v at minute %d: back under 5 after crossing at minute %d", v, m, crossed)
		case m == 30 && v <= 15:
			return fmt.Errorf("%v at the end; want > 15", v)
		case m == 30 && crossed < 0:
			return errors.New("never above 5")
		}
		return nil
	}
}

func forPrimary(q string) string {
	return strings.NewReplacer(`=~"podinfo"`, `=~"podinfo-primary"`, `="podinfo"`, `="podinfo-primary"`).Replace(q)
}

// TestDatasetOutcomes evaluates Flagger's queries through the recorded
// provider at every minute of the analysis window (10:00 to 10:30) and checks
// the outcome each dataset exists for.
func TestDatasetOutcomes(t *testing.T) {
	type check struct {
		name  string
		query string
		want  outcome
	}
	canaryHealthy := []check{
		{"canary success rate", successRateQuery, atLeast(99)},
		{"canary p99", requestDurationQuery, atMost(500)},
		{"canary not-found share", notFoundPercentageQuery, atMost(5)},
	}
	primaryHealthy := []check{
		{"primary success rate", forPrimary(successRateQuery), atLeast(99)},
		{"primary p99", forPrimary(requestDurationQuery), atMost(500)},
		{"primary not-found share", forPrimary(notFoundPercentageQuery), atMost(5)},
	}
	tests := []struct {
		file   string
		checks []check
	}{
		{"healthy.om", append(slices.Clone(canaryHealthy), primaryHealthy...)},
		{"not-found-climb.om", append([]check{
			canaryHealthy[0], canaryHealthy[1],
			{"canary not-found share climbs", notFoundPercentageQuery, climbing()},
		}, primaryHealthy...)},
		{"slow.om", append([]check{
			canaryHealthy[0], canaryHealthy[2],
			{"canary p99 too slow", requestDurationQuery, above(500)},
		}, primaryHealthy...)},
		{"no-traffic.om", append([]check{
			{"canary success rate", successRateQuery, noValues},
			{"canary p99", requestDurationQuery, noValues},
			{"canary not-found share", notFoundPercentageQuery, noValues},
		}, primaryHealthy...)},
		// Every check passes: the regression hides inside the thresholds,
		// and the noisy pair stays inside them too.
		{"latency-regression.om", append(slices.Clone(canaryHealthy), primaryHealthy...)},
		{"identical.om", append(slices.Clone(canaryHealthy), primaryHealthy...)},
		{"noisy-equal.om", append(slices.Clone(canaryHealthy), primaryHealthy...)},
	}
	ctx := context.Background()
	for _, tt := range tests {
		p := recorded.New(loadCommitted(t, tt.file), recorded.Options{})
		for _, c := range tt.checks {
			t.Run(tt.file+"/"+c.name, func(t *testing.T) {
				lo, hi := math.Inf(1), math.Inf(-1)
				for m := 0; m <= 30; m++ {
					at := analysisStart.Add(time.Duration(m) * time.Minute)
					v, err := p.Query(ctx, c.query, at)
					if bad := c.want(m, v, err); bad != nil {
						t.Errorf("at %s: %v", at.Format("15:04"), bad)
					}
					if err == nil {
						lo, hi = min(lo, v), max(hi, v)
					}
				}
				if lo <= hi {
					t.Logf("range over the window: %.3f … %.3f", lo, hi)
				}
			})
		}
	}
}

// TestPrimaryIsSharedAcrossDatasets checks the README's promise that the
// primary's traffic is the same in every file.
func TestPrimaryIsSharedAcrossDatasets(t *testing.T) {
	primaryOf := func(file string) []metrics.Series {
		var out []metrics.Series
		for _, s := range loadCommitted(t, file).Series() {
			if s.Labels["destination_workload"] == primary {
				out = append(out, s)
			}
		}
		return out
	}
	want := primaryOf("healthy.om")
	if len(want) == 0 {
		t.Fatal("healthy.om has no primary series")
	}
	for _, file := range wantFiles[1:] {
		if file == "noisy-equal.om" {
			continue // its primary is noisy too
		}
		t.Run(file, func(t *testing.T) {
			if diff := cmp.Diff(want, primaryOf(file)); diff != "" {
				t.Errorf("primary differs from healthy.om (-healthy +%s):\n%s", file, diff)
			}
		})
	}
}

// sinceFirst returns a series' sample values minus its first one.
func sinceFirst(s metrics.Series) []float64 {
	out := make([]float64, len(s.Samples))
	for i, smp := range s.Samples {
		out[i] = smp.V - s.Samples[0].V
	}
	return out
}

// TestIdenticalCanaryServesThePrimarysTraffic checks identical.om: every
// canary series counts exactly what the matching primary series counts
// after the first sample.
func TestIdenticalCanaryServesThePrimarysTraffic(t *testing.T) {
	byKey := map[string]metrics.Series{}
	key := func(l map[string]string) string { return l["__name__"] + "/" + l["response_code"] + "/" + l["le"] }
	var canaries []metrics.Series
	for _, s := range loadCommitted(t, "identical.om").Series() {
		switch s.Labels["destination_workload"] {
		case primary:
			byKey[key(s.Labels)] = s
		case canary:
			canaries = append(canaries, s)
		}
	}
	if len(canaries) != len(byKey) || len(canaries) == 0 {
		t.Fatalf("%d canary series, %d primary series", len(canaries), len(byKey))
	}
	for _, c := range canaries {
		p, ok := byKey[key(c.Labels)]
		if !ok {
			t.Fatalf("no primary series for %v", c.Labels)
		}
		if diff := cmp.Diff(sinceFirst(p), sinceFirst(c)); diff != "" {
			t.Errorf("%v: canary increments differ from the primary's (-primary +canary):\n%s", c.Labels, diff)
		}
		if c.Samples[0].V != 0 {
			t.Errorf("%v: the canary's counters start at %v, want 0", c.Labels, c.Samples[0].V)
		}
	}
}

// TestLatencyRegressionIsTenPercent checks latency-regression.om: over the
// whole window, the canary's median and p99 (from its histogram, as
// histogram_quantile interpolates them) and its mean are about 10% above the
// primary's, while everything else matches healthy behaviour.
func TestLatencyRegressionIsTenPercent(t *testing.T) {
	p := recorded.New(loadCommitted(t, "latency-regression.om"), recorded.Options{})
	at := analysisStart.Add(window)
	q := func(query string) float64 {
		v, err := p.Query(context.Background(), query, at)
		if err != nil {
			t.Fatalf("%s: %v", query, err)
		}
		return v
	}
	sel := func(w string) string {
		return `reporter="destination",destination_workload_namespace="test",destination_workload="` + w + `"`
	}
	for _, tt := range []struct {
		name   string
		query  func(w string) string
		lo, hi float64
	}{
		{"median", func(w string) string {
			return `histogram_quantile(0.5, sum by (le) (increase(istio_request_duration_milliseconds_bucket{` + sel(w) + `}[30m])))`
		}, 1.05, 1.15},
		{"p99", func(w string) string {
			return `histogram_quantile(0.99, sum by (le) (increase(istio_request_duration_milliseconds_bucket{` + sel(w) + `}[30m])))`
		}, 1.03, 1.2},
		{"mean", func(w string) string {
			return `sum(increase(istio_request_duration_milliseconds_sum{` + sel(w) + `}[30m])) / sum(increase(istio_request_duration_milliseconds_count{` + sel(w) + `}[30m]))`
		}, 1.05, 1.15},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c, b := q(tt.query(canary)), q(tt.query(primary))
			if r := c / b; r < tt.lo || r > tt.hi {
				t.Errorf("canary %.2f / primary %.2f = %.3f, want within [%v, %v]", c, b, r, tt.lo, tt.hi)
			} else {
				t.Logf("canary %.2f / primary %.2f = %.3f", c, b, r)
			}
		})
	}
}

func TestDurationAndPods(t *testing.T) {
	dir := t.TempDir()
	if err := run([]string{"-out", dir, "-duration", "10m", "-pods", "3", "-only", "healthy.om"}, io.Discard); err != nil {
		t.Fatal(err)
	}
	files := readDir(t, dir)
	if len(files) != 1 {
		t.Fatalf("files = %d, want only healthy.om", len(files))
	}
	data := files["healthy.om"]
	// 2 workloads × 3 pods × 3 codes × (1 counter + 19 buckets + sum + count) series,
	// each with one sample per 15 s over 12 minutes (10m window + 2m lead).
	samples := bytes.Count(data, []byte("\n")) - 6
	if want := 2 * 3 * 3 * 22 * 48; samples != want {
		t.Errorf("samples = %d, want %d", samples, want)
	}
	for _, pod := range []string{`pod="podinfo-7d4b9c8f5-0"`, `pod="podinfo-primary-7d4b9c8f5-2"`} {
		if !bytes.Contains(data, []byte(pod)) {
			t.Errorf("no series with %s", pod)
		}
	}
	if bytes.Contains(data, []byte(`pod="podinfo-7d4b9c8f5-3"`)) {
		t.Error("a fourth pod was written")
	}
	for _, args := range [][]string{{"-pods", "-1"}, {"-pods", "101"}, {"-duration", "1s"}, {"-duration", "200h"}, {"-only", "nope.om"}} {
		if err := run(append([]string{"-out", dir}, args...), io.Discard); err == nil {
			t.Errorf("%v: no error", args)
		}
	}
}
