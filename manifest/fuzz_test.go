package manifest

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/augurproj/augur/analysis"
)

// FuzzDecode feeds any bytes to DecodeBytes. It must never panic; an error
// must be made of *Errors; a decoded Set must hold well-formed objects, and
// re-encoding it to JSON and decoding that must give an equal Set.
func FuzzDecode(f *testing.F) {
	seeds, err := filepath.Glob("testdata/*.yaml")
	if err != nil {
		f.Fatal(err)
	}
	seeds = append(seeds, "../testdata/podinfo/canary.yaml", "../testdata/podinfo/metrictemplate.yaml")
	for _, s := range seeds {
		b, err := os.ReadFile(s)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`{"apiVersion":"flagger.app/v1beta1","kind":"Canary","metadata":{"name":"x"},"spec":{"service":{"port":1,"match":[{"a":-0.0}]}}}`))
	f.Add([]byte("apiVersion: v1\nkind: List\nitems: [{apiVersion: flagger.app/v1beta1, kind: MetricTemplate, metadata: {name: a}}]"))
	f.Fuzz(func(t *testing.T, data []byte) {
		set, err := DecodeBytes(data, "fuzz")
		if err != nil {
			if set != nil {
				t.Fatal("error with a non-nil set")
			}
			checkErrors(t, err)
			return
		}
		for i := range set.Canaries {
			c := &set.Canaries[i]
			if c.APIVersion != analysis.APIVersion || c.Kind != analysis.KindCanary || c.Metadata.Namespace == "" {
				t.Fatalf("canary %d not normalised: %q %q namespace %q", i, c.APIVersion, c.Kind, c.Metadata.Namespace)
			}
			if _, ok := set.Sources[CanaryKey(c)]; !ok {
				t.Fatalf("canary %d has no source", i)
			}
		}
		for i := range set.Templates {
			tm := &set.Templates[i]
			if tm.APIVersion != analysis.APIVersion || tm.Kind != analysis.KindMetricTemplate || tm.Metadata.Namespace == "" {
				t.Fatalf("template %d not normalised", i)
			}
			if _, ok := set.Sources[TemplateKey(tm)]; !ok {
				t.Fatalf("template %d has no source", i)
			}
		}
		out, err := EncodeJSON(set)
		if err != nil {
			t.Fatalf("encode: %v", err)
		}
		again, err := DecodeBytes(out, "re-encoded")
		if err != nil {
			t.Fatalf("decoding the re-encoded set: %v\n%s", err, out)
		}
		equalSets(t, set, again)
		// Validation and resolution must not panic either, and only report *Errors.
		for _, err := range []error{Validate(set), Resolve(set)} {
			if err != nil {
				checkErrors(t, err)
				if !errors.Is(err, ErrInvalid) && !errors.Is(err, ErrUnresolved) && !errors.Is(err, ErrDuplicate) {
					t.Fatalf("unexpected error class: %v", err)
				}
			}
		}
	})
}
