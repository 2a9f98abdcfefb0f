package server

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/augurproj/augur/analysis"
	"github.com/augurproj/augur/service"
)

// FuzzParseMetadata: any metadata either is rejected with a one-line
// bad-request error, or gives metrics that are each usable (builtin, a
// query or a templateRef), uniquely named and with consistent bounds.
func FuzzParseMetadata(f *testing.F) {
	seeds := []map[string]string{
		nil,
		{"query": "sum(up)", "max": "1"},
		{"query": "sum(up)", "min": "0", "max": "1", "name": "x", "interval": "30s", "var.a": "b"},
		{"template": "istio-system/not-found", "max": "5"},
		{"template": "latency", "min": "1", "target": "app"},
		{"metrics": "- name: request-success-rate\n  thresholdRange: {min: 99}\n"},
		{"metrics": `[{"name":"a","query":"up","thresholdRange":{"max":1}},{"name":"a","query":"up"}]`},
		{"metrics": "- name: x\n  templateRef: {name: t}\n", "meshProvider": "linkerd", "metricsServer": "http://p:9090"},
		{"qurey": "up", "max": "x"},
		{"query": "up", "min": "2", "max": "1"},
		{"metrics": "&a [*a]"},
		{"token": "t", "service": "svc"},
	}
	for _, s := range seeds {
		b, _ := json.Marshal(s)
		f.Add(string(b))
	}
	f.Fuzz(func(t *testing.T, mdJSON string) {
		var md map[string]string
		if json.Unmarshal([]byte(mdJSON), &md) != nil {
			return
		}
		spec, err := parseMetadata(md)
		if err != nil {
			if !errors.Is(err, service.ErrBadRequest) {
				t.Fatalf("error does not wrap ErrBadRequest: %v", err)
			}
			if strings.ContainsAny(err.Error(), "\r\n") {
				t.Fatalf("error is not one line: %q", err)
			}
			return
		}
		names := map[string]bool{}
		for _, m := range spec.metrics {
			if m.Name == "" || names[m.Name] {
				t.Fatalf("metric without a unique name: %+v", spec.metrics)
			}
			names[m.Name] = true
			if !analysis.IsBuiltin(m.Name) && m.Query == "" && (m.TemplateRef == nil || m.TemplateRef.Name == "") {
				t.Fatalf("unusable metric accepted: %+v", m)
			}
			if r := m.ThresholdRange; r != nil && r.Min != nil && r.Max != nil && *r.Min > *r.Max {
				t.Fatalf("min > max accepted: %+v", m)
			}
		}
		_, hasQuery := md[KeyQuery]
		_, hasTemplate := md[KeyTemplate]
		if (hasQuery || hasTemplate) && len(spec.metrics) != 1 {
			t.Fatalf("query/template gave %d metrics", len(spec.metrics))
		}
	})
}

// FuzzDecodeDecide: any body either is rejected as a bad request, or gives
// a request for a named canary with a known webhook mode, and whose values
// each carry exactly one of a number and an error.
func FuzzDecodeDecide(f *testing.F) {
	f.Add(`{"canary":{"metadata":{"name":"a","namespace":"b"},"spec":{"targetRef":{"apiVersion":"apps/v1","kind":"Deployment","name":"a"},` +
		`"service":{"port":80},"analysis":{"interval":"1m","threshold":2,"stepWeight":10,"metrics":[{"name":"request-success-rate","thresholdRange":{"min":99}}]}}},` +
		`"status":{"phase":"Progressing","canaryWeight":10},"webhooks":"pass","values":{"request-success-rate":{"value":99}}}`)
	f.Add(`{"canary":{"apiVersion":"flagger.app/v1beta1","kind":"Canary","metadata":{"name":"a"},"spec":{"targetRef":{"apiVersion":"apps/v1","kind":"Deployment","name":"a"}},"status":{"phase":"Failed"}}}`)
	f.Add(`{"canary":{},"canary":{}}`)
	f.Add(`{"canary":{"kind":"Deployment"}}`)
	f.Add(`{"canary":null,"metricTemplates":[{"metadata":{"name":"t"},"spec":{"provider":{"type":"prometheus"},"query":"up"}}]}`)
	f.Add(`[]`)
	f.Add(`{"at":"2026-11-01T10:00:00Z","values":{"x":{"error":"no-values"}}}`)
	f.Fuzz(func(t *testing.T, body string) {
		req, err := decodeDecide([]byte(body))
		if err != nil {
			if !errors.Is(err, service.ErrBadRequest) {
				t.Fatalf("error does not wrap ErrBadRequest: %v", err)
			}
			return
		}
		if req.Canary.Metadata.Name == "" || req.Canary.Metadata.Namespace == "" || req.Canary.Spec.TargetRef.Name == "" {
			t.Fatalf("accepted a canary without name, namespace or target: %+v", req.Canary.Metadata)
		}
		switch req.Webhooks {
		case "", service.WebhooksCall, service.WebhooksPass, service.WebhooksFail:
		default:
			t.Fatalf("accepted webhooks %q", req.Webhooks)
		}
		for k, v := range req.Values {
			if (v.Value == nil) == (v.Error == "") {
				t.Fatalf("accepted value %s: %+v", k, v)
			}
		}
		// Accepted bodies decode the same way twice (no hidden state).
		again, err := decodeDecide([]byte(body))
		if err != nil || mustJSON(t, again) != mustJSON(t, req) {
			t.Fatalf("decoding again differs: %v", err)
		}
	})
}

// FuzzDecodePayload: any body either is rejected as a bad request, or gives
// a payload with a name and namespace.
func FuzzDecodePayload(f *testing.F) {
	f.Add(`{"name":"podinfo","namespace":"test","phase":"Progressing","checksum":"abc","metadata":{"query":"up","max":"1"}}`)
	f.Add(`{"name":"podinfo"}`)
	f.Add(`{"name":"podinfo","metadata":{"min":1}}`)
	f.Add(`{"name":1}`)
	f.Add(`{"name":"a","name":"b"}`)
	f.Add(`{"name":"a","metadata":null,"extra":[1,2]}`)
	f.Fuzz(func(t *testing.T, body string) {
		p, err := decodePayload([]byte(body))
		if err != nil {
			if !errors.Is(err, service.ErrBadRequest) {
				t.Fatalf("error does not wrap ErrBadRequest: %v", err)
			}
			return
		}
		if p.Name == "" || p.Namespace == "" {
			t.Fatalf("accepted a payload without name or namespace: %+v", p)
		}
	})
}
