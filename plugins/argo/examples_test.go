package argo

import (
	"os"
	"strings"
	"testing"
	"time"

	"github.com/argoproj/argo-rollouts/pkg/apis/rollouts/v1alpha1"
	"sigs.k8s.io/yaml"
)

// TestDeployExamples decodes examples/argo-rollouts: the ConfigMap registers
// the plugin under its name at the path the init container fills, and every
// metric of the AnalysisTemplate is a valid augur configuration.
func TestDeployExamples(t *testing.T) {
	cm, err := os.ReadFile("../../examples/argo-rollouts/argo-rollouts-config.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var config struct {
		APIVersion string            `json:"apiVersion"`
		Kind       string            `json:"kind"`
		Metadata   map[string]string `json:"metadata"`
		Data       map[string]string `json:"data"`
	}
	if err := yaml.UnmarshalStrict(cm, &config); err != nil {
		t.Fatal(err)
	}
	var plugins []struct {
		Name     string `json:"name"`
		Location string `json:"location"`
	}
	if err := yaml.UnmarshalStrict([]byte(config.Data["metricProviderPlugins"]), &plugins); err != nil {
		t.Fatal(err)
	}
	patch, err := os.ReadFile("../../examples/argo-rollouts/controller-augur-plugin.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if len(plugins) != 1 || plugins[0].Name != PluginName || !strings.HasPrefix(plugins[0].Location, "file://") ||
		!strings.Contains(string(patch), `args: ["install-binary", "`+strings.TrimPrefix(plugins[0].Location, "file://")+`"]`) {
		t.Errorf("plugins %+v: want %s at the file the init container installs", plugins, PluginName)
	}

	b, err := os.ReadFile("../../examples/argo-rollouts/rollout.yaml")
	if err != nil {
		t.Fatal(err)
	}
	docs := strings.Split(string(b), "\n---\n")
	var tmpl v1alpha1.AnalysisTemplate
	if err := yaml.UnmarshalStrict([]byte(docs[0]), &tmpl); err != nil {
		t.Fatal(err)
	}
	var ro v1alpha1.Rollout
	if err := yaml.UnmarshalStrict([]byte(docs[1]), &ro); err != nil {
		t.Fatal(err)
	}
	if len(tmpl.Spec.Metrics) == 0 || ro.Spec.Strategy.Canary.Analysis.Templates[0].TemplateName != tmpl.Name {
		t.Fatalf("the Rollout does not run the template")
	}
	for _, m := range tmpl.Spec.Metrics {
		if _, err := parseConfig(m, time.Minute); err != nil {
			t.Errorf("metric %s: %v", m.Name, err)
		}
	}
}
