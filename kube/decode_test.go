package kube

import (
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"

	"github.com/augurproj/augur/analysis"
	"github.com/augurproj/augur/manifest"
)

func loadObject(tb testing.TB, path string) *unstructured.Unstructured {
	tb.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	var obj map[string]any
	if err := yaml.Unmarshal(b, &obj); err != nil {
		tb.Fatal(err)
	}
	return &unstructured.Unstructured{Object: obj}
}

func TestDecodeObjectKind(t *testing.T) {
	canary := loadObject(t, "testdata/objects/canary-podinfo.good.yaml")
	tmpl := loadObject(t, "testdata/objects/template-not-found.good.yaml")
	otherVersion := canary.DeepCopy()
	otherVersion.SetAPIVersion("flagger.app/v1alpha3")
	tests := []struct {
		name    string
		obj     *unstructured.Unstructured
		kind    string
		wantErr string
	}{
		{name: "canary", obj: canary, kind: analysis.KindCanary},
		{name: "template", obj: tmpl, kind: analysis.KindMetricTemplate},
		{name: "template read as canary", obj: tmpl, kind: analysis.KindCanary,
			wantErr: `cluster Canary istio-system/not-found-percentage: apiVersion "flagger.app/v1beta1" kind "MetricTemplate", want flagger.app/v1beta1 Canary`},
		{name: "other version", obj: otherVersion, kind: analysis.KindCanary,
			wantErr: `cluster Canary test/podinfo: apiVersion "flagger.app/v1alpha3" kind "Canary", want flagger.app/v1beta1 Canary`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			set, err := decodeObject(tt.obj, tt.kind)
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("error %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if n := len(set.Canaries) + len(set.Templates); n != 1 {
				t.Errorf("%d objects, want 1", n)
			}
		})
	}
}

// FuzzDecodeCanary feeds arbitrary JSON objects, as a permissive CRD would
// store them, to the cluster decoder. Invariants: no panic; an error names
// the object it is about; a decoded Canary keeps the object's name and
// namespace and survives a JSON round trip through the decoder unchanged.
func FuzzDecodeCanary(f *testing.F) {
	for _, p := range []string{"testdata/objects/canary-podinfo.good.yaml", "testdata/objects/canary-unknown-field.bad.yaml", "testdata/objects/canary-wrong-type.bad.yaml"} {
		b, err := json.Marshal(loadObject(f, p).Object)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`{"apiVersion":"flagger.app/v1beta1","kind":"Canary","metadata":{"name":"a"},"spec":{"targetRef":{"name":"a"}}}`))
	f.Add([]byte(`{"apiVersion":"flagger.app/v1beta1","kind":"Canary","metadata":{"name":"a","namespace":"b"},"spec":{"analysis":{"metrics":[{"name":"x","thresholdRange":{"min":1e308}}]}},"status":{"canaryWeight":1.0}}`))
	f.Add([]byte(`{"apiVersion":"flagger.app/v1beta1","kind":"Canary","metadata":{"name":"a"},"spec":null,"status":{"phase":7}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var obj map[string]any
		if err := json.Unmarshal(data, &obj); err != nil || obj == nil {
			return // not an object: the API server never returns one
		}
		u := &unstructured.Unstructured{Object: obj}
		wantNS := u.GetNamespace()
		if wantNS == "" {
			wantNS = manifest.DefaultNamespace
		}
		c, err := decodeCanary(u)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "cluster") {
				t.Fatalf("error %q does not say it is about an object from the cluster", err)
			}
			if u.GetName() != "" && !strings.Contains(err.Error(), u.GetName()) {
				t.Fatalf("error %q does not name the object %q", err, u.GetName())
			}
			var me *manifest.Error
			if errors.As(err, &me) && (me.Pos != (manifest.Position{}) || me.Document != 0) {
				t.Fatalf("error %q carries a position in JSON the user never saw", err)
			}
			return
		}
		if c.Metadata.Name != u.GetName() || c.Metadata.Namespace != wantNS {
			t.Fatalf("decoded %s/%s from object %s/%s", c.Metadata.Namespace, c.Metadata.Name, u.GetNamespace(), u.GetName())
		}
		b, err := json.Marshal(c)
		if err != nil {
			t.Fatalf("marshal decoded canary: %v", err)
		}
		var again map[string]any
		if err := json.Unmarshal(b, &again); err != nil {
			t.Fatal(err)
		}
		c2, err := decodeCanary(&unstructured.Unstructured{Object: again})
		if err != nil {
			t.Fatalf("decoded canary does not decode again: %v\n%s", err, b)
		}
		if diff := cmp.Diff(c, c2, cmpopts.EquateEmpty()); diff != "" {
			t.Fatalf("round trip changed the canary (-first +second):\n%s", diff)
		}
	})
}

func BenchmarkDecodeCanary(b *testing.B) {
	u := loadObject(b, "testdata/objects/canary-podinfo.good.yaml")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := decodeCanary(u); err != nil {
			b.Fatal(err)
		}
	}
}
