package templates

// Model is the data a query template sees. Each field is exposed to the
// template as a zero-argument function of the same lower-case name, as in
// Flagger's MetricTemplateModel.
type Model struct {
	// Name is the canary name ({{ name }}).
	Name string `json:"name"`
	// Namespace is the canary namespace ({{ namespace }}).
	Namespace string `json:"namespace"`
	// Target is spec.targetRef.name ({{ target }}).
	Target string `json:"target"`
	// Service is spec.service.name, else the target ({{ service }}).
	Service string `json:"service"`
	// Ingress is spec.ingressRef.name, else the target ({{ ingress }}).
	Ingress string `json:"ingress"`
	// Route is spec.routeRef.name, else the target; for Knative the latest
	// created revision ({{ route }}).
	Route string `json:"route"`
	// Interval is the metric's interval, passed through as-is ({{ interval }}).
	Interval string `json:"interval"`
	// Variables are the metric's templateVariables ({{ variables.KEY }}); a
	// missing key is an execution error, also when Variables is nil.
	Variables map[string]string `json:"variables"`
}
