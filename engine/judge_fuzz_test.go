package engine_test

import (
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/augurproj/augur/analysis"
	"github.com/augurproj/augur/engine"
)

// FuzzParseJudgeList checks the list form of judge settings: no panic,
// trimmed non-empty keys, and that writing a parsed list back (sorted
// key=value pairs joined by commas) parses to the same settings.
func FuzzParseJudgeList(f *testing.F) {
	for _, s := range []string{"", "judge=histogram,window=5m", `judge=error-rate,requestsQuery=sum(x{a="b",c="d"}),errorsQuery=y`,
		"alpha=0.1,alpha=0.2", "x=,requestsQuery=", "=", ",", "judge", "a=b=c,window= 1m ", "baselineQuery=x,judge=,window"} {
		f.Add(s)
	}
	known := engine.JudgeKeys()
	f.Fuzz(func(t *testing.T, s string) {
		kv, err := engine.ParseJudgeList(s, known)
		if err != nil {
			return
		}
		var parts []string
		for _, k := range slices.Sorted(maps.Keys(kv)) {
			if k == "" || strings.TrimSpace(k) != k || strings.Contains(k, "=") {
				t.Fatalf("key %q from %q", k, s)
			}
			if v := kv[k]; strings.TrimSpace(v) != v {
				t.Fatalf("value %q of %s is not trimmed", v, k)
			}
			parts = append(parts, k+"="+kv[k])
		}
		again, err := engine.ParseJudgeList(strings.Join(parts, ","), known)
		if err != nil {
			t.Fatalf("%q parsed to %v, which does not parse back: %v", s, kv, err)
		}
		if !maps.Equal(kv, again) {
			t.Fatalf("%q parsed to %v, written back and parsed to %v", s, kv, again)
		}
	})
}

// FuzzParseJudgeSpec checks judge settings from a Canary annotation: no
// panic, errors that say which configuration is invalid, and a valid
// specification whose statistics configuration validates and whose data
// keys are judge keys.
func FuzzParseJudgeSpec(f *testing.F) {
	for _, s := range []string{"judge=histogram,window=5m", "judge=sequential,margin=0.005,tau=1", "judge=error-rate,requestsQuery=r,errorsQuery=e",
		"judge=threshold,windw=1", "window=-1m", "bucketsQuery=b", "alpha=NaN", "minPoints=99999999999999999999", "step=1ns,window=1h"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c := analysis.Canary{Metadata: analysis.ObjectMeta{Name: "c", Namespace: "n", Annotations: map[string]string{"judge.augur.dev/m": s}},
			Spec: analysis.CanarySpec{TargetRef: analysis.CrossNamespaceObjectReference{Name: "t"},
				Analysis: &analysis.Analysis{Metrics: []analysis.Metric{{Name: "m", Query: "q"}}}}}
		all, err := engine.CanaryJudges(&c, nil)
		if err != nil {
			if !strings.Contains(err.Error(), "invalid judge configuration") {
				t.Fatalf("error without context: %v", err)
			}
			return
		}
		spec, err := engine.ParseJudgeSpec(all["m"])
		if err != nil {
			if !strings.Contains(err.Error(), "invalid judge configuration") {
				t.Fatalf("error without context: %v", err)
			}
			return
		}
		if spec == nil {
			if all["m"]["judge"] != engine.JudgeThreshold {
				t.Fatalf("no specification without judge=threshold: %v", all["m"])
			}
			return
		}
		if err := spec.Config.Validate(); err != nil {
			t.Fatalf("valid specification with an invalid configuration: %v", err)
		}
		if spec.Window < 0 || spec.Step < 0 {
			t.Fatalf("negative window %s or step %s", spec.Window, spec.Step)
		}
		for k := range spec.Queries {
			if !slices.Contains(engine.JudgeKeys(), k) {
				t.Fatalf("query key %q is not a judge key", k)
			}
		}
	})
}
