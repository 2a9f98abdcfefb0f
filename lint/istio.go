package lint

import (
	"fmt"
	"time"

	yaml "go.yaml.in/yaml/v3"
)

// Istio's annotations and defaults.
const (
	proxyConfigAnnotation = "proxy.istio.io/config"
	injectAnnotation      = "sidecar.istio.io/inject"
	// defaultTerminationDrain is ProxyConfig.terminationDrainDuration's default.
	defaultTerminationDrain = 5 * time.Second
)

// usesIstio reports whether the workload's pods get an Istio sidecar, as
// far as the objects say: the inject annotation or label, a proxy config
// annotation, an injection-labelled Namespace, or a Canary with provider
// istio (or Istio's gateways and hosts).
func (c *checker) usesIstio(w *workload) bool {
	tm, _ := get(w.obj.Body, "spec", "template").(map[string]any)
	ann := annotations(tm)
	labels := w.labels
	if str(ann[injectAnnotation]) == "false" || labels[injectAnnotation] == "false" {
		return false
	}
	if str(ann[injectAnnotation]) == "true" || labels[injectAnnotation] == "true" || ann[proxyConfigAnnotation] != nil {
		return true
	}
	for _, o := range c.objs {
		if o.Kind == "Namespace" && o.Name == w.obj.Namespace {
			l, _ := get(o.Body, "metadata", "labels").(map[string]any)
			if str(l["istio-injection"]) == "enabled" || l["istio.io/rev"] != nil {
				return true
			}
		}
	}
	if w.canary != nil {
		p := str(get(w.canary.Body, "spec", "provider"))
		return p == "istio" || (p == "" && (get(w.canary.Body, "spec", "service", "gateways") != nil || get(w.canary.Body, "spec", "service", "hosts") != nil))
	}
	return false
}

// istio checks the sidecar's drain and start order.
func (c *checker) istio(w *workload) {
	if !c.usesIstio(w) {
		return
	}
	o := w.obj
	annPath := "spec.template.metadata.annotations"
	cfgPath := field(annPath, proxyConfigAnnotation)
	raw := c.strAt(o, get(o.Body, "spec", "template", "metadata", "annotations", proxyConfigAnnotation), cfgPath)
	var cfg struct {
		TerminationDrainDuration string `yaml:"terminationDrainDuration"`
		HoldApplication          *bool  `yaml:"holdApplicationUntilProxyStarts"`
	}
	if raw != "" {
		if err := yaml.Unmarshal([]byte(raw), &cfg); err != nil {
			c.bad(o, cfgPath, "an Istio ProxyConfig in YAML or JSON: "+err.Error())
			return
		}
	}
	drain := defaultTerminationDrain
	if cfg.TerminationDrainDuration != "" {
		d, err := time.ParseDuration(cfg.TerminationDrainDuration)
		if err != nil {
			c.bad(o, cfgPath, "terminationDrainDuration as a duration such as 20s")
			return
		}
		drain = d
	}
	at := cfgPath
	if raw == "" {
		at = annPath
	}
	if w.preStopKnown && w.preStop > drain {
		c.report("istio-drain-shorter-than-prestop", o, at,
			fmt.Sprintf("The Istio proxy drains for %s and exits while the application is still in its %s preStop pause, so requests that arrive after that fail.", seconds(drain), seconds(w.preStop)),
			fmt.Sprintf(`metadata:
  annotations:
    proxy.istio.io/config: |
      terminationDrainDuration: %s
      holdApplicationUntilProxyStarts: true`, seconds(w.preStop+5*time.Second)))
	}
	if cfg.HoldApplication == nil || !*cfg.HoldApplication {
		c.report("istio-app-starts-before-proxy", o, at,
			"The application container starts in parallel with the Istio proxy, so its first connections fail and it may report ready before the mesh can route to it (unless the mesh config sets holdApplicationUntilProxyStarts globally).",
			`metadata:
  annotations:
    proxy.istio.io/config: |
      holdApplicationUntilProxyStarts: true`)
	}
}
