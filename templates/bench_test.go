package templates

import (
	"strings"
	"testing"
)

func istioSuccessRate(b *testing.B) string {
	b.Helper()
	text, err := BuiltinQuery(ObserverIstio, MetricRequestSuccessRate)
	if err != nil {
		b.Fatal(err)
	}
	return text
}

// BenchmarkRender parses and executes the istio success-rate query on every
// iteration.
func BenchmarkRender(b *testing.B) {
	text := istioSuccessRate(b)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Render("istio", text, podinfo); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCompile measures parsing alone.
func BenchmarkCompile(b *testing.B) {
	text := istioSuccessRate(b)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Compile("istio", text); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkExecute executes a compiled istio success-rate query (the pooled
// clone path every engine tick takes).
func BenchmarkExecute(b *testing.B) {
	tmpl, err := Compile("istio", istioSuccessRate(b))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := tmpl.Execute(podinfo); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkExecuteCloneEachCall is the alternative design Execute avoids:
// clone the parsed template and rebind the functions on every call.
func BenchmarkExecuteCloneEachCall(b *testing.B) {
	tmpl, err := Compile("istio", istioSuccessRate(b))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		c, err := tmpl.base.Clone()
		if err != nil {
			b.Fatal(err)
		}
		bd := &binding{m: podinfo}
		c.Funcs(bd.funcs())
		var sb strings.Builder
		if err := c.Execute(&sb, nil); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCollapse collapses the rendered istio success-rate query.
func BenchmarkCollapse(b *testing.B) {
	tmpl, err := Compile("istio", istioSuccessRate(b))
	if err != nil {
		b.Fatal(err)
	}
	q, err := tmpl.Execute(podinfo)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if Collapse(q) == "" {
			b.Fatal("empty")
		}
	}
}
