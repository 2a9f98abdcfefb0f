package kube_test

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	k8stesting "k8s.io/client-go/testing"
	"sigs.k8s.io/yaml"

	"github.com/augurproj/augur/analysis"
	"github.com/augurproj/augur/engine"
	"github.com/augurproj/augur/kube"
	"github.com/augurproj/augur/kube/kubetest"
	"github.com/augurproj/augur/manifest"
	"github.com/augurproj/augur/metrics"
)

var update = flag.Bool("update", false, "rewrite golden files")

// objectHeader is what the golden test needs to know about a test object.
type objectHeader struct {
	Kind     string `json:"kind"`
	Metadata struct {
		Name      string `json:"name"`
		Namespace string `json:"namespace"`
	} `json:"metadata"`
}

// TestSourceObjectsGolden reads every testdata/objects/*.yaml object from
// a fake cluster through Source and compares the decoded object (for
// *.good.yaml) or the error (for *.bad.yaml) with its .golden file.
func TestSourceObjectsGolden(t *testing.T) {
	files, err := filepath.Glob("testdata/objects/*.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no test objects in testdata/objects")
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			var h objectHeader
			if err := yaml.Unmarshal(b, &h); err != nil {
				t.Fatal(err)
			}
			cl, err := kubetest.New(string(b))
			if err != nil {
				t.Fatal(err)
			}
			src := cl.Source("")
			var got any
			switch h.Kind {
			case analysis.KindCanary:
				got, err = src.Canary(t.Context(), h.Metadata.Namespace, h.Metadata.Name)
			case analysis.KindMetricTemplate:
				got, err = src.MetricTemplate(t.Context(), h.Metadata.Namespace, h.Metadata.Name)
			default:
				t.Fatalf("kind %q: want Canary or MetricTemplate", h.Kind)
			}
			good := strings.HasSuffix(f, ".good.yaml")
			var out []byte
			switch {
			case good && err != nil:
				t.Fatalf("want the object, got error %v", err)
			case !good && err == nil:
				t.Fatalf("want an error, got %+v", got)
			case good:
				out, err = json.MarshalIndent(got, "", "  ")
				if err != nil {
					t.Fatal(err)
				}
			default:
				if errors.Is(err, engine.ErrNotFound) {
					t.Errorf("a bad object is not a missing one: %v", err)
				}
				if !errors.Is(err, manifest.ErrUnknownField) && !errors.Is(err, manifest.ErrType) {
					t.Errorf("error does not wrap the decoder's sentinel: %v", err)
				}
				out = []byte(err.Error())
			}
			checkGolden(t, strings.TrimSuffix(f, ".yaml")+".golden", append(out, '\n'))
		})
	}
}

func checkGolden(t *testing.T, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("%s mismatch (-want +got):\n%s", path, diff)
	}
}

// TestCanaryMatchesFileDecoding checks that a Canary read from the cluster
// is exactly what manifest decodes from the same object in a file, status
// included.
func TestCanaryMatchesFileDecoding(t *testing.T) {
	b, err := os.ReadFile("testdata/objects/canary-podinfo.good.yaml")
	if err != nil {
		t.Fatal(err)
	}
	set, err := manifest.DecodeBytes(b, "file")
	if err != nil {
		t.Fatal(err)
	}
	cl, err := kubetest.New(string(b))
	if err != nil {
		t.Fatal(err)
	}
	got, err := cl.Source("").Canary(t.Context(), "test", "podinfo")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(set.Canaries[0], got); diff != "" {
		t.Errorf("cluster and file decoding differ (-file +cluster):\n%s", diff)
	}
	want := analysis.CanaryStatus{Phase: analysis.PhaseProgressing, CanaryWeight: 20, FailedChecks: 1, LastTransitionTime: "2026-11-01T10:12:00Z"}
	if diff := cmp.Diff(want, got.Status); diff != "" {
		t.Errorf("status (-want +got):\n%s", diff)
	}
}

const secretYAML = `
apiVersion: v1
kind: Secret
metadata:
  name: prom-auth
  namespace: istio-system
data:
  token: c2VjcmV0LTE=
stringData:
  username: admin
`

func TestSourceSecret(t *testing.T) {
	cl, err := kubetest.New(secretYAML)
	if err != nil {
		t.Fatal(err)
	}
	src := cl.Source("")
	tests := []struct {
		name, ns, secret string
		want             map[string]string
		notFound         bool
	}{
		{name: "decoded data", ns: "istio-system", secret: "prom-auth", want: map[string]string{"token": "secret-1", "username": "admin"}},
		{name: "other namespace", ns: "test", secret: "prom-auth", notFound: true},
		{name: "missing", ns: "istio-system", secret: "nope", notFound: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := src.Secret(t.Context(), tt.ns, tt.secret)
			if tt.notFound {
				if !errors.Is(err, engine.ErrNotFound) {
					t.Fatalf("want ErrNotFound, got %v", err)
				}
				if want := "Secret " + tt.ns + "/" + tt.secret; !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not name %s", err, want)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

// TestSecretChangeSeen checks that Secret reads the server on every call:
// an updated Secret is returned by the next call.
func TestSecretChangeSeen(t *testing.T) {
	cl, err := kubetest.New(secretYAML)
	if err != nil {
		t.Fatal(err)
	}
	src := cl.Source("")
	ctx := t.Context()
	first, err := src.Secret(ctx, "istio-system", "prom-auth")
	if err != nil {
		t.Fatal(err)
	}
	s, err := cl.Core.CoreV1().Secrets("istio-system").Get(ctx, "prom-auth", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	s.Data["token"] = []byte("secret-2")
	if _, err := cl.Core.CoreV1().Secrets("istio-system").Update(ctx, s, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	second, err := src.Secret(ctx, "istio-system", "prom-auth")
	if err != nil {
		t.Fatal(err)
	}
	if first["token"] != "secret-1" || second["token"] != "secret-2" {
		t.Errorf("token before/after the update = %q/%q, want secret-1/secret-2", first["token"], second["token"])
	}
}

func TestSourceErrors(t *testing.T) {
	noResource := &apierrors.StatusError{ErrStatus: metav1.Status{
		Status: metav1.StatusFailure, Code: 404, Reason: metav1.StatusReasonNotFound,
		Message: "the server could not find the requested resource",
	}}
	forbidden := apierrors.NewForbidden(schema.GroupResource{Group: "flagger.app", Resource: "canaries"}, "podinfo", errors.New("RBAC says no"))
	tests := []struct {
		name     string
		react    error
		notFound bool
		want     []string
	}{
		{name: "missing object", notFound: true, want: []string{"Canary test/podinfo", "not found in the cluster"}},
		{name: "missing CRD", react: noResource, notFound: true,
			want: []string{"Canary test/podinfo", "no flagger.app/v1beta1 canaries resource", "is Flagger's CRD installed?"}},
		{name: "forbidden", react: forbidden, want: []string{"reading Canary test/podinfo from the cluster", "RBAC says no"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cl, err := kubetest.New()
			if err != nil {
				t.Fatal(err)
			}
			if tt.react != nil {
				cl.Dynamic.PrependReactor("get", kube.CanaryResource.Resource, func(k8stesting.Action) (bool, runtime.Object, error) {
					return true, nil, tt.react
				})
			}
			_, err = cl.Source("").Canary(t.Context(), "test", "podinfo")
			if err == nil {
				t.Fatal("want an error")
			}
			if got := errors.Is(err, engine.ErrNotFound); got != tt.notFound {
				t.Errorf("errors.Is(err, ErrNotFound) = %v, want %v (%v)", got, tt.notFound, err)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

func TestMissingTemplateIsNotFound(t *testing.T) {
	cl, err := kubetest.New()
	if err != nil {
		t.Fatal(err)
	}
	_, err = cl.Source("").MetricTemplate(t.Context(), "istio-system", "nope")
	if !errors.Is(err, engine.ErrNotFound) {
		t.Fatalf("want ErrNotFound, got %v", err)
	}
	if !strings.Contains(err.Error(), "MetricTemplate istio-system/nope") {
		t.Errorf("error %q does not name the template", err)
	}
}

// credentialRecorder is a metrics provider factory that records the
// credentials each provider was built with; every query returns 1.
type credentialRecorder struct {
	seen []map[string]string
}

func (r *credentialRecorder) registry() *metrics.Registry {
	reg := &metrics.Registry{}
	reg.Register("prometheus", func(c metrics.Config) (metrics.Provider, error) {
		r.seen = append(r.seen, c.Credentials)
		return constant(1), nil
	})
	return reg
}

type constant float64

func (c constant) Query(context.Context, string, time.Time) (float64, error) { return float64(c), nil }

// TestEngineReadsClusterEachTick wires a Source into the engine as its
// template and secret source and checks that a Secret changed between two
// evaluations reaches the provider of the second one.
func TestEngineReadsClusterEachTick(t *testing.T) {
	canary, err := os.ReadFile("testdata/objects/canary-podinfo.good.yaml")
	if err != nil {
		t.Fatal(err)
	}
	tmpl, err := os.ReadFile("testdata/objects/template-not-found.good.yaml")
	if err != nil {
		t.Fatal(err)
	}
	cl, err := kubetest.New(string(canary), string(tmpl), secretYAML)
	if err != nil {
		t.Fatal(err)
	}
	src := cl.Source("")
	rec := &credentialRecorder{}
	eng, err := engine.New(engine.Options{Registry: rec.registry(), Templates: src, Secrets: src})
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	c, err := src.Canary(ctx, "test", "podinfo")
	if err != nil {
		t.Fatal(err)
	}
	evaluate := func() []analysis.Observation {
		t.Helper()
		plans, err := eng.Plan(ctx, &c)
		if err != nil {
			t.Fatal(err)
		}
		obs := eng.Evaluate(ctx, plans, time.Unix(1793527200, 0))
		for _, o := range obs {
			if o.Err != nil {
				t.Fatalf("metric %s: %v", o.Metric, o.Err.Message)
			}
		}
		return obs
	}
	if got := len(evaluate()); got != 2 {
		t.Fatalf("%d observations, want 2 (builtin + template)", got)
	}
	s, err := cl.Core.CoreV1().Secrets("istio-system").Get(ctx, "prom-auth", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	s.Data["token"] = []byte("rotated")
	if _, err := cl.Core.CoreV1().Secrets("istio-system").Update(ctx, s, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	evaluate()
	var tokens []string
	for _, cred := range rec.seen {
		if cred != nil {
			tokens = append(tokens, cred["token"])
		}
	}
	if diff := cmp.Diff([]string{"secret-1", "rotated"}, tokens); diff != "" {
		t.Errorf("tokens the template's providers were built with (-want +got):\n%s", diff)
	}
}

func TestEmitEvents(t *testing.T) {
	canary, err := os.ReadFile("testdata/objects/canary-podinfo.good.yaml")
	if err != nil {
		t.Fatal(err)
	}
	d := analysis.Decision{Events: []analysis.Event{
		{Type: analysis.EventNormal, Message: "Advance podinfo.test canary weight 30"},
		{Type: analysis.EventWarning, Message: "Halt podinfo.test advancement success rate 90.00% < 99%"},
	}}
	tests := []struct {
		name     string
		canary   analysis.Canary
		decision analysis.Decision
		want     []analysis.Event
		notFound bool
	}{
		{name: "two events", canary: analysis.Canary{Metadata: analysis.ObjectMeta{Name: "podinfo", Namespace: "test"}}, decision: d, want: d.Events},
		{name: "no events", canary: analysis.Canary{Metadata: analysis.ObjectMeta{Name: "podinfo", Namespace: "test"}}, want: nil},
		{name: "canary not in the cluster", canary: analysis.Canary{Metadata: analysis.ObjectMeta{Name: "ghost", Namespace: "test"}}, decision: d, notFound: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cl, err := kubetest.New(string(canary))
			if err != nil {
				t.Fatal(err)
			}
			src := cl.Source("")
			n, err := src.EmitEvents(t.Context(), &tt.canary, tt.decision)
			if tt.notFound {
				if !errors.Is(err, engine.ErrNotFound) || n != 0 {
					t.Fatalf("want 0 events and ErrNotFound, got %d, %v", n, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if n != len(tt.want) {
				t.Errorf("EmitEvents returned %d, want %d", n, len(tt.want))
			}
			evs, err := cl.Events(t.Context(), "test")
			if err != nil {
				t.Fatal(err)
			}
			var got []analysis.Event
			for _, e := range evs {
				got = append(got, analysis.Event{Type: analysis.EventType(e.Type), Message: e.Message})
				ref := e.InvolvedObject
				if ref.Kind != "Canary" || ref.APIVersion != "flagger.app/v1beta1" || ref.Name != "podinfo" ||
					ref.Namespace != "test" || ref.UID != "0b7a3c57-5d2e-4c1e-9a55-1f0c2f6f9e11" {
					t.Errorf("involvedObject = %+v", ref)
				}
				if e.Reason != "Synced" || e.Source.Component != "augur" || e.Count != 1 || e.Namespace != "test" {
					t.Errorf("event %s: reason %q, component %q, count %d, namespace %q", e.Name, e.Reason, e.Source.Component, e.Count, e.Namespace)
				}
				if e.FirstTimestamp.IsZero() || !e.FirstTimestamp.Equal(&e.LastTimestamp) {
					t.Errorf("event %s: timestamps %v / %v", e.Name, e.FirstTimestamp, e.LastTimestamp)
				}
				if !strings.HasPrefix(e.Name, "podinfo.") {
					t.Errorf("event name %q, want podinfo.<hex>", e.Name)
				}
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("events in name order (-want +got):\n%s", diff)
			}
		})
	}
}

func TestKubetestRejectsBadManifests(t *testing.T) {
	tests := []struct{ name, manifest, want string }{
		{"no name", "apiVersion: v1\nkind: Secret\nmetadata: {namespace: x}\n", "metadata.name are required"},
		{"not yaml", "a: [\n", "document 1"},
		{"bad secret", "apiVersion: v1\nkind: Secret\nmetadata: {name: s}\ndata: {k: 5}\n", "Secret /s"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := kubetest.New(tt.manifest)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want it to contain %q", err, tt.want)
			}
		})
	}
}

func BenchmarkSourceCanary(b *testing.B) {
	y, err := os.ReadFile("testdata/objects/canary-podinfo.good.yaml")
	if err != nil {
		b.Fatal(err)
	}
	cl, err := kubetest.New(string(y))
	if err != nil {
		b.Fatal(err)
	}
	src := cl.Source("")
	ctx := b.Context()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := src.Canary(ctx, "test", "podinfo"); err != nil {
			b.Fatal(err)
		}
	}
}
