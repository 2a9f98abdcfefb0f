package templates

import (
	"regexp"
	"strings"
	"testing"
	"unsafe"
)

// flaggerSpace is how Flagger's Prometheus provider collapses a query; it is
// the reference Collapse is checked against, never used by the package.
var flaggerSpace = regexp.MustCompile(`\s+`)

func TestCollapse(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", ""},
		{"up", "up"},
		{" ", " "},
		{"\n", " "},
		{"a b", "a b"},
		{"a  b", "a b"},
		{"a\tb", "a b"},
		{"\n\tsum(\n\t\trate(x[1m])\n\t) \n\t* 100", " sum( rate(x[1m]) ) * 100"},
		{"  lead and trail  ", " lead and trail "},
		{"a\r\n\f b", "a b"},
		{"a \n", "a "},
		{"a\vb", "a\vb"},                      // \v is not in RE2's \s
		{"a\u00a0\u2003b", "a\u00a0\u2003b"},  // nor are non-ASCII spaces
		{"a\xff \t\xfeb", "a\xff \xfeb"},      // invalid UTF-8 passes through
		{"x{a=\"1\",\n\t\t}", "x{a=\"1\", }"}, // Flagger's trailing-comma selectors
		{"\t\t\t\t", " "},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			got := Collapse(tc.in)
			if got != tc.want {
				t.Errorf("Collapse(%q) = %q, want %q", tc.in, got, tc.want)
			}
			if ref := flaggerSpace.ReplaceAllString(tc.in, " "); got != ref {
				t.Errorf("Collapse(%q) = %q, Flagger's regexp gives %q", tc.in, got, ref)
			}
		})
	}
}

func TestCollapseReturnsInputWhenUnchanged(t *testing.T) {
	in := strings.Repeat("up{a=\"b\"} ", 10)
	if out := Collapse(in); unsafe.StringData(out) != unsafe.StringData(in) {
		t.Errorf("Collapse copied an already collapsed string")
	}
}

// checkCollapsed asserts Collapse's output invariants.
func checkCollapsed(t *testing.T, in, out string) {
	t.Helper()
	for i := 0; i < len(out); i++ {
		c := out[i]
		if isSpace(c) && c != ' ' {
			t.Fatalf("Collapse(%q) = %q has whitespace %q at %d", in, out, c, i)
		}
		if c == ' ' && i+1 < len(out) && out[i+1] == ' ' {
			t.Fatalf("Collapse(%q) = %q has two spaces at %d", in, out, i)
		}
	}
	if len(out) > len(in) {
		t.Fatalf("Collapse(%q) = %q grew", in, out)
	}
	if again := Collapse(out); again != out {
		t.Fatalf("Collapse is not idempotent on %q: %q", out, again)
	}
}

func FuzzCollapse(f *testing.F) {
	for _, s := range []string{"", " ", "a  b", "\n\tsum(\n\t\trate(x[1m])\n\t) \n\t* 100", "a\vb\u00a0c", "\xff\t\xfe", " \r\n\f\t "} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		out := Collapse(in)
		if ref := flaggerSpace.ReplaceAllString(in, " "); out != ref {
			t.Fatalf("Collapse(%q) = %q, Flagger's regexp gives %q", in, out, ref)
		}
		checkCollapsed(t, in, out)
	})
}
