package datadog

import (
	"fmt"
	"net/http"
	"time"

	"github.com/augurproj/augur/metrics"
)

// Describe returns the request a query sends, its window in words.
func (p *Provider) Describe(query string) (metrics.Request, error) {
	u := p.Request(query, time.Unix(0, 0))
	v := u.Query()
	v.Del("from")
	v.Del("to")
	u.RawQuery = v.Encode()
	return metrics.Request{Method: http.MethodGet, URL: u.Redacted(),
		Window: fmt.Sprintf("from=t-%d to=t (Unix seconds: %s, 10 × the metric interval, before the evaluation time t)",
			int64(p.window/time.Second), p.window)}, nil
}
