package recorded

import (
	"errors"
	"strings"
	"testing"
)

// TestHugeLabelValueIsAnError: a label value of 16 MiB used to panic the
// loader (and kill the Argo plugin through its data: field).
func TestHugeLabelValueIsAnError(t *testing.T) {
	text := "# TYPE up gauge\nup{job=\"" + strings.Repeat("x", 16<<20) + "\"} 1 0\n# EOF\n"
	_, err := ParseOpenMetrics([]byte(text))
	var pe *ParseError
	if !errors.As(err, &pe) || pe.Line != 2 || !strings.Contains(err.Error(), "longer than") {
		t.Fatalf("error %.300v", err)
	}
}

// TestTimestampOutOfRange: a timestamp whose milliseconds overflow int64 is
// an error naming the line, not a sample at a wrapped-around time.
func TestTimestampOutOfRange(t *testing.T) {
	for _, ts := range []string{"1e16", "-1e16", "9223372036854776"} {
		text := "# TYPE up gauge\nup 1 0\nup 1 " + ts + "\n# EOF\n"
		_, err := ParseOpenMetrics([]byte(text))
		var pe *ParseError
		if !errors.As(err, &pe) || pe.Line != 3 || !strings.Contains(err.Error(), "out of range") {
			t.Errorf("%s: error %v", ts, err)
		}
	}
	if _, err := ParseOpenMetrics([]byte("# TYPE up gauge\nup 1 0\nup 1 1700000000.5\n# EOF\n")); err != nil {
		t.Errorf("ordinary timestamps: %v", err)
	}
}
