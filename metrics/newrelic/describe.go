package newrelic

import (
	"fmt"
	"net/http"
	"time"

	"github.com/augurproj/augur/metrics"
)

// Describe returns the request a live query sends, its window in words.
func (p *Provider) Describe(query string) (metrics.Request, error) {
	u := p.Request(query, time.Time{})
	return metrics.Request{Method: http.MethodGet, URL: u.Redacted(),
		Window: fmt.Sprintf("NRQL SINCE %d seconds ago (the metric interval); a replay of a past t sends SINCE <t-%s ms> UNTIL <t ms>",
			int64(p.interval.Seconds()), p.interval)}, nil
}
