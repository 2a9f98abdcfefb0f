package server

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/augurproj/augur/analysis"
	"github.com/augurproj/augur/internal/scenario"
	"github.com/augurproj/augur/manifest"
	"github.com/augurproj/augur/service"
	"github.com/augurproj/augur/webhooks"
)

// requestJSON is the POST /v1/decide body for req: the service request's
// own JSON, with the Canary and MetricTemplates as Flagger objects (the
// manifest encoder keeps spec.service whole).
func requestJSON(req service.DecideRequest) ([]byte, error) {
	b, err := json.Marshal(req)
	if err != nil {
		return nil, err
	}
	var body map[string]json.RawMessage
	if err := json.Unmarshal(b, &body); err != nil {
		return nil, err
	}
	objs, err := manifest.EncodeJSON(&manifest.Set{Canaries: []analysis.Canary{req.Canary}, Templates: req.MetricTemplates})
	if err != nil {
		return nil, err
	}
	var list struct {
		Items []json.RawMessage `json:"items"`
	}
	if err := json.Unmarshal(objs, &list); err != nil {
		return nil, err
	}
	body["canary"] = list.Items[0]
	delete(body, "metricTemplates")
	if len(list.Items) > 1 {
		if body["metricTemplates"], err = json.Marshal(list.Items[1:]); err != nil {
			return nil, err
		}
	}
	return json.Marshal(body)
}

// TestScenariosThroughHTTP runs the shared corpus through POST /v1/decide
// on a loopback server: the same decisions as in-process.
func TestScenariosThroughHTTP(t *testing.T) {
	hooks := webhooks.New(webhooks.Options{Backoff: func(int) time.Duration { return time.Millisecond }})
	decide := func(ctx context.Context, s *scenario.Scenario, req service.DecideRequest) (analysis.Decision, error) {
		svc, err := s.Service(hooks)
		if err != nil {
			return analysis.Decision{}, err
		}
		srv, err := New(Options{Service: svc})
		if err != nil {
			return analysis.Decision{}, err
		}
		ts := httptest.NewServer(srv.Handler())
		defer ts.Close()
		b, err := requestJSON(req)
		if err != nil {
			return analysis.Decision{}, err
		}
		hreq, err := http.NewRequestWithContext(ctx, http.MethodPost, ts.URL+"/v1/decide", strings.NewReader(string(b)))
		if err != nil {
			return analysis.Decision{}, err
		}
		hreq.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(hreq)
		if err != nil {
			return analysis.Decision{}, err
		}
		defer resp.Body.Close()
		out, err := io.ReadAll(resp.Body)
		if err != nil {
			return analysis.Decision{}, err
		}
		if resp.StatusCode != http.StatusOK {
			return analysis.Decision{}, fmt.Errorf("POST /v1/decide: %d %s\nrequest: %s", resp.StatusCode, out, b)
		}
		var d analysis.Decision
		dec := json.NewDecoder(strings.NewReader(string(out)))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&d); err != nil {
			return d, fmt.Errorf("decoding the decision: %w", err)
		}
		return d, nil
	}
	scenario.Run(t, decide, scenario.RunOptions{})
}
