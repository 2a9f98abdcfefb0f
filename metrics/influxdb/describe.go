package influxdb

import (
	"net/http"

	"github.com/augurproj/augur/metrics"
)

// Describe returns the request a query sends, its window in words.
func (p *Provider) Describe(query string) (metrics.Request, error) {
	body, err := Body(query)
	if err != nil {
		return metrics.Request{}, err
	}
	return metrics.Request{Method: http.MethodPost, URL: p.URL().Redacted(), Body: string(body),
		Window: "the Flux script's range() (augur sends no time: a replay of a past t must write it into the template)"}, nil
}
