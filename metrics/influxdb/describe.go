package influxdb

import (
	"net/http"
	"time"

	"github.com/augurproj/augur/metrics"
)

// Describe returns the request a query sends, its window in words.
func (p *Provider) Describe(query string) (metrics.Request, error) {
	body, err := Body(query, time.Time{})
	if err != nil {
		return metrics.Request{}, err
	}
	return metrics.Request{Method: http.MethodPost, URL: p.URL().Redacted(), Body: string(body),
		Window: `the Flux script's range(), relative to the server's now; a replay of a past t adds "now": <t RFC 3339> to the body`}, nil
}
