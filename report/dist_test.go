package report

import (
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/augurproj/augur/analysis/judges"
)

// TestDistChartShares: each bar is its side's share of requests in the
// bucket, the empty buckets at the ends are left out, and every number is
// in the text alternative.
func TestDistChartShares(t *testing.T) {
	canary := []judges.BucketCount{{Le: "5", Count: 0}, {Le: "10", Count: 30}, {Le: "25", Count: 50}, {Le: "50", Count: 20}, {Le: "+Inf", Count: 0}}
	primary := []judges.BucketCount{{Le: "5", Count: 0}, {Le: "10", Count: 60}, {Le: "25", Count: 30}, {Le: "50", Count: 10}, {Le: "+Inf", Count: 0}}
	svg := string(distChart("m", "request-duration", canary, primary))
	bars := regexp.MustCompile(`<rect class="bar (canary|primary)" data-le="([^"]+)" data-share="([^"]+)"`).FindAllStringSubmatch(svg, -1)
	want := map[string]float64{"canary 10": 30, "canary 25": 50, "canary 50": 20, "primary 10": 60, "primary 25": 30, "primary 50": 10}
	if len(bars) != len(want) {
		t.Fatalf("%d bars, want %d:\n%s", len(bars), len(want), svg)
	}
	for _, b := range bars {
		v, err := strconv.ParseFloat(b[3], 64)
		if err != nil || v != want[b[1]+" "+b[2]] {
			t.Errorf("bar %s le %s: share %s, want %v", b[1], b[2], b[3], want[b[1]+" "+b[2]])
		}
	}
	for _, s := range []string{"le 10: canary 30.00%, primary 60.00%", "canary (100 requests", "primary (100 requests"} {
		if !strings.Contains(svg, s) {
			t.Errorf("text alternative lacks %q", s)
		}
	}
	if distChart("m", "x", canary, primary[:2]) != "" || distChart("m", "x", nil, nil) != "" {
		t.Error("mismatched or empty buckets must draw nothing")
	}
}
