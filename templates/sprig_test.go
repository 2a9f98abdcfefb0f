package templates

import (
	"errors"
	"strings"
	"testing"
	"text/template"

	"github.com/Masterminds/sprig/v3"
)

// rawSprig renders text with sprig's own, unbounded functions.
func rawSprig(t *testing.T, text string) (string, error) {
	t.Helper()
	tt, err := template.New("raw").Funcs(sprig.TxtFuncMap()).Parse(text)
	if err != nil {
		t.Fatalf("raw sprig parse %q: %v", text, err)
	}
	var b strings.Builder
	err = tt.Execute(&b, nil)
	return b.String(), err
}

// TestBoundedSprigMatchesSprig checks that the bounded replacements give
// sprig's results below the bound.
func TestBoundedSprigMatchesSprig(t *testing.T) {
	exprs := []string{
		`{{ repeat 3 "ab" }}`, `{{ "x" | repeat 0 }}`, `{{ repeat 5 "" }}`,
		`{{ indent 2 "a\nb" }}`, `{{ indent 0 "a" }}`, `{{ indent 3 "" }}`, `{{ nindent 4 "a\n\nb" }}`,
		`{{ until 5 }}`, `{{ until 0 }}`, `{{ until -3 }}`,
		`{{ untilStep 0 10 3 }}`, `{{ untilStep 10 0 -3 }}`, `{{ untilStep 0 10 -1 }}`, `{{ untilStep 10 0 1 }}`,
		`{{ untilStep 3 3 1 }}`, `{{ untilStep 0 10 0 }}`, `{{ untilStep -5 5 5 }}`, `{{ untilStep 5 -5 -4 }}`,
		`{{ seq }}`, `{{ seq 5 }}`, `{{ seq 0 }}`, `{{ seq -2 }}`, `{{ seq 1 }}`,
		`{{ seq 2 6 }}`, `{{ seq 6 2 }}`, `{{ seq 3 3 }}`,
		`{{ seq 0 2 10 }}`, `{{ seq 10 -3 0 }}`, `{{ seq 10 3 0 }}`, `{{ seq 0 -1 5 }}`, `{{ seq 1 2 3 4 }}`,
		`{{ seq 9223372036854775807 }}`, `{{ seq -9223372036854775808 }}`,
		`{{ range until 3 }}[{{ . }}]{{ end }}`,
		`{{ len (randAlpha 7) }} {{ len (randAlphaNum 3) }} {{ len (randAscii 4) }} {{ len (randNumeric 5) }}`,
		`{{ len (randBytes 6) }}`,
	}
	for _, e := range exprs {
		t.Run(e, func(t *testing.T) {
			want, werr := rawSprig(t, e)
			got, err := Render("q", e, Model{})
			if werr != nil {
				t.Fatalf("sprig itself fails on %s: %v", e, werr)
			}
			if err != nil || got != want {
				t.Errorf("Render(%s) = %q, %v; sprig gives %q", e, got, err, want)
			}
		})
	}
}

// TestBoundedSprigRejects checks the inputs that sprig would turn into a huge
// allocation (or, near the int bounds, an endless loop) or a panic.
func TestBoundedSprigRejects(t *testing.T) {
	tests := []struct {
		expr string
		is   error // nil: any error
	}{
		{`{{ repeat 2000000 "x" }}`, ErrTooLarge},
		{`{{ "ab" | repeat 600000 }}`, ErrTooLarge},
		{`{{ repeat 9223372036854775807 "ab" }}`, ErrTooLarge},
		{`{{ repeat -1 "x" }}`, nil},
		{`{{ indent 2000000 "x" }}`, ErrTooLarge},
		{`{{ indent 1000 (repeat 2000 "\n") }}`, ErrTooLarge},
		{`{{ nindent 2000000 "x" }}`, ErrTooLarge},
		{`{{ indent -1 "x" }}`, nil},
		{`{{ nindent -1 "x" }}`, nil},
		{`{{ until 2000000 }}`, ErrTooLarge},
		{`{{ until -2000000 }}`, ErrTooLarge},
		{`{{ untilStep 0 4000000 2 }}`, ErrTooLarge},
		{`{{ untilStep -9223372036854775808 9223372036854775807 1 }}`, ErrTooLarge},
		{`{{ seq 2000000 }}`, ErrTooLarge},
		{`{{ seq 1 2000000 }}`, ErrTooLarge},
		{`{{ seq 0 1 2000000 }}`, ErrTooLarge},
		{`{{ seq 1 1000000 }}`, ErrTooLarge}, // a million numbers is more than a megabyte of text
		{`{{ randAlpha 2000000 }}`, ErrTooLarge},
		{`{{ randAlphaNum 2000000 }}`, ErrTooLarge},
		{`{{ randAscii 2000000 }}`, ErrTooLarge},
		{`{{ randNumeric 2000000 }}`, ErrTooLarge},
		{`{{ randBytes 2000000 }}`, ErrTooLarge},
		{`{{ randBytes -1 }}`, nil},
	}
	for _, tc := range tests {
		t.Run(tc.expr, func(t *testing.T) {
			got, err := Render("q", tc.expr, Model{})
			if err == nil {
				t.Fatalf("Render(%s) succeeded with %d bytes", tc.expr, len(got))
			}
			var e *Error
			if !errors.As(err, &e) || e.Stage != StageExecute {
				t.Errorf("error %v is not an execution *Error", err)
			}
			if tc.is != nil && !errors.Is(err, tc.is) {
				t.Errorf("errors.Is(%v, %v) = false", err, tc.is)
			}
		})
	}
}

// TestUntilStepNearIntBounds covers ranges whose last step overflows int,
// where sprig's own loop wraps around and never ends.
func TestUntilStepNearIntBounds(t *testing.T) {
	tests := []struct{ expr, want string }{
		{`{{ untilStep 9223372036854775806 9223372036854775807 5 }}`, "[9223372036854775806]"},
		{`{{ untilStep 9223372036854775807 -9223372036854775808 -9223372036854775808 }}`, "[9223372036854775807 -1]"},
		{`{{ untilStep -9223372036854775807 -9223372036854775808 -3 }}`, "[-9223372036854775807]"},
	}
	for _, tc := range tests {
		t.Run(tc.expr, func(t *testing.T) {
			got, err := Render("q", tc.expr, Model{})
			if err != nil || got != tc.want {
				t.Errorf("Render(%s) = %q, %v; want %q", tc.expr, got, err, tc.want)
			}
		})
	}
}

func TestStepCount(t *testing.T) {
	const maxInt, minInt = int(^uint(0) >> 1), -int(^uint(0)>>1) - 1
	tests := []struct {
		start, stop, step int
		want              uint64
	}{
		{0, 10, 1, 10}, {0, 10, 3, 4}, {0, 9, 3, 3}, {10, 0, -3, 4}, {10, 0, 3, 0}, {0, 10, -1, 0},
		{0, 10, 0, 0}, {5, 5, 1, 0}, {5, 5, -1, 0},
		{minInt, maxInt, 1, 1<<64 - 1}, {maxInt, minInt, -1, 1<<64 - 1},
		{maxInt - 1, maxInt, 5, 1}, {maxInt, minInt, minInt, 2}, {minInt, maxInt, maxInt, 3},
	}
	for _, tc := range tests {
		if got := stepCount(tc.start, tc.stop, tc.step); got != tc.want {
			t.Errorf("stepCount(%d, %d, %d) = %d, want %d", tc.start, tc.stop, tc.step, got, tc.want)
		}
	}
}

// TestGoBuiltinsWinOverSprig pins that text/template's builtins keep their
// meaning: sprig's list "slice" would make slicing a string fail, where
// Flagger (no sprig) renders it (found by compat/flagger's rendering suite).
func TestGoBuiltinsWinOverSprig(t *testing.T) {
	for text, want := range map[string]string{
		`{{ slice "abcd" 1 3 }}`:               "bc",
		`{{ index (slice "abc" 1) 0 }}`:        "98",
		`{{ len "abc" }}{{ printf "%03d" 7 }}`: "3007",
	} {
		got, err := Render("q", text, Model{})
		if err != nil || got != want {
			t.Errorf("%s = %q, %v; want %q", text, got, err, want)
		}
	}
}
