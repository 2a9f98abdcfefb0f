package recorded

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/augurproj/augur/metrics"
)

func TestQueryRaw(t *testing.T) {
	p := New(shapesStore(t), Options{})
	got, err := p.QueryRaw(context.Background(), `g`, sec(10), sec(45))
	if err != nil {
		t.Fatal(err)
	}
	// The recording began at 0: g's first sample in the range (at 15 s) is
	// within RecordingStartSlack of it, so its value is repeated at the
	// range's start as the starting value (history, not new requests).
	want := []metrics.Series{{Labels: map[string]string{"__name__": "g"}, Samples: []metrics.Sample{
		{T: sec(10), V: 2}, {T: sec(15), V: 2}, {T: sec(30), V: 3}, {T: sec(45), V: 4},
	}}}
	if diff := cmp.Diff(want, got, sameSeries); diff != "" {
		t.Errorf("QueryRaw (-want +got):\n%s", diff)
	}
	got, err = p.QueryRaw(context.Background(), "a{job=\"x\"}\n", sec(100), sec(160))
	if err != nil || len(got) != 0 {
		t.Fatalf("a{job=x} over (100, 160]: %v, %v; want nothing", got, err)
	}
	long := New(mustLoad(t, sec(0), 15*time.Second, SeriesInput{Series: `c`, Values: `1+1x20`}), Options{})
	got, err = long.QueryRaw(context.Background(), `c`, sec(120), sec(180))
	if err != nil || len(got) != 1 || len(got[0].Samples) != 4 || !got[0].Samples[0].T.Equal(sec(135)) {
		t.Fatalf("c over (120, 180]: %v, %v; want the 4 stored samples, nothing repeated", got, err)
	}
	for _, bad := range []struct{ sel, wantSub string }{
		{`sum(g)`, `recorded raw query "sum(g)[35000ms]"`},
		{`g`, "end is not after start"},
	} {
		end := sec(45)
		if bad.wantSub == "end is not after start" {
			end = sec(10)
		}
		if _, err := p.QueryRaw(context.Background(), bad.sel, sec(10), end); err == nil || !strings.Contains(err.Error(), bad.wantSub) {
			t.Errorf("QueryRaw(%q): err %v, want %q", bad.sel, err, bad.wantSub)
		}
	}
}
