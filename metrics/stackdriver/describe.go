package stackdriver

import (
	"net/http"

	"github.com/augurproj/augur/metrics"
)

// Describe returns the request a query sends (the project is the Secret's
// and is redacted in the URL as a credential value would be).
func (p *Provider) Describe(query string) (metrics.Request, error) {
	u := p.URL().String()
	return metrics.Request{Method: http.MethodPost, URL: u, Body: string(Body(query)),
		Window: "the MQL query's own window (within or every …), relative to the server's now; an OAuth2 bearer token from the Secret's serviceAccountKey or Application Default Credentials"}, nil
}
