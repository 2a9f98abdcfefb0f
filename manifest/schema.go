package manifest

import (
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strings"

	"github.com/augurproj/augur/analysis"
)

// schemaKind is what a field accepts.
type schemaKind uint8

const (
	kString schemaKind = iota
	kBool
	kInt
	kFloat
	kStruct
	kMap   // mapping with string keys; elem describes the values
	kSlice // sequence; elem describes the items
	kAny   // any JSON value, kept verbatim
	kIntOrString
)

// schema describes what a YAML node may hold. It is built once, from the Go
// types' json tags, and patched where Flagger's CRD differs from the
// analysis types (see newCanarySchema).
type schema struct {
	kind   schemaKind
	bits   int                     // kInt: 8, 16, 32 or 64
	fields map[string]*fieldSchema // kStruct
	names  []string                // kStruct: sorted field names, for messages
	elem   *schema                 // kMap, kSlice
}

// fieldSchema is one field of a struct schema.
type fieldSchema struct {
	s *schema
	// drop: accepted and type-checked, but not carried into the analysis type.
	drop bool
}

// intOrString marks a Kubernetes IntOrString field in the shadow types.
type intOrString struct{}

var (
	rawMessageType  = reflect.TypeFor[json.RawMessage]()
	intOrStringType = reflect.TypeFor[intOrString]()
)

// schemaOf builds the schema of a Go type from its json tags. A field tagged
// `manifest:"drop"` is accepted but dropped. Within one call a type has one
// schema, so patching it patches every field of that type. It panics on
// types it cannot describe; it only ever sees the package's own static types.
func schemaOf(t reflect.Type) *schema {
	return buildSchema(t, map[reflect.Type]*schema{})
}

func buildSchema(t reflect.Type, memo map[reflect.Type]*schema) *schema {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if s, ok := memo[t]; ok {
		return s
	}
	s := buildSchemaUncached(t, memo)
	memo[t] = s
	return s
}

func buildSchemaUncached(t reflect.Type, memo map[reflect.Type]*schema) *schema {
	switch t {
	case rawMessageType:
		return &schema{kind: kAny}
	case intOrStringType:
		return &schema{kind: kIntOrString}
	}
	switch t.Kind() {
	case reflect.String:
		return &schema{kind: kString}
	case reflect.Bool:
		return &schema{kind: kBool}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return &schema{kind: kInt, bits: t.Bits()}
	case reflect.Float32, reflect.Float64:
		return &schema{kind: kFloat}
	case reflect.Interface:
		return &schema{kind: kAny}
	case reflect.Slice:
		return &schema{kind: kSlice, elem: buildSchema(t.Elem(), memo)}
	case reflect.Map:
		if t.Key().Kind() != reflect.String {
			panic(fmt.Sprintf("manifest: map key of %s is not a string", t))
		}
		return &schema{kind: kMap, elem: buildSchema(t.Elem(), memo)}
	case reflect.Struct:
		s := &schema{kind: kStruct, fields: map[string]*fieldSchema{}}
		for i := range t.NumField() {
			f := t.Field(i)
			if !f.IsExported() {
				continue
			}
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			if name == "-" {
				continue
			}
			if name == "" {
				name = f.Name
			}
			s.set(name, &fieldSchema{s: buildSchema(f.Type, memo), drop: f.Tag.Get("manifest") == "drop"})
		}
		return s
	}
	panic(fmt.Sprintf("manifest: no schema for %s", t))
}

// set adds or replaces a struct field.
func (s *schema) set(name string, f *fieldSchema) {
	if _, ok := s.fields[name]; !ok {
		s.names = append(s.names, name)
		slices.Sort(s.names)
	}
	s.fields[name] = f
}

// field returns a struct field's schema; it panics if the field is missing,
// which only the package's own schema construction can cause.
func (s *schema) field(name string) *schema {
	f, ok := s.fields[name]
	if !ok {
		panic("manifest: schema has no field " + name)
	}
	return f.s
}

// addDropped adds every field of the shadow type t as an accepted but dropped field.
func (s *schema) addDropped(t reflect.Type) {
	extra := schemaOf(t)
	for _, name := range extra.names {
		s.set(name, &fieldSchema{s: extra.fields[name].s, drop: true})
	}
}

// objectMeta is every field of Kubernetes' ObjectMeta. Only name, namespace,
// labels and annotations reach analysis.ObjectMeta.
type objectMeta struct {
	Name                       string               `json:"name"`
	Namespace                  string               `json:"namespace"`
	Labels                     map[string]string    `json:"labels"`
	Annotations                map[string]string    `json:"annotations"`
	GenerateName               string               `json:"generateName" manifest:"drop"`
	SelfLink                   string               `json:"selfLink" manifest:"drop"`
	UID                        string               `json:"uid" manifest:"drop"`
	ResourceVersion            string               `json:"resourceVersion" manifest:"drop"`
	Generation                 int64                `json:"generation" manifest:"drop"`
	CreationTimestamp          string               `json:"creationTimestamp" manifest:"drop"`
	DeletionTimestamp          string               `json:"deletionTimestamp" manifest:"drop"`
	DeletionGracePeriodSeconds int64                `json:"deletionGracePeriodSeconds" manifest:"drop"`
	OwnerReferences            []ownerReference     `json:"ownerReferences" manifest:"drop"`
	Finalizers                 []string             `json:"finalizers" manifest:"drop"`
	ManagedFields              []managedFieldsEntry `json:"managedFields" manifest:"drop"`
}

// ownerReference is Kubernetes' OwnerReference.
type ownerReference struct {
	APIVersion         string `json:"apiVersion"`
	Kind               string `json:"kind"`
	Name               string `json:"name"`
	UID                string `json:"uid"`
	Controller         bool   `json:"controller"`
	BlockOwnerDeletion bool   `json:"blockOwnerDeletion"`
}

// managedFieldsEntry is Kubernetes' ManagedFieldsEntry.
type managedFieldsEntry struct {
	Manager     string          `json:"manager"`
	Operation   string          `json:"operation"`
	APIVersion  string          `json:"apiVersion"`
	Time        string          `json:"time"`
	FieldsType  string          `json:"fieldsType"`
	FieldsV1    json.RawMessage `json:"fieldsV1"`
	Subresource string          `json:"subresource"`
}

// listMeta is Kubernetes' ListMeta (the metadata of a List).
type listMeta struct {
	SelfLink           string `json:"selfLink"`
	ResourceVersion    string `json:"resourceVersion"`
	Continue           string `json:"continue"`
	RemainingItemCount int64  `json:"remainingItemCount"`
}

// localObjectReference is Flagger's LocalObjectReference (targetRef,
// ingressRef, routeRef): it has no namespace.
type localObjectReference struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Name       string `json:"name"`
}

// anyObject is a mapping with any content (an Istio or Gateway API type
// augur does not interpret).
type anyObject map[string]json.RawMessage

// canaryService is every field of Flagger v1.44's CanaryService
// (pkg/apis/flagger/v1beta1/canary.go). Name reaches
// analysis.CanaryService.Name; every other field is kept verbatim in Other.
type canaryService struct {
	Name                string          `json:"name"`
	Port                int32           `json:"port"`
	PortName            string          `json:"portName"`
	TargetPort          intOrString     `json:"targetPort"`
	AppProtocol         string          `json:"appProtocol"`
	TrafficDistribution string          `json:"trafficDistribution"`
	PortDiscovery       bool            `json:"portDiscovery"`
	Headless            bool            `json:"headless"`
	Timeout             string          `json:"timeout"`
	BackendTimeout      string          `json:"backendTimeout"`
	Gateways            []string        `json:"gateways"`
	GatewayRefs         []anyObject     `json:"gatewayRefs"`
	Hosts               []string        `json:"hosts"`
	Delegation          bool            `json:"delegation"`
	TrafficPolicy       anyObject       `json:"trafficPolicy"`
	Match               []anyObject     `json:"match"`
	Rewrite             anyObject       `json:"rewrite"`
	Retries             anyObject       `json:"retries"`
	Headers             anyObject       `json:"headers"`
	Mirror              []anyObject     `json:"mirror"`
	CorsPolicy          anyObject       `json:"corsPolicy"`
	MeshName            string          `json:"meshName"`
	Backends            []string        `json:"backends"`
	Apex                *customMetadata `json:"apex"`
	Primary             *customMetadata `json:"primary"`
	Canary              *customMetadata `json:"canary"`
	UnmanagedMetadata   *unmanagedMeta  `json:"unmanagedMetadata"`
}

// customMetadata is Flagger's CustomMetadata.
type customMetadata struct {
	Labels      map[string]string `json:"labels"`
	Annotations map[string]string `json:"annotations"`
}

// unmanagedMeta is Flagger's UnmanagedMetadata.
type unmanagedMeta struct {
	Annotations []string `json:"annotations"`
	Labels      []string `json:"labels"`
}

// condition is a Flagger status condition.
type condition struct {
	Type               string `json:"type"`
	Status             string `json:"status"`
	LastUpdateTime     string `json:"lastUpdateTime"`
	LastTransitionTime string `json:"lastTransitionTime"`
	Reason             string `json:"reason"`
	Message            string `json:"message"`
}

// canaryStatusExtra is Flagger's CanaryStatus beyond analysis.CanaryStatus,
// plus observedGeneration, which status writers commonly add.
type canaryStatusExtra struct {
	PreviousSessionAffinityCookie string            `json:"previousSessionAffinityCookie"`
	SessionAffinityCookie         string            `json:"sessionAffinityCookie"`
	PrimarySessionAffinityCookie  string            `json:"primarySessionAffinityCookie"`
	TrackedConfigs                map[string]string `json:"trackedConfigs"`
	LastAppliedSpec               string            `json:"lastAppliedSpec"`
	LastPromotedSpec              string            `json:"lastPromotedSpec"`
	Conditions                    []condition       `json:"conditions"`
	ObservedGeneration            int64             `json:"observedGeneration"`
}

// metricTemplateStatus is Flagger's MetricTemplateStatus.
type metricTemplateStatus struct {
	Conditions []condition `json:"conditions"`
}

// listObject is a List, CanaryList or MetricTemplateList; items are decoded
// one by one.
type listObject struct {
	APIVersion string            `json:"apiVersion"`
	Kind       string            `json:"kind"`
	Metadata   listMeta          `json:"metadata"`
	Items      []json.RawMessage `json:"items"`
}

var (
	canarySchema   = newCanarySchema()
	templateSchema = newTemplateSchema()
	listSchema     = schemaOf(reflect.TypeFor[listObject]())
)

// newCanarySchema is analysis.Canary patched to Flagger's CRD.
func newCanarySchema() *schema {
	s := schemaOf(reflect.TypeFor[analysis.Canary]())
	s.set("metadata", &fieldSchema{s: schemaOf(reflect.TypeFor[objectMeta]())})
	s.field("status").addDropped(reflect.TypeFor[canaryStatusExtra]())
	spec := s.field("spec")
	local := schemaOf(reflect.TypeFor[localObjectReference]())
	for _, name := range []string{"targetRef", "ingressRef", "routeRef"} {
		spec.set(name, &fieldSchema{s: local})
	}
	spec.set("service", &fieldSchema{s: schemaOf(reflect.TypeFor[canaryService]())})
	object := schemaOf(reflect.TypeFor[anyObject]())
	spec.set("autoscalerRef", &fieldSchema{s: object})
	// analysis and canaryAnalysis share one *schema, so patching one patches both.
	an := spec.field("analysis")
	an.set("sessionAffinity", &fieldSchema{s: object})
	an.set("match", &fieldSchema{s: &schema{kind: kSlice, elem: object}})
	return s
}

// newTemplateSchema is analysis.MetricTemplate patched to Flagger's CRD.
func newTemplateSchema() *schema {
	s := schemaOf(reflect.TypeFor[analysis.MetricTemplate]())
	s.set("metadata", &fieldSchema{s: schemaOf(reflect.TypeFor[objectMeta]())})
	s.set("status", &fieldSchema{s: schemaOf(reflect.TypeFor[metricTemplateStatus]()), drop: true})
	return s
}
