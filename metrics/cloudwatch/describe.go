package cloudwatch

import (
	"fmt"
	"net/http"
	"time"

	"github.com/augurproj/augur/metrics"
)

// Describe returns the request a query sends, its window in words (the
// StartTime and EndTime fields are left out of the body).
func (p *Provider) Describe(query string) (metrics.Request, error) {
	qs, err := parseQuery(query)
	if err != nil {
		return metrics.Request{}, fmt.Errorf("cloudwatch query: %w", err)
	}
	v := form(qs, time.Time{}, time.Time{}, true)
	v.Del("StartTime")
	v.Del("EndTime")
	return metrics.Request{Method: http.MethodPost, URL: p.endpoint.Redacted(), Body: v.Encode(),
		Window: fmt.Sprintf("StartTime=t-%s EndTime=t (ISO 8601, 10 × the metric interval before the evaluation time t); "+
			"SigV4-signed for region %s with the AWS default credential chain", p.window, p.region)}, nil
}
