package analysis

import (
	"encoding/json"
	"fmt"
	"time"
)

// Flagger constants (pkg/apis/flagger/v1beta1/canary.go, v1.44.0).
const (
	// DefaultAnalysisInterval is used when analysis.interval is empty or unparsable.
	DefaultAnalysisInterval = 60 * time.Second
	// MinAnalysisInterval is the floor Flagger applies to analysis.interval.
	MinAnalysisInterval = 10 * time.Second
	// DefaultMetricInterval is the {{ interval }} of builtin and inline-query metrics without one.
	DefaultMetricInterval = "1m"
	// DefaultProgressDeadlineSeconds is spec.progressDeadlineSeconds when unset.
	DefaultProgressDeadlineSeconds = 600
	// DefaultThreshold is analysis.threshold when unset or not positive.
	DefaultThreshold = 1
	// DefaultReadyThreshold is primaryReadyThreshold / canaryReadyThreshold when unset.
	DefaultReadyThreshold = 100
	// DefaultWebhookTimeout is a webhook's timeout when shorter than two characters.
	DefaultWebhookTimeout = "10s"
	// DefaultMeshProvider is Flagger's -mesh-provider default.
	DefaultMeshProvider = "istio"
)

// Builtin metric names: Flagger treats these names as magic regardless of other fields.
const (
	MetricRequestSuccessRate = "request-success-rate"
	MetricRequestDuration    = "request-duration"
)

// APIVersion and kinds of the Flagger objects augur reads.
const (
	APIVersion         = "flagger.app/v1beta1"
	KindCanary         = "Canary"
	KindMetricTemplate = "MetricTemplate"
)

// ObjectMeta is the subset of Kubernetes object metadata augur uses. Other
// metadata fields are accepted by the decoder and kept in Extra.
type ObjectMeta struct {
	Name        string            `json:"name"`
	Namespace   string            `json:"namespace,omitempty"`
	Labels      map[string]string `json:"labels,omitempty"`
	Annotations map[string]string `json:"annotations,omitempty"`
}

// Canary is Flagger's flagger.app/v1beta1 Canary object.
type Canary struct {
	APIVersion string       `json:"apiVersion,omitempty"`
	Kind       string       `json:"kind,omitempty"`
	Metadata   ObjectMeta   `json:"metadata"`
	Spec       CanarySpec   `json:"spec"`
	Status     CanaryStatus `json:"status,omitzero"`
}

// CanarySpec is Flagger's CanarySpec. Fields that only drive routing objects
// (service mesh details) are kept verbatim as raw JSON: augur does not
// interpret them but accepts every manifest Flagger accepts.
type CanarySpec struct {
	Provider                string                         `json:"provider,omitempty"`
	MetricsServer           string                         `json:"metricsServer,omitempty"`
	TargetRef               CrossNamespaceObjectReference  `json:"targetRef"`
	AutoscalerRef           json.RawMessage                `json:"autoscalerRef,omitempty"`
	IngressRef              *CrossNamespaceObjectReference `json:"ingressRef,omitempty"`
	RouteRef                *CrossNamespaceObjectReference `json:"routeRef,omitempty"`
	UpstreamRef             *CrossNamespaceObjectReference `json:"upstreamRef,omitempty"`
	Service                 CanaryService                  `json:"service,omitzero"`
	Analysis                *Analysis                      `json:"analysis,omitempty"`
	CanaryAnalysis          *Analysis                      `json:"canaryAnalysis,omitempty"`
	ProgressDeadlineSeconds *int32                         `json:"progressDeadlineSeconds,omitempty"`
	SkipAnalysis            bool                           `json:"skipAnalysis,omitempty"`
	RevertOnDeletion        bool                           `json:"revertOnDeletion,omitempty"`
	Suspend                 bool                           `json:"suspend,omitempty"`
}

// CanaryService is Flagger's CanaryService. Only Name matters to analysis
// ({{ service }}); the rest is carried as raw JSON by field name.
type CanaryService struct {
	Name string `json:"name,omitempty"`
	// Other holds every other service field (port, gateways, trafficPolicy, …) verbatim.
	Other map[string]json.RawMessage `json:"-"`
}

// MarshalJSON writes Name and every Other field as one object.
func (s CanaryService) MarshalJSON() ([]byte, error) {
	m := make(map[string]json.RawMessage, len(s.Other)+1)
	for k, v := range s.Other {
		if k != "name" {
			m[k] = v
		}
	}
	if s.Name != "" {
		b, err := json.Marshal(s.Name)
		if err != nil {
			return nil, err
		}
		m["name"] = b
	}
	return json.Marshal(m)
}

// UnmarshalJSON reads name into Name and keeps every other field in Other,
// so a Canary round-trips through JSON (HTTP and plugin requests) unchanged.
func (s *CanaryService) UnmarshalJSON(b []byte) error {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		return err
	}
	*s = CanaryService{}
	if raw, ok := m["name"]; ok {
		if err := json.Unmarshal(raw, &s.Name); err != nil {
			return fmt.Errorf("name: %w", err)
		}
		delete(m, "name")
	}
	if len(m) > 0 {
		s.Other = m
	}
	return nil
}

// CrossNamespaceObjectReference locates an object, optionally in another namespace.
type CrossNamespaceObjectReference struct {
	APIVersion string `json:"apiVersion,omitempty"`
	Kind       string `json:"kind,omitempty"`
	Name       string `json:"name"`
	Namespace  string `json:"namespace,omitempty"`
}

// Analysis is Flagger's CanaryAnalysis (the `analysis:` block).
type Analysis struct {
	Interval              string            `json:"interval,omitempty"`
	Iterations            int               `json:"iterations,omitempty"`
	Mirror                bool              `json:"mirror,omitempty"`
	MirrorWeight          int               `json:"mirrorWeight,omitempty"`
	MaxWeight             int               `json:"maxWeight,omitempty"`
	StepWeight            int               `json:"stepWeight,omitempty"`
	StepWeights           []int             `json:"stepWeights,omitempty"`
	StepWeightPromotion   int               `json:"stepWeightPromotion,omitempty"`
	Threshold             int               `json:"threshold,omitempty"`
	PrimaryReadyThreshold *int              `json:"primaryReadyThreshold,omitempty"`
	CanaryReadyThreshold  *int              `json:"canaryReadyThreshold,omitempty"`
	Alerts                []Alert           `json:"alerts,omitempty"`
	Metrics               []Metric          `json:"metrics,omitempty"`
	Webhooks              []Webhook         `json:"webhooks,omitempty"`
	Match                 []json.RawMessage `json:"match,omitempty"`
	SessionAffinity       json.RawMessage   `json:"sessionAffinity,omitempty"`
}

// Alert is Flagger's CanaryAlert.
type Alert struct {
	Name        string                        `json:"name"`
	Severity    string                        `json:"severity,omitempty"`
	ProviderRef CrossNamespaceObjectReference `json:"providerRef"`
}

// Metric is Flagger's CanaryMetric (an entry of analysis.metrics).
type Metric struct {
	Name              string                         `json:"name"`
	Interval          string                         `json:"interval,omitempty"`
	Threshold         float64                        `json:"threshold,omitempty"`
	ThresholdRange    *ThresholdRange                `json:"thresholdRange,omitempty"`
	Query             string                         `json:"query,omitempty"`
	TemplateRef       *CrossNamespaceObjectReference `json:"templateRef,omitempty"`
	TemplateVariables map[string]string              `json:"templateVariables,omitempty"`
}

// ThresholdRange is an inclusive range; a nil bound is open.
type ThresholdRange struct {
	Min *float64 `json:"min,omitempty"`
	Max *float64 `json:"max,omitempty"`
}

// HookType is a Flagger webhook type.
type HookType string

// Flagger's webhook types. An empty type means rollout.
const (
	HookRollout                HookType = "rollout"
	HookConfirmRollout         HookType = "confirm-rollout"
	HookPreRollout             HookType = "pre-rollout"
	HookConfirmTrafficIncrease HookType = "confirm-traffic-increase"
	HookConfirmPromotion       HookType = "confirm-promotion"
	HookPostRollout            HookType = "post-rollout"
	HookRollback               HookType = "rollback"
	HookEvent                  HookType = "event"
)

// Webhook is Flagger's CanaryWebhook.
type Webhook struct {
	Type       HookType           `json:"type,omitempty"`
	Name       string             `json:"name"`
	URL        string             `json:"url"`
	MuteAlert  bool               `json:"muteAlert"`
	Timeout    string             `json:"timeout,omitempty"`
	Metadata   *map[string]string `json:"metadata,omitempty"`
	Retries    int                `json:"retries,omitempty"`
	DisableTLS bool               `json:"disableTLS,omitempty"`
}

// MetricTemplate is Flagger's flagger.app/v1beta1 MetricTemplate object.
type MetricTemplate struct {
	APIVersion string             `json:"apiVersion,omitempty"`
	Kind       string             `json:"kind,omitempty"`
	Metadata   ObjectMeta         `json:"metadata"`
	Spec       MetricTemplateSpec `json:"spec"`
}

// MetricTemplateSpec is the spec of a MetricTemplate.
type MetricTemplateSpec struct {
	Provider MetricTemplateProvider `json:"provider"`
	Query    string                 `json:"query"`
}

// MetricTemplateProvider is a MetricTemplate's metrics provider.
type MetricTemplateProvider struct {
	Type               string                `json:"type"`
	Address            string                `json:"address,omitempty"`
	Headers            map[string][]string   `json:"headers,omitempty"`
	SecretRef          *LocalObjectReference `json:"secretRef,omitempty"`
	Region             string                `json:"region,omitempty"`
	InsecureSkipVerify bool                  `json:"insecureSkipVerify,omitempty"`
}

// LocalObjectReference names an object in the same namespace.
type LocalObjectReference struct {
	Name string `json:"name"`
}
