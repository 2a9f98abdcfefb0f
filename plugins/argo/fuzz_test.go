package argo

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/argoproj/argo-rollouts/pkg/apis/rollouts/v1alpha1"
)

// FuzzParseConfig feeds arbitrary bytes to the configuration parser. It must
// not panic; errors name the plugin's key and never contain a value found
// under credentials or headers; an accepted configuration has exactly one
// mode, a timeout within bounds, and yields a canary with one metric.
func FuzzParseConfig(f *testing.F) {
	for _, s := range []string{
		`{"address":"http://prometheus:9090","query":"sum(rate(x[1m]))","thresholdRange":{"min":0.99}}`,
		`{"data":"d.om","builtin":"request-success-rate","target":"podinfo","namespace":"test","interval":"2m"}`,
		`{"address":"http://p:9090","template":{"provider":{"type":"prometheus","headers":{"X":["abcd"]}},"query":"[[ target ]]"},"delims":["[[","]]"]}`,
		`{"address":"http://p:9090","query":"x","credentials":{"token":12345678}}`,
		`{"address":"http://u:secretpw@p:9090","query":"x","credentials":{"username":"bob1","password":"hunter22"}}`,
		`{"query":"x","timeout":"11m"}`,
		`{"query":"x"} {"query":"y"}`,
		`null`, `[]`, `"x"`, `{"headers":{"a":[1,2,{"b":"cdef"}]}}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		m := v1alpha1.Metric{Name: "m", Provider: v1alpha1.MetricProvider{Plugin: map[string]json.RawMessage{PluginName: raw}}}
		cfg, err := parseConfig(m, DefaultTimeout)
		if err != nil {
			msg := err.Error()
			if !strings.HasPrefix(msg, `config "augur/augur": `) {
				t.Fatalf("error does not name the configuration: %q", msg)
			}
			for _, s := range rawSecrets(raw).values() {
				if strings.Contains(msg, s) {
					t.Fatalf("error %q leaks %q", msg, s)
				}
			}
			return
		}
		switch cfg.mode {
		case modeQuery, modeTemplate, modeBuiltin:
		case modePreflight:
			return
		default:
			t.Fatalf("mode %q", cfg.mode)
		}
		if cfg.timeout <= 0 || cfg.timeout > MaxTimeout {
			t.Fatalf("timeout %s", cfg.timeout)
		}
		c, tmpl, err := cfg.canary("ns", "m")
		if err != nil {
			return
		}
		a := c.GetAnalysis()
		if a == nil || len(a.Metrics) != 1 || c.Metadata.Name == "" || c.Spec.TargetRef.Name == "" {
			t.Fatalf("canary %+v", c)
		}
		if (tmpl != nil) != (cfg.mode != modeBuiltin) || (a.Metrics[0].TemplateRef != nil) != (tmpl != nil) {
			t.Fatalf("mode %s: template %v, metric %+v", cfg.mode, tmpl, a.Metrics[0])
		}
	})
}
