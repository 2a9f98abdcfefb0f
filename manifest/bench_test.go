package manifest

import (
	"os"
	"testing"
)

// BenchmarkDecode decodes the podinfo canary and its metric template.
func BenchmarkDecode(b *testing.B) {
	for _, name := range []string{"canary.yaml", "metrictemplate.yaml"} {
		data, err := os.ReadFile("../testdata/podinfo/" + name)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				if _, err := DecodeBytes(data, name); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkDecodeJSON decodes the podinfo objects re-encoded as a JSON List,
// the shape the HTTP server receives.
func BenchmarkDecodeJSON(b *testing.B) {
	set, err := DecodePaths([]string{"../testdata/podinfo/canary.yaml", "../testdata/podinfo/metrictemplate.yaml"})
	if err != nil {
		b.Fatal(err)
	}
	data, err := EncodeJSON(set)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := DecodeBytes(data, "body"); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkValidate validates the podinfo objects.
func BenchmarkValidate(b *testing.B) {
	set, err := DecodePaths([]string{"../testdata/podinfo/canary.yaml", "../testdata/podinfo/metrictemplate.yaml"})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if err := Validate(set); err != nil {
			b.Fatal(err)
		}
	}
}
