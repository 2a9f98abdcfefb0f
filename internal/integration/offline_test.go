package integration

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// TestReplayGolden pins each dataset's replay through the embedded engine
// (what `augur replay --data FILE --start 10:00` does) in
// testdata/<dataset>.timeline; the real-server tests require the server to
// give the same timeline. It needs no server, so `make golden` refreshes
// the files.
func TestReplayGolden(t *testing.T) {
	root := repoRoot(t)
	set := podinfoSet(t, root)
	for _, file := range datasets(t, root) {
		name := datasetName(file)
		t.Run(name, func(t *testing.T) {
			eng := embeddedEngine(t, set, loadStore(t, file))
			res, err := eng.Replay(t.Context(), replayRequest(set.Canaries[0]))
			if err != nil {
				t.Fatal(err)
			}
			if want, ok := wantResult[name]; ok && res.Result != want {
				t.Errorf("replay of %s ended %s, want %s (testdata/podinfo/README.md)", name, res.Result, want)
			}
			checkGolden(t, name+".timeline", timelineOf(res).golden())
		})
	}
}

func TestOffEdges(t *testing.T) {
	root := repoRoot(t)
	store := loadStore(t, filepath.Join(root, podinfoDir, "healthy.om"))
	last := store.End() // 10:29:52.5, a sample
	tests := []struct {
		name    string
		times   []time.Time
		windows []time.Duration
		wantErr bool
	}{
		{"whole minutes", []time.Time{windowStart, windowEnd}, []time.Duration{30 * time.Second, time.Minute, 5 * time.Minute}, false},
		{"a sample is the evaluation time itself", []time.Time{last}, []time.Duration{time.Second}, false},
		{"a sample one window back", []time.Time{last}, []time.Duration{time.Minute}, true},
		{"a sample one lookback back", []time.Time{last.Add(5 * time.Minute)}, []time.Duration{5 * time.Minute}, true},
		{"past the data", []time.Time{last.Add(time.Hour)}, []time.Duration{time.Minute}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := offEdges(store, tt.times, tt.windows)
			if (err != nil) != tt.wantErr {
				t.Fatalf("offEdges = %v, want an error: %t", err, tt.wantErr)
			}
			if err != nil && !strings.Contains(err.Error(), "left edge") {
				t.Errorf("error %q does not explain the edge", err)
			}
		})
	}
}

func TestNormalizedJSON(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    any
		wantErr string
	}{
		{
			name: "numbers as the API writes them",
			in:   `{"value": 92.62499999999997, "tiny": 2e-7, "int": 100, "exp": 1.5E+3, "list": [0.1, null, "x", true], "obj": {"n": -0}}`,
			want: map[string]any{"value": "92.62499999999997", "tiny": "0.0000002", "int": "100", "exp": "1500",
				"list": []any{"0.1", nil, "x", true}, "obj": map[string]any{"n": "-0"}},
		},
		{name: "two documents", in: `{} {}`, wantErr: "more than one document"},
		{name: "not JSON", in: `augur: bad input`, wantErr: "decode JSON output"},
		{name: "number too large", in: `[1e400]`, wantErr: "number 1e400"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := normalizedJSON([]byte(tt.in))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("normalizedJSON (-want +got):\n%s", diff)
			}
		})
	}
}
