package graphite

import (
	"net/http"
	"time"

	"github.com/augurproj/augur/metrics"
)

// Describe returns the request a live query sends, its window in words.
func (p *Provider) Describe(query string) (metrics.Request, error) {
	u, err := p.Request(query, time.Time{})
	if err != nil {
		return metrics.Request{}, err
	}
	return metrics.Request{Method: http.MethodGet, URL: u.Redacted(),
		Window: "the query's from/until, relative to the server's now; a replay of a past t adds now=<t Unix seconds>"}, nil
}
