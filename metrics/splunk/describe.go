package splunk

import (
	"encoding/json"
	"fmt"

	"github.com/augurproj/augur/metrics"
)

// Describe returns the request a query sends: the websocket URL, the
// execute message without its window, and the window in words (the token
// goes in the authenticate message, never described).
func (p *Provider) Describe(query string) (metrics.Request, error) {
	b, err := json.Marshal(struct {
		Type      string `json:"type"`
		Program   string `json:"program"`
		Channel   string `json:"channel"`
		Immediate bool   `json:"immediate"`
	}{"execute", query, channel, true})
	if err != nil {
		return metrics.Request{}, err
	}
	return metrics.Request{Method: "GET (websocket, SignalFlow)", URL: p.stream.Redacted(), Body: string(b),
		Window: fmt.Sprintf(`"start": t-%d, "stop": t (Unix ms, 10 × the metric interval before the evaluation time t)`,
			p.window.Milliseconds())}, nil
}
