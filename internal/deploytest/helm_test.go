package deploytest

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"
)

var update = flag.Bool("update", false, "rewrite deploy/augur.yaml from the chart")

const (
	chart      = "../../charts/augur"
	goldenPath = "../../deploy/augur.yaml"
	goldenVals = "../../deploy/values.yaml"
	// providersPath is deploy/values.yaml's rendering with the cluster
	// metrics providers on (providersSet): kube's deployment test applies
	// its RBAC to a real kube-apiserver.
	providersPath = "../../kube/testdata/deploy-providers.yaml"
	providersSet  = "providers.keptn=true,providers.externalMetrics=true"
	release       = "augur"
	namespace     = "augur-system"
)

func helmBin(t *testing.T) string {
	t.Helper()
	h := os.Getenv("HELM")
	if h == "" {
		t.Skip("HELM unset: scripts/ci-deploy.sh builds helm from helm.sh/helm/v4 and sets it")
	}
	return h
}

func helm(t *testing.T, args ...string) (string, error) {
	t.Helper()
	cmd := exec.Command(helmBin(t), args...)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	cmd.Env = append(os.Environ(), "HELM_CACHE_HOME="+t.TempDir(), "HELM_CONFIG_HOME="+t.TempDir(), "HELM_DATA_HOME="+t.TempDir())
	err := cmd.Run()
	if err != nil {
		return out.String() + errOut.String(), fmt.Errorf("helm %s: %w\n%s", strings.Join(args, " "), err, errOut.String())
	}
	return out.String(), nil
}

// objects splits a rendering into its objects.
func objects(t *testing.T, rendered string) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, doc := range strings.Split(rendered, "\n---") {
		var m map[string]any
		if err := yaml.Unmarshal([]byte(doc), &m); err != nil {
			t.Fatalf("%v in:\n%s", err, doc)
		}
		if m != nil {
			out = append(out, m)
		}
	}
	return out
}

func find(objs []map[string]any, kind string) []map[string]any {
	var out []map[string]any
	for _, o := range objs {
		if o["kind"] == kind {
			out = append(out, o)
		}
	}
	return out
}

// get walks a path of map keys and list indexes.
func get(v any, path ...any) any {
	for _, p := range path {
		switch k := p.(type) {
		case string:
			m, _ := v.(map[string]any)
			v = m[k]
		case int:
			l, _ := v.([]any)
			if k >= len(l) {
				return nil
			}
			v = l[k]
		}
	}
	return v
}

func num(v any) int {
	f, _ := v.(float64)
	return int(f)
}

// TestHelmChart lints the chart and renders it, with the default values,
// the committed deploy/values.yaml (the rendering must equal
// deploy/augur.yaml) and non-default values, and checks the Deployment
// against the zero-downtime checklist.
func TestHelmChart(t *testing.T) {
	helmBin(t)
	for _, vals := range [][]string{nil, {"-f", goldenVals}, {"-f", "testdata/values-full.yaml"}} {
		args := append([]string{"lint", "--strict", chart, "--namespace", namespace}, vals...)
		if out, err := helm(t, args...); err != nil {
			t.Errorf("%v\n%s", err, out)
		}
	}

	golden, err := helm(t, "template", release, chart, "--namespace", namespace, "-f", goldenVals)
	if err != nil {
		t.Fatal(err)
	}
	if *update {
		if err := os.WriteFile(goldenPath, []byte(golden), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(goldenPath)
	if err != nil {
		t.Fatal(err)
	}
	if string(want) != golden {
		t.Errorf("%s differs from `helm template %s %s --namespace %s -f %s` (run go test ./internal/deploytest -update with HELM set)",
			goldenPath, release, chart, namespace, goldenVals)
	}

	withProviders, err := helm(t, "template", release, chart, "--namespace", namespace, "-f", goldenVals, "--set", providersSet)
	if err != nil {
		t.Fatal(err)
	}
	if *update {
		if err := os.WriteFile(providersPath, []byte(withProviders), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if want, err := os.ReadFile(providersPath); err != nil {
		t.Fatal(err)
	} else if string(want) != withProviders {
		t.Errorf("%s differs from `helm template %s %s --namespace %s -f %s --set %s` (run go test ./internal/deploytest -update with HELM set)",
			providersPath, release, chart, namespace, goldenVals, providersSet)
	}

	t.Run("defaults", func(t *testing.T) {
		out, err := helm(t, "template", release, chart, "--namespace", namespace)
		if err != nil {
			t.Fatal(err)
		}
		objs := objects(t, out)
		checkDeployment(t, objs, 2, 10, 30)
		if s := find(objs, "Secret"); len(s) != 1 || get(s[0], "data", "token") == nil {
			t.Errorf("default values: want one token Secret, got %v", s)
		}
		if len(find(objs, "ClusterRole")) != 1 || len(find(objs, "ServiceMonitor")) != 0 || len(find(objs, "NetworkPolicy")) != 0 {
			t.Error("default values: want a ClusterRole and no ServiceMonitor or NetworkPolicy")
		}
		rules := get(find(objs, "ClusterRole")[0], "rules").([]any)
		for _, r := range rules {
			verbs := get(r, "verbs").([]any)
			if !slices.Equal(verbs, []any{"get"}) {
				t.Errorf("ClusterRole rule %v grants more than get", r)
			}
			for _, g := range get(r, "apiGroups").([]any) {
				if g == "metrics.keptn.sh" || g == "external.metrics.k8s.io" {
					t.Errorf("default values grant %s: providers.* must be opt-in", g)
				}
			}
		}
	})
	t.Run("providers", func(t *testing.T) {
		// Each switch adds exactly its own rules to the ClusterRole.
		for _, tc := range []struct {
			set  string
			want []string
		}{
			{"providers.keptn=true", []string{
				"map[apiGroups:[metrics.keptn.sh] resources:[keptnmetrics] verbs:[get]]",
				"map[apiGroups:[metrics.keptn.sh] resources:[analyses] verbs:[create get delete]]"}},
			{"providers.externalMetrics=true", []string{
				"map[apiGroups:[external.metrics.k8s.io] resources:[*] verbs:[list]]"}},
		} {
			base, err := helm(t, "template", release, chart, "--namespace", namespace)
			if err != nil {
				t.Fatal(err)
			}
			out, err := helm(t, "template", release, chart, "--namespace", namespace, "--set", tc.set)
			if err != nil {
				t.Fatal(err)
			}
			before := get(find(objects(t, base), "ClusterRole")[0], "rules").([]any)
			after := get(find(objects(t, out), "ClusterRole")[0], "rules").([]any)
			var added []string
			for _, r := range after[len(before):] {
				added = append(added, fmt.Sprint(r))
			}
			if fmt.Sprint(after[:len(before)]) != fmt.Sprint(before) || !slices.Equal(added, tc.want) {
				t.Errorf("--set %s: rules %v, want the defaults %v plus %v", tc.set, after, before, tc.want)
			}
		}
	})
	t.Run("golden", func(t *testing.T) {
		objs := objects(t, golden)
		checkDeployment(t, objs, 2, 10, 30)
		if len(find(objs, "Secret")) != 0 {
			t.Error("deploy/augur.yaml must not hold a token: its Secret is created by the user")
		}
	})
	t.Run("non-default", func(t *testing.T) {
		out, err := helm(t, "template", release, chart, "--namespace", namespace, "-f", "testdata/values-full.yaml")
		if err != nil {
			t.Fatal(err)
		}
		objs := objects(t, out)
		d := checkDeployment(t, objs, 3, 5, 20)
		args := fmt.Sprint(get(d, "spec", "template", "spec", "containers", 0, "args"))
		for _, a := range []string{"--metrics-server=http://prometheus.monitoring:9090", "--mesh-provider=linkerd",
			"--tls-cert=/var/run/secrets/augur/tls/tls.crt", "--log-level=debug", "--request-timeout=8s"} {
			if !strings.Contains(args, a) {
				t.Errorf("args %s lack %s", args, a)
			}
		}
		if img := get(d, "spec", "template", "spec", "containers", 0, "image"); img != "registry.example.com/augur:v9.9.9" {
			t.Errorf("image %v", img)
		}
		if s := get(d, "spec", "template", "spec", "containers", 0, "readinessProbe", "httpGet", "scheme"); s != "HTTPS" {
			t.Errorf("TLS: probe scheme %v", s)
		}
		if len(find(objs, "ClusterRole")) != 0 || len(find(objs, "Role")) != 3 {
			t.Errorf("watchNamespaces: want no ClusterRole, a Role in test, prod and the gates Role")
		}
		for _, k := range []string{"ServiceMonitor", "NetworkPolicy"} {
			if len(find(objs, k)) != 1 {
				t.Errorf("want one %s", k)
			}
		}
		rules := fmt.Sprint(get(find(objs, "Role")[0], "rules"))
		if !strings.Contains(rules, "resourceNames:[prom-auth] resources:[secrets]") || !strings.Contains(rules, "resources:[events] verbs:[create]") {
			t.Errorf("rbac.secretNames / rbac.events not rendered: %s", rules)
		}
		// The providers' rules go into each watched namespace's Role.
		for _, r := range find(objs, "Role") {
			rules := fmt.Sprint(get(r, "rules"))
			keptn := strings.Contains(rules, "resources:[analyses] verbs:[create get delete]")
			ext := strings.Contains(rules, "apiGroups:[external.metrics.k8s.io] resources:[*] verbs:[list]")
			if isRead := strings.HasSuffix(fmt.Sprint(get(r, "metadata", "name")), "-read"); keptn != isRead || ext != isRead {
				t.Errorf("Role %v/%v: keptn rules %v, externalmetrics rules %v", get(r, "metadata", "namespace"), get(r, "metadata", "name"), keptn, ext)
			}
		}
	})
	t.Run("memory gates need one replica", func(t *testing.T) {
		out, err := helm(t, "template", release, chart, "--set", "gates.store=memory")
		if err == nil || !strings.Contains(out, "gates.store memory keeps approvals in each replica") {
			t.Errorf("gates.store=memory with 2 replicas rendered: %v\n%s", err, out)
		}
		if _, err := helm(t, "template", release, chart, "--set", "gates.store=memory", "--set", "replicas=1"); err != nil {
			t.Error(err)
		}
	})
}

// checkDeployment checks the Deployment against the zero-downtime
// checklist of docs and field notes and returns it.
func checkDeployment(t *testing.T, objs []map[string]any, replicas, preStop, grace int) map[string]any {
	t.Helper()
	ds := find(objs, "Deployment")
	if len(ds) != 1 {
		t.Fatalf("%d Deployments", len(ds))
	}
	d := ds[0]
	pod := get(d, "spec", "template", "spec")
	c := get(pod, "containers", 0)
	checks := []struct {
		what string
		got  any
		want any
	}{
		{"replicas", num(get(d, "spec", "replicas")), replicas},
		{"maxUnavailable", num(get(d, "spec", "strategy", "rollingUpdate", "maxUnavailable")), 0},
		{"readiness path", get(c, "readinessProbe", "httpGet", "path"), "/readyz"},
		{"liveness path", get(c, "livenessProbe", "httpGet", "path"), "/healthz"},
		{"preStop sleep", num(get(c, "lifecycle", "preStop", "sleep", "seconds")), preStop},
		{"runAsNonRoot", get(pod, "securityContext", "runAsNonRoot"), true},
		{"seccomp", get(pod, "securityContext", "seccompProfile", "type"), "RuntimeDefault"},
		{"readOnlyRootFilesystem", get(c, "securityContext", "readOnlyRootFilesystem"), true},
		{"allowPrivilegeEscalation", get(c, "securityContext", "allowPrivilegeEscalation"), false},
		{"capabilities", fmt.Sprint(get(c, "securityContext", "capabilities", "drop")), "[ALL]"},
		{"topology spread", get(pod, "topologySpreadConstraints", 0, "topologyKey"), "kubernetes.io/hostname"},
		{"shutdown grace arg", strings.Contains(fmt.Sprint(get(c, "args")), fmt.Sprintf("--shutdown-grace=%ds", grace)), true},
		{"memory limit", get(c, "resources", "limits", "memory") != nil, true},
		{"cpu request", get(c, "resources", "requests", "cpu") != nil, true},
	}
	for _, ck := range checks {
		if fmt.Sprint(ck.got) != fmt.Sprint(ck.want) {
			t.Errorf("Deployment %s: %v, want %v", ck.what, ck.got, ck.want)
		}
	}
	if tgp := num(get(pod, "terminationGracePeriodSeconds")); tgp <= preStop+grace {
		t.Errorf("terminationGracePeriodSeconds %d, want more than preStop %d + --shutdown-grace %d", tgp, preStop, grace)
	}
	pdbs := find(objs, "PodDisruptionBudget")
	if len(pdbs) != 1 || num(get(pdbs[0], "spec", "minAvailable")) < 1 {
		t.Errorf("want a PodDisruptionBudget with minAvailable ≥ 1, got %v", pdbs)
	}
	return d
}
