package lint

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

const deployment = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: shop
spec:
  replicas: 1
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
        - name: web
`

func TestParse(t *testing.T) {
	tests := []struct {
		name, in string
		objects  []string
		at       map[string]int // path → line of the first object
		err      string
	}{
		{name: "yaml stream", in: deployment + "---\n---\napiVersion: v1\nkind: Service\nmetadata: {name: web, namespace: shop}\n",
			objects: []string{"Deployment shop/web", "Service shop/web"}, at: map[string]int{"spec.replicas": 7, "spec.template.spec.containers[0].name": 13}},
		{name: "json", in: `{"apiVersion": "apps/v1", "kind": "Deployment",
 "metadata": {"name": "web"},
 "spec": {"replicas": 2}}`, objects: []string{"Deployment default/web"}, at: map[string]int{"spec.replicas": 3}},
		{name: "list", in: "apiVersion: v1\nkind: List\nitems:\n- apiVersion: policy/v1\n  kind: PodDisruptionBudget\n  metadata: {name: a}\n  spec:\n    maxUnavailable: 0\n",
			objects: []string{"PodDisruptionBudget default/a"}, at: map[string]int{"spec.maxUnavailable": 8}},
		{name: "anchors and annotations with dots", in: "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: x\n  annotations: &a\n    augur.dev/lint-ignore: all\nspec:\n  template:\n    metadata:\n      annotations: *a\n",
			objects: []string{"Deployment default/x"}, at: map[string]int{"metadata.annotations[augur.dev/lint-ignore]": 6}},
		{name: "no kind", in: "apiVersion: v1\nmetadata: {name: x}\n", err: "<in>:1:1: document 1: not a Kubernetes object"},
		{name: "scalar document", in: "hello\n", err: "expected a Kubernetes object"},
		{name: "bad yaml", in: "a: [\n", err: "invalid YAML"},
		{name: "duplicate field", in: "apiVersion: apps/v1\nkind: Deployment\nkind: Deployment\n", err: `key "kind" is given twice`},
		{name: "strict canary", in: "apiVersion: flagger.app/v1beta1\nkind: Canary\nmetadata: {name: x}\nspec:\n  targetRef: {name: x}\n  analysis: {intervall: 1m}\n", err: `unknown field "intervall"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			objs, err := Parse([]byte(tt.in), "<in>")
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("err %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var keys []string
			for _, o := range objs {
				keys = append(keys, o.Key())
			}
			if strings.Join(keys, ",") != strings.Join(tt.objects, ",") {
				t.Errorf("objects %v, want %v", keys, tt.objects)
			}
			for path, line := range tt.at {
				if got := objs[0].At(path).Line; got != line {
					t.Errorf("%s at line %d, want %d", path, got, line)
				}
			}
		})
	}
}

func TestRunInputErrors(t *testing.T) {
	for _, tc := range []struct{ from, to, err string }{
		{"replicas: 1", "replicas: two", "<in>:7:13: Deployment shop/web: spec.replicas: want an integer"},
		{"replicas: 1", "replicas: 1\n  strategy: {rollingUpdate: {maxSurge: lots}}", "spec.strategy.rollingUpdate.maxSurge: want an integer or a percentage"},
		{"        - name: web\n", "        - name: web\n          lifecycle: {preStop: {sleep: {seconds: ten}}}\n", "lifecycle.preStop.sleep.seconds: want an integer"},
		{"      containers:", "      containers: web\n      x:", "spec.template.spec.containers: want a list"},
	} {
		objs, err := Parse([]byte(strings.Replace(deployment, tc.from, tc.to, 1)), "<in>")
		if err != nil {
			t.Fatal(err)
		}
		_, err = Run(objs, Options{})
		if err == nil || !strings.Contains(err.Error(), tc.err) {
			t.Errorf("%q: err %v, want %q", tc.to, err, tc.err)
		}
	}
}

func TestOptions(t *testing.T) {
	objs, err := Parse([]byte(deployment), "<in>")
	if err != nil {
		t.Fatal(err)
	}
	count := func(o Options) (errs, warns int, rules []string) {
		fs, err := Run(objs, o)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range fs {
			rules = append(rules, f.Rule)
			if f.Severity == Warning {
				warns++
			}
		}
		return Errors(fs), warns, rules
	}
	e0, _, all := count(Options{})
	if e0 == 0 {
		t.Fatal("no errors")
	}
	if e, w, _ := count(Options{Lower: []string{"all"}}); e != 0 || w != e0 {
		t.Errorf("--warn all: %d errors %d warnings, want 0 and %d", e, w, e0)
	}
	if _, _, rules := count(Options{Disable: []string{"single-replica"}}); len(rules) != len(all)-1 {
		t.Errorf("--disable single-replica: %v (all: %v)", rules, all)
	}
	if err := (Options{Disable: []string{"nope"}}).Check(); err == nil {
		t.Error("an unknown rule id is accepted")
	}
	// A longer propagation allowance makes a 10s preStop too short.
	withPreStop := strings.Replace(deployment, "        - name: web\n", "        - name: web\n          lifecycle: {preStop: {exec: {command: [sh, -c, 'sleep 10']}}}\n", 1)
	objs, err = Parse([]byte(withPreStop), "<in>")
	if err != nil {
		t.Fatal(err)
	}
	if _, _, rules := count(Options{Propagation: 15 * time.Second}); !strings.Contains(strings.Join(rules, ","), "prestop-too-short") {
		t.Errorf("--propagation 15s: %v", rules)
	}
	if _, _, rules := count(Options{}); strings.Contains(strings.Join(rules, ","), "prestop-") {
		t.Errorf("sleep 10 with the default allowance: %v", rules)
	}
}

func TestFocusAndFromMap(t *testing.T) {
	o, err := FromMap(map[string]any{"apiVersion": "policy/v1", "kind": "PodDisruptionBudget",
		"metadata": map[string]any{"name": "web", "namespace": "shop"},
		"spec":     map[string]any{"minAvailable": 1, "selector": map[string]any{"matchLabels": map[string]any{"app": "web"}}}})
	if err != nil {
		t.Fatal(err)
	}
	objs, err := Parse([]byte(deployment), "<in>")
	if err != nil {
		t.Fatal(err)
	}
	fs, err := Run(append(objs, o), Options{})
	if err != nil {
		t.Fatal(err)
	}
	var pdb *Finding
	for i := range fs {
		if fs[i].Rule == "pdb-blocks-eviction" {
			pdb = &fs[i]
		}
	}
	if pdb == nil || pdb.File != "cluster" || pdb.Line != 0 || pdb.Object != "PodDisruptionBudget shop/web" {
		t.Fatalf("pdb-blocks-eviction from a cluster object: %+v", pdb)
	}
	focused := Focus(fs, "Deployment shop/web")
	if len(focused) != len(fs) {
		t.Errorf("Focus on the workload dropped the PDB finding about it: %d of %d", len(focused), len(fs))
	}
	if got := Focus(fs, "Deployment shop/other"); len(got) != 0 {
		t.Errorf("Focus on another workload: %v", got)
	}
}

func TestFindingJSONRoundTrip(t *testing.T) {
	in := Finding{Rule: "single-replica", Severity: Warning, Object: "Deployment a/b", Path: "spec.replicas", File: "f.yaml", Line: 3, Message: "m", Fix: "replicas: 2\n"}
	b, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	var out Finding
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	if out.Severity != Warning || out.Rule != in.Rule || out.Line != 3 {
		t.Errorf("round trip: %+v", out)
	}
	if err := json.Unmarshal([]byte(`{"severity": "fatal"}`), &out); err == nil {
		t.Error("severity fatal accepted")
	}
}
