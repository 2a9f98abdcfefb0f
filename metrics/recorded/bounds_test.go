package recorded

import (
	"strings"
	"testing"
	"time"
)

func TestDataBounds(t *testing.T) {
	store, err := LoadOpenMetrics(strings.NewReader("a 1 100.5\na 2 160\nb 3 130\n# EOF\n"))
	if err != nil {
		t.Fatal(err)
	}
	first, last := New(store, Options{}).DataBounds()
	if want := time.UnixMilli(100500).UTC(); !first.Equal(want) {
		t.Errorf("first = %s, want %s", first, want)
	}
	if want := time.Unix(160, 0).UTC(); !last.Equal(want) {
		t.Errorf("last = %s, want %s", last, want)
	}
	if got := New(store, Options{}).SampleInterval(); got != 59500*time.Millisecond {
		t.Errorf("SampleInterval = %s, want 59.5s", got)
	}
	regular, err := LoadOpenMetrics(strings.NewReader("a 1 0\na 2 15\na 3 30\na 4 60\nb 1 15\nb 1 30\n# EOF\n"))
	if err != nil {
		t.Fatal(err)
	}
	if got := New(regular, Options{}).SampleInterval(); got != 15*time.Second {
		t.Errorf("SampleInterval = %s, want 15s (the most common gap)", got)
	}
	empty, err := FromSeries(nil)
	if err != nil {
		t.Fatal(err)
	}
	if f, l := New(empty, Options{}).DataBounds(); !f.IsZero() || !l.IsZero() {
		t.Errorf("empty store bounds = %s, %s; want zero", f, l)
	}
}
