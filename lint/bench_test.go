package lint

import (
	"os"
	"path/filepath"
	"testing"
)

// BenchmarkLintPodinfo parses the podinfo walkthrough's four files and runs
// every rule: the cost of `augur lint` on them, without process start.
func BenchmarkLintPodinfo(b *testing.B) {
	var inputs [][]byte
	for _, f := range podinfoFiles {
		data, err := os.ReadFile(filepath.Join("..", f))
		if err != nil {
			b.Fatal(err)
		}
		inputs = append(inputs, data)
	}
	b.ReportAllocs()
	for b.Loop() {
		var objs []*Object
		for i, data := range inputs {
			o, err := Parse(data, podinfoFiles[i])
			if err != nil {
				b.Fatal(err)
			}
			objs = append(objs, o...)
		}
		if _, err := Run(objs, Options{}); err != nil {
			b.Fatal(err)
		}
	}
}
