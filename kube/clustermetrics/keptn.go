package clustermetrics

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"

	"github.com/augurproj/augur/metrics"
)

// KeptnType is the MetricTemplate provider type.
const KeptnType = "keptn"

// Keptn's resources (metrics.keptn.sh/v1beta1), as Flagger reads them.
var (
	KeptnMetricResource = schema.GroupVersionResource{Group: "metrics.keptn.sh", Version: "v1beta1", Resource: "keptnmetrics"}
	AnalysisResource    = schema.GroupVersionResource{Group: "metrics.keptn.sh", Version: "v1beta1", Resource: "analyses"}
)

// Flagger's constants: how long an Analysis may take, how often it is
// polled, and the timeframe of an Analysis query that gives none.
const (
	AnalysisTimeout     = 10 * time.Second
	analysisPoll        = time.Second
	defaultAnalysisTime = "1m"
	// deleteTimeout bounds the clean-up of a created Analysis.
	deleteTimeout = 10 * time.Second
	// maxQuery bounds a query's length (an object name is at most 253).
	maxQuery = 4096
)

// MaxSkew is how far from now an evaluation time may be: Keptn's objects
// hold the current value only, so a query for another time (a replay of the
// past) would be answered with today's value. Flagger always asks "now".
const MaxSkew = 5 * time.Minute

// Keptn reads KeptnMetric values and runs Keptn Analyses.
type Keptn struct {
	dyn     dynamic.Interface
	timeout time.Duration
	poll    time.Duration
	now     func() time.Time
	suffix  func() string
}

var _ metrics.Provider = (*Keptn)(nil)

// NewKeptn returns a Keptn provider over a dynamic client.
func NewKeptn(dyn dynamic.Interface) *Keptn {
	return &Keptn{dyn: dyn, timeout: AnalysisTimeout, poll: analysisPoll, now: time.Now, suffix: randomSuffix}
}

// keptnQuery is a parsed query:
// <keptnmetric|analysis>/<namespace>/<name>[/<timeframe>[/<k=v;k=v>]].
type keptnQuery struct {
	resource  schema.GroupVersionResource
	namespace string
	name      string
	timeframe string
	args      map[string]any
}

const keptnFormat = "<keptnmetric|analysis>/<namespace>/<resourceName>/<duration>/<arguments>"

// parseKeptnQuery reads a query as Flagger does: lower-cased (all of it,
// arguments included), trimmed, split at "/".
func parseKeptnQuery(query string) (*keptnQuery, error) {
	if len(query) > maxQuery {
		return nil, fmt.Errorf("query of %d bytes: at most %d", len(query), maxQuery)
	}
	split := strings.Split(strings.TrimSpace(strings.TrimSuffix(strings.ToLower(query), "\n")), "/")
	if len(split) < 3 {
		return nil, fmt.Errorf("unexpected query format %q: the query must be %s", query, keptnFormat)
	}
	q := &keptnQuery{namespace: split[1], name: split[2]}
	switch split[0] {
	case "keptnmetric", KeptnMetricResource.Resource:
		q.resource = KeptnMetricResource
	case "analysis", AnalysisResource.Resource:
		q.resource = AnalysisResource
		q.timeframe = defaultAnalysisTime
		if len(split) >= 4 {
			q.timeframe = split[3]
		}
		q.args = map[string]any{}
		if len(split) >= 5 {
			for _, kv := range strings.Split(split[4], ";") {
				if p := strings.Split(kv, "="); len(p) == 2 {
					q.args[p[0]] = p[1]
				}
			}
		}
	default:
		return nil, fmt.Errorf("unexpected resource kind %q in the query: must be one of keptnmetric, analysis", split[0])
	}
	// Flagger sends an empty namespace or name to the API server, which
	// refuses it; augur says so before asking.
	if q.namespace == "" || q.name == "" {
		return nil, fmt.Errorf("query %q: empty namespace or resource name: the query must be %s", query, keptnFormat)
	}
	return q, nil
}

// Query reads a KeptnMetric's status.value, or creates an Analysis and
// returns 1 when Keptn passes it and 0 when it fails it (the Analysis is
// deleted afterwards). at must be zero or within MaxSkew of now.
func (k *Keptn) Query(ctx context.Context, query string, at time.Time) (float64, error) {
	q, err := parseKeptnQuery(query)
	if err != nil {
		return 0, fmt.Errorf("keptn: %w", err)
	}
	if !at.IsZero() {
		if d := k.now().Sub(at); d > MaxSkew || d < -MaxSkew {
			return 0, fmt.Errorf("keptn query %q at %s: Keptn holds current values only, and this evaluation time is %s from now (at most %s): record the query with augur record to replay it",
				query, at.UTC().Format(time.RFC3339), d.Round(time.Second), MaxSkew)
		}
	}
	if q.resource == KeptnMetricResource {
		return k.metric(ctx, q)
	}
	return k.analysis(ctx, q)
}

func (k *Keptn) metric(ctx context.Context, q *keptnQuery) (float64, error) {
	obj, err := k.dyn.Resource(q.resource).Namespace(q.namespace).Get(ctx, q.name, metav1.GetOptions{})
	if err != nil {
		return 0, fmt.Errorf("could not retrieve KeptnMetric %s/%s: %w", q.namespace, q.name, err)
	}
	value, ok, _ := unstructured.NestedString(obj.Object, "status", "value")
	if !ok {
		return 0, fmt.Errorf("could not retrieve KeptnMetric - no value found in resource %s/%s", q.namespace, q.name)
	}
	f, err := strconv.ParseFloat(value, 64)
	if err != nil {
		return 0, fmt.Errorf("could not parse value of KeptnMetric %s/%s to float: %w", q.namespace, q.name, err)
	}
	// Flagger returns NaN, which passes every threshold; augur holds.
	if math.IsNaN(f) {
		return 0, fmt.Errorf("KeptnMetric %s/%s: value %q: %w", q.namespace, q.name, value, metrics.ErrNoValues)
	}
	return f, nil
}

func (k *Keptn) analysis(ctx context.Context, q *keptnQuery) (float64, error) {
	what := q.namespace + "/" + q.name
	obj := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": AnalysisResource.Group + "/" + AnalysisResource.Version,
		"kind":       "Analysis",
		"metadata":   map[string]any{"name": q.name + "-" + k.suffix(), "namespace": q.namespace},
		"spec": map[string]any{
			"analysisDefinition": map[string]any{"name": q.name},
			"timeframe":          map[string]any{"recent": q.timeframe},
			"args":               q.args,
		},
	}}
	ctx, cancel := context.WithTimeout(ctx, k.timeout)
	defer cancel()
	res := k.dyn.Resource(q.resource).Namespace(q.namespace)
	created, err := res.Create(ctx, obj, metav1.CreateOptions{})
	if err != nil {
		return 0, fmt.Errorf("could not create Keptn Analysis %s: %w", what, err)
	}
	name := created.GetName()
	defer func() {
		// The clean-up outlives the query's deadline, not the process.
		dctx, dcancel := context.WithTimeout(context.WithoutCancel(ctx), deleteTimeout)
		defer dcancel()
		_ = res.Delete(dctx, name, metav1.DeleteOptions{})
	}()
	t := time.NewTicker(k.poll)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return 0, fmt.Errorf("encountered timeout while waiting for Keptn Analysis %s to be finished (Analysis %s, at most %s): %w",
				what, name, k.timeout, ctx.Err())
		case <-t.C:
		}
		got, err := res.Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			if ctx.Err() != nil {
				continue // reported by the select
			}
			return 0, fmt.Errorf("could not check status of created Keptn Analysis %s: %w", what, err)
		}
		state, ok, err := unstructured.NestedString(got.Object, "status", "state")
		if err != nil {
			return 0, fmt.Errorf("could not check status of created Keptn Analysis %s: %w", what, err)
		}
		if !ok || state != "Completed" {
			continue
		}
		pass, ok, err := unstructured.NestedBool(got.Object, "status", "pass")
		if err != nil {
			return 0, fmt.Errorf("could not check status of created Keptn Analysis %s: %w", what, err)
		}
		if ok {
			if pass {
				return 1, nil
			}
			return 0, nil
		}
	}
}

// IsOnline is Flagger's: Keptn is taken to be online (it checks nothing).
func (k *Keptn) IsOnline(context.Context) error { return nil }

// randomSuffix is six hex digits, as Flagger's uuid prefix.
func randomSuffix() string {
	b := make([]byte, 3)
	if _, err := rand.Read(b); err != nil {
		panic(errors.Join(errors.New("crypto/rand"), err))
	}
	return hex.EncodeToString(b)
}
