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
	empty, err := FromSeries(nil)
	if err != nil {
		t.Fatal(err)
	}
	if f, l := New(empty, Options{}).DataBounds(); !f.IsZero() || !l.IsZero() {
		t.Errorf("empty store bounds = %s, %s; want zero", f, l)
	}
}
