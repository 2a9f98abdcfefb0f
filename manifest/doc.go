// Package manifest owns reading Flagger objects from files and bytes and
// validating them: it strictly decodes Canary and MetricTemplate objects
// (flagger.app/v1beta1) from YAML or JSON into the types of package analysis,
// and reports every problem with the source, document, object, field path,
// line and column a person needs to fix it.
//
// # Input
//
// An input is a YAML stream (documents separated by ---), a JSON object, a
// stream of concatenated JSON objects, a Kubernetes List (kind: List, items:)
// or a CanaryList / MetricTemplateList. Empty documents are skipped, and so
// are objects of other kinds (Deployment, Service, HorizontalPodAutoscaler,
// AlertProvider, …) kept in the same file. A document in the flagger.app
// group with an unknown kind, or a Canary or MetricTemplate whose apiVersion
// is not flagger.app/v1beta1, is an error.
//
// # Strictness
//
// Decoding follows what the Kubernetes API server would accept for the
// Flagger v1.44 CRDs, read the way kubectl reads YAML (YAML 1.1 scalars via
// sigs.k8s.io/yaml): unknown fields, duplicate fields and values of the wrong
// type are errors. In particular an unquoted yes, no, on, off, y or n is a
// boolean, an unquoted 1.0 is a number (so a string field needs quotes), and a
// quoted "5" is a string (so an integer field must not be quoted). Integer
// fields accept integral numbers (5 or 5.0) and reject 5.5 and out-of-range
// values. Null is accepted anywhere and means "not set". Anchors, aliases and
// merge keys (<<) work; alias cycles and alias bombs are errors.
//
// Fields the analysis types keep as raw JSON (spec.autoscalerRef,
// analysis.match, analysis.sessionAffinity) accept any content of the right
// JSON type. spec.service accepts exactly the fields of Flagger v1.44's
// CanaryService: name is decoded into analysis.CanaryService.Name and every
// other field is kept verbatim in CanaryService.Other. Flagger's targetRef,
// ingressRef and routeRef are local references, so a namespace there is an
// unknown field. Every standard Kubernetes ObjectMeta field is accepted, but
// only name, namespace, labels and annotations are kept. A Canary's status
// accepts all of Flagger's status fields; those outside analysis.CanaryStatus
// (conditions, trackedConfigs, lastAppliedSpec, …) are dropped, as is a
// MetricTemplate's status.
//
// # Defaults
//
// Decode applies exactly one default: an object without metadata.namespace
// gets "default", as kubectl would. metric templateRef namespaces are NOT
// filled in, so the decoded object is what the user wrote; Set.TemplateFor and
// TemplateNamespace apply Flagger's rule (an empty templateRef.namespace means
// the canary's namespace) at lookup time.
//
// # Validation
//
// Validate checks the rules of Flagger's CRD (required fields, enums,
// duration patterns, the analysis oneOf) plus a few augur adds where Flagger
// would silently misbehave (durations that match the CRD pattern but do not
// parse, weights outside 0..100, a non-increasing stepWeights ladder, metrics
// that are neither builtin nor have a query or templateRef, duplicate metric
// names). Resolve checks that every templateRef names a MetricTemplate in the
// set; it is separate because with a cluster source templates come from
// elsewhere.
//
// # Imports
//
// The package imports only package analysis, the standard library and
// go.yaml.in/yaml/v3. It must not import client-go or apimachinery, the
// engine, metrics, templates, webhooks or any transport.
package manifest
