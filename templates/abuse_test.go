package templates

import (
	"errors"
	"runtime"
	"strings"
	"testing"
	"time"
)

// TestHostileTemplatesAreBounded: each of these ran for minutes or
// allocated gigabytes; now each fails fast (parse or execution) within
// generous bounds of time and memory.
func TestHostileTemplatesAreBounded(t *testing.T) {
	if testing.Short() {
		t.Skip("abuse test")
	}
	tests := []struct{ name, text string }{
		{"nested-until", `{{ range until 1000000 }}{{ range until 1000000 }}{{ end }}{{ end }}`},
		{"triple-until", `{{ range until 1000 }}{{ range until 1000 }}{{ range until 1000 }}{{ end }}{{ end }}{{ end }}`},
		{"range-int", `{{ range 1000000000 }}{{ end }}`},
		{"range-variable", `{{ $l := until 1000 }}{{ range $l }}{{ range $l }}{{ range $l }}{{ end }}{{ end }}{{ end }}`},
		{"string-doubling", `{{ $s := "xxxxxxxx" }}{{ range until 40 }}{{ $s = cat $s $s }}{{ end }}{{ len $s }}`},
		{"printf-doubling", `{{ $s := "xxxxxxxx" }}{{ range until 40 }}{{ $s = printf "%s%s" $s $s }}{{ end }}`},
		{"gen-private-key", `{{ genPrivateKey "rsa" }}`},
		{"derive-password", `{{ derivePassword 1 "long" "password" "user" "example.com" }}`},
		{"many-calls", `{{ range until 900000 }}{{ $x := add 1 1 }}{{ end }}`},
		{"template-doubling", `{{ define "a0" }}x{{ end }}{{ define "a1" }}{{ template "a0" }}{{ template "a0" }}{{ end }}` +
			`{{ define "a2" }}{{ template "a1" }}{{ template "a1" }}{{ end }}{{ define "a3" }}{{ template "a2" }}{{ template "a2" }}{{ end }}` +
			`{{ define "a4" }}{{ template "a3" }}{{ template "a3" }}{{ end }}{{ define "a5" }}{{ template "a4" }}{{ template "a4" }}{{ end }}` +
			`{{ define "a6" }}{{ template "a5" }}{{ template "a5" }}{{ end }}{{ define "a7" }}{{ template "a6" }}{{ template "a6" }}{{ end }}` +
			`{{ define "a8" }}{{ template "a7" }}{{ template "a7" }}{{ end }}{{ define "a9" }}{{ template "a8" }}{{ template "a8" }}{{ end }}` +
			`{{ define "a10" }}{{ template "a9" }}{{ template "a9" }}{{ end }}{{ template "a10" }}`},
		{"template-in-range", `{{ define "a" }}{{ end }}{{ range until 10 }}{{ template "a" }}{{ end }}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			start := time.Now()
			_, err := Render("q", tc.text, Model{})
			took := time.Since(start)
			runtime.ReadMemStats(&after)
			if err == nil {
				t.Fatal("rendered")
			}
			var te *Error
			if !errors.As(err, &te) {
				t.Errorf("error %T %v is not an *Error", err, err)
			}
			if took > 10*time.Second {
				t.Errorf("took %s", took)
			}
			if grew := after.TotalAlloc - before.TotalAlloc; grew > 1<<30 {
				t.Errorf("allocated %d MiB", grew>>20)
			}
			if len(err.Error()) > 4096 {
				t.Errorf("error of %d bytes", len(err.Error()))
			}
			t.Logf("%s in %s: %.200s", tc.name, took, strings.ReplaceAll(err.Error(), "\n", " "))
		})
	}
}

// TestOrdinaryTemplatesStillWork: the bounds leave real queries alone.
func TestOrdinaryTemplatesStillWork(t *testing.T) {
	for text, want := range map[string]string{
		`{{ range $i, $v := until 3 }}{{ $i }}{{ end }}`:                        "012",
		`{{ range splitList "," "a,b" }}[{{ . }}]{{ end }}`:                     "[a][b]",
		`{{ define "s" }}ns="{{ namespace }}"{{ end }}up{ {{- template "s" }}}`: `up{ns="test"}`,
		`{{ range $k, $v := variables }}{{ $k }}={{ $v }}{{ end }}`:             "a=b",
	} {
		got, err := Render("q", text, Model{Namespace: "test", Variables: map[string]string{"a": "b"}})
		if err != nil || got != want {
			t.Errorf("%s: %q %v, want %q", text, got, err, want)
		}
	}
}
