package kube_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	authnv1 "k8s.io/api/authentication/v1"
	authzv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/restmapper"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/augurproj/augur/kube"
)

// The deployment test applies deploy/augur.yaml (the chart rendered with
// the values in deploy/values.yaml) to the test API server, which must run
// with RBAC authorization only (KUBE_TESTENV_AUTHZ=RBAC, as `make kube-test`
// starts it), and then acts as augur's ServiceAccount.
const (
	augurNS      = "augur-system"
	augurSA      = "augur"
	gatesCM      = "augur-gates"
	apiToken     = "integration-api-token"
	deployYAML   = "../deploy/augur.yaml"
	healthyData  = "../testdata/podinfo/healthy.om"
	podinfoFiles = "../testdata/podinfo/canary.yaml"
)

// readObjects reads a multi-document YAML file of Kubernetes objects.
func readObjects(t *testing.T, path string) []*unstructured.Unstructured {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	dec := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(b), 4096)
	var out []*unstructured.Unstructured
	for {
		var obj map[string]any
		if err := dec.Decode(&obj); errors.Is(err, io.EOF) {
			return out
		} else if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		if obj != nil {
			out = append(out, &unstructured.Unstructured{Object: obj})
		}
	}
}

// saKubeconfig writes a kubeconfig that authenticates with the
// ServiceAccount's own token (TokenRequest), in augur's namespace.
func (e *testenv) saKubeconfig(ctx context.Context, t *testing.T) (string, kubernetes.Interface) {
	t.Helper()
	exp := int64(3600)
	tr, err := e.core.CoreV1().ServiceAccounts(augurNS).CreateToken(ctx, augurSA,
		&authnv1.TokenRequest{Spec: authnv1.TokenRequestSpec{ExpirationSeconds: &exp}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("TokenRequest for %s/%s: %v", augurNS, augurSA, err)
	}
	raw, err := clientcmd.LoadFromFile(e.kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	ctxName := raw.CurrentContext
	user := raw.Contexts[ctxName].AuthInfo
	raw.AuthInfos[user].Token = tr.Status.Token
	raw.Contexts[ctxName].Namespace = augurNS
	path := filepath.Join(t.TempDir(), "sa.kubeconfig")
	if err := clientcmd.WriteToFile(*raw, path); err != nil {
		t.Fatal(err)
	}
	cfg, err := clientcmd.BuildConfigFromFlags("", path)
	if err != nil {
		t.Fatal(err)
	}
	c, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return path, c
}

// augurProc is one `augur serve --cluster` process.
type augurProc struct {
	cmd  *exec.Cmd
	url  string
	logs *bytes.Buffer
	mu   *sync.Mutex
	done chan struct{}
}

var listenRE = regexp.MustCompile(`"msg":"listening".*"addr":"(127\.0\.0\.1:\d+)"`)

// startAugur starts augur serve as the ServiceAccount and waits until it
// listens.
func startAugur(t *testing.T, bin, kubeconfig, tokenFile string) *augurProc {
	t.Helper()
	cmd := exec.Command(bin, "serve", "--listen", "127.0.0.1:0", "--cluster",
		"--gate-store", "cluster", "--gate-configmap", augurNS+"/"+gatesCM,
		"--data", healthyData, "--token-file", tokenFile, "--log-format", "json")
	cmd.Env = append(os.Environ(), "KUBECONFIG="+kubeconfig)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &augurProc{cmd: cmd, logs: &bytes.Buffer{}, mu: &sync.Mutex{}, done: make(chan struct{})}
	addr := make(chan string, 1)
	go func() {
		defer close(p.done)
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			line := sc.Text()
			p.mu.Lock()
			p.logs.WriteString(line + "\n")
			p.mu.Unlock()
			if m := listenRE.FindStringSubmatch(line); m != nil {
				select {
				case addr <- m[1]:
				default:
				}
			}
		}
		_ = cmd.Wait()
	}()
	t.Cleanup(func() { p.stop(t) })
	select {
	case a := <-addr:
		p.url = "http://" + a
	case <-p.done:
		t.Fatalf("augur serve exited before listening:\n%s", p.logText())
	case <-time.After(60 * time.Second):
		t.Fatalf("augur serve did not listen within 60s:\n%s", p.logText())
	}
	return p
}

func (p *augurProc) logText() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.logs.String()
}

// stop sends SIGTERM (a graceful shutdown) and waits for the process.
func (p *augurProc) stop(t *testing.T) {
	select {
	case <-p.done:
		return
	default:
	}
	_ = p.cmd.Process.Signal(os.Interrupt)
	select {
	case <-p.done:
	case <-time.After(40 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.done
		t.Errorf("augur serve did not stop on SIGINT:\n%s", p.logText())
	}
}

// call sends one request with the API token.
func (p *augurProc) call(t *testing.T, method, path, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, p.url+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+apiToken)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Errorf("%s %s: %v", method, path, err) // not Fatal: called from goroutines
		return 0, ""
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

type gateAnswer struct {
	Open     bool   `json:"open"`
	Checksum string `json:"checksum"`
}

func (p *augurProc) gate(t *testing.T, ns, name string) gateAnswer {
	t.Helper()
	code, body := p.call(t, "GET", "/flagger/v1/gate/"+ns+"/"+name, "")
	var g gateAnswer
	if code != 200 || json.Unmarshal([]byte(body), &g) != nil {
		t.Fatalf("GET gate %s/%s: %d %s\n%s", ns, name, code, body, p.logText())
	}
	return g
}

func gatePayload(ns, name, checksum string) string {
	return fmt.Sprintf(`{"name":%q,"namespace":%q,"phase":"Progressing","checksum":%q,"metadata":{}}`, name, ns, checksum)
}

// TestIntegrationDeploy applies the rendered manifests with RBAC on, checks
// what augur's ServiceAccount may and may not do, and runs two augur
// replicas as that ServiceAccount that share their gates.
func TestIntegrationDeploy(t *testing.T) {
	env := newTestenv(t)
	ctx := t.Context()
	env.removeCRDs(ctx, t)
	env.installCRDs(ctx, t)
	for _, ns := range []string{augurNS, "test", "istio-system", "other"} {
		env.namespace(ctx, t, ns)
	}

	t.Run("Apply", func(t *testing.T) {
		dc, err := discovery.NewDiscoveryClientForConfig(mustConfig(t, env.kubeconfig))
		if err != nil {
			t.Fatal(err)
		}
		mapper := restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(dc))
		objs := readObjects(t, deployYAML)
		kinds := map[string]int{}
		for _, u := range objs {
			gvk := u.GroupVersionKind()
			m, err := mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
			if err != nil {
				t.Fatalf("%s %s: %v", gvk, u.GetName(), err)
			}
			r := env.dyn.Resource(m.Resource).Namespace(u.GetNamespace())
			// Server-side validation: an unknown or duplicate field is an error.
			if _, err := r.Create(ctx, u, metav1.CreateOptions{FieldValidation: "Strict"}); err != nil {
				t.Errorf("creating %s %s/%s: %v", u.GetKind(), u.GetNamespace(), u.GetName(), err)
			}
			kinds[u.GetKind()]++
		}
		for _, k := range []string{"ServiceAccount", "ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding", "ConfigMap", "Service", "Deployment", "PodDisruptionBudget"} {
			if kinds[k] == 0 {
				t.Errorf("%s has no %s (has %v)", deployYAML, k, kinds)
			}
		}
		// The API token Secret deploy/augur.yaml names (token.existingSecret).
		sec := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "augur-token", Namespace: augurNS},
			StringData: map[string]string{"token": apiToken}}
		if _, err := env.core.CoreV1().Secrets(augurNS).Create(ctx, sec, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	})
	if t.Failed() {
		return
	}

	// Objects augur reads, and ones it must not touch.
	env.recreate(ctx, t, kube.CanaryResource, readYAML(t, podinfoFiles))
	env.recreate(ctx, t, kube.MetricTemplateResource, readYAML(t, "../testdata/podinfo/metrictemplate.yaml"))
	env.putSecret(ctx, t, "prom-token")
	for _, cm := range []string{"other-config"} {
		_, err := env.core.CoreV1().ConfigMaps(augurNS).Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: cm}}, metav1.CreateOptions{})
		if err != nil && !apierrors.IsAlreadyExists(err) {
			t.Fatal(err)
		}
	}
	saConfig, sa := env.saKubeconfig(ctx, t)

	t.Run("RBAC", func(t *testing.T) {
		tests := []struct {
			verb, group, resource, ns, name string
			allowed                         bool
		}{
			{"get", "flagger.app", "canaries", "test", "podinfo", true},
			{"get", "flagger.app", "metrictemplates", "istio-system", "not-found-percentage", true},
			{"get", "", "secrets", "istio-system", "prom-auth", true},
			{"get", "", "configmaps", augurNS, gatesCM, true},
			{"update", "", "configmaps", augurNS, gatesCM, true},
			// Refused: everything else.
			{"list", "", "secrets", "", "", false},
			{"list", "", "secrets", "istio-system", "", false},
			{"watch", "", "secrets", "istio-system", "", false},
			{"update", "", "secrets", "istio-system", "prom-auth", false},
			{"list", "flagger.app", "canaries", "test", "", false},
			{"update", "flagger.app", "canaries", "test", "podinfo", false},
			{"patch", "flagger.app", "canaries", "test", "podinfo", false},
			{"delete", "flagger.app", "canaries", "test", "podinfo", false},
			{"update", "apps", "deployments", "test", "podinfo", false},
			{"patch", "apps", "deployments", "test", "podinfo", false},
			{"get", "", "configmaps", augurNS, "other-config", false},
			{"create", "", "configmaps", augurNS, "", false},
			{"delete", "", "configmaps", augurNS, gatesCM, false},
			{"get", "", "configmaps", "test", gatesCM, false},
			{"create", "", "events", "test", "", false},
			{"get", "", "pods", augurNS, "", false},
			{"create", "rbac.authorization.k8s.io", "rolebindings", augurNS, "", false},
		}
		for _, tc := range tests {
			ssar := &authzv1.SelfSubjectAccessReview{Spec: authzv1.SelfSubjectAccessReviewSpec{ResourceAttributes: &authzv1.ResourceAttributes{
				Verb: tc.verb, Group: tc.group, Resource: tc.resource, Namespace: tc.ns, Name: tc.name}}}
			got, err := sa.AuthorizationV1().SelfSubjectAccessReviews().Create(ctx, ssar, metav1.CreateOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if got.Status.Allowed != tc.allowed {
				t.Errorf("%s %s/%s %s/%s: allowed %v, want %v (%s)", tc.verb, tc.group, tc.resource, tc.ns, tc.name,
					got.Status.Allowed, tc.allowed, got.Status.Reason)
			}
		}
		// Real calls, as augur makes them.
		if _, err := sa.CoreV1().Secrets("istio-system").Get(ctx, "prom-auth", metav1.GetOptions{}); err != nil {
			t.Errorf("reading the provider Secret: %v", err)
		}
		if _, err := sa.CoreV1().Secrets("").List(ctx, metav1.ListOptions{}); !apierrors.IsForbidden(err) {
			t.Errorf("listing Secrets cluster-wide: %v, want Forbidden", err)
		}
		patch := []byte(`{"metadata":{"labels":{"touched":"yes"}}}`)
		if _, err := sa.AppsV1().Deployments("test").Patch(ctx, "podinfo", types.MergePatchType, patch, metav1.PatchOptions{}); !apierrors.IsForbidden(err) {
			t.Errorf("patching a Deployment: %v, want Forbidden", err)
		}
		if _, err := sa.CoreV1().ConfigMaps(augurNS).Get(ctx, "other-config", metav1.GetOptions{}); !apierrors.IsForbidden(err) {
			t.Errorf("reading another ConfigMap: %v, want Forbidden", err)
		}
	})

	t.Run("ProvidersRBAC", func(t *testing.T) { env.checkProviderRBAC(ctx, t, saConfig, sa) })

	bin := augurBinary(t)
	tokenFile := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(tokenFile, []byte(apiToken+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}

	t.Run("ReplicasAgree", func(t *testing.T) {
		a := startAugur(t, bin, saConfig, tokenFile)
		b := startAugur(t, bin, saConfig, tokenFile)
		if code, body := a.call(t, "GET", "/readyz", ""); code != 200 || !strings.Contains(body, `"gates":{"kind":"cluster","location":"configmap augur-system/augur-gates","shared":true,"durable":true}`) {
			t.Fatalf("/readyz: %d %s", code, body)
		}
		// The Canary is read from the cluster as the ServiceAccount.
		if code, body := a.call(t, "POST", "/flagger/v1/check", gatePayload("test", "podinfo", "rev1")); code != 200 {
			t.Fatalf("check of the cluster's podinfo Canary: %d %s\n%s", code, body, a.logText())
		}
		if g := b.gate(t, "test", "podinfo"); g.Open {
			t.Fatalf("gate open before anyone opened it: %+v", g)
		}
		if code, body := a.call(t, "POST", "/flagger/v1/gate/open", gatePayload("test", "podinfo", "")); code != 202 {
			t.Fatalf("open through a: %d %s\n%s", code, body, a.logText())
		}
		if g := b.gate(t, "test", "podinfo"); !g.Open {
			t.Fatalf("gate opened through a is closed on b: %+v", g)
		}
		if code, body := b.call(t, "POST", "/flagger/v1/gate", gatePayload("test", "podinfo", "rev1")); code != 200 {
			t.Fatalf("gate webhook on b: %d %s", code, body)
		}
		if g := a.gate(t, "test", "podinfo"); !g.Open || g.Checksum != "rev1" {
			t.Fatalf("a does not see the revision b bound: %+v", g)
		}

		// A restart forgets nothing.
		a.stop(t)
		a = startAugur(t, bin, saConfig, tokenFile)
		if g := a.gate(t, "test", "podinfo"); !g.Open || g.Checksum != "rev1" {
			t.Fatalf("after a restart: %+v, want open for rev1", g)
		}
		if code, body := a.call(t, "POST", "/flagger/v1/gate", gatePayload("test", "podinfo", "rev2")); code != 403 || !strings.Contains(body, "opened for revision rev1") {
			t.Fatalf("a new revision after the restart: %d %s", code, body)
		}
		if g := b.gate(t, "test", "podinfo"); g.Open {
			t.Fatalf("b still sees the gate the new revision closed: %+v", g)
		}

		// Concurrent writes from both replicas: every distinct gate opened
		// is there at the end (no update lost to a race), and the contested
		// gate ends the same on both, and as the ConfigMap says.
		const n = 12
		var wg sync.WaitGroup
		for i := range n {
			p := a
			if i%2 == 1 {
				p = b
			}
			wg.Go(func() {
				if code, body := p.call(t, "POST", "/flagger/v1/gate/open", gatePayload("test", fmt.Sprintf("app-%d", i), "")); code != 202 {
					t.Errorf("open app-%d: %d %s", i, code, body)
				}
			})
			wg.Go(func() {
				path := "/flagger/v1/gate/open"
				if i%3 == 0 {
					path = "/flagger/v1/gate/close"
				}
				if code, body := p.call(t, "POST", path, gatePayload("test", "contested", "")); code != 202 {
					t.Errorf("%s contested: %d %s", path, code, body)
				}
			})
		}
		wg.Wait()
		for i := range n {
			name := fmt.Sprintf("app-%d", i)
			if ga, gb := a.gate(t, "test", name), b.gate(t, "test", name); !ga.Open || !gb.Open {
				t.Errorf("%s: a %+v b %+v, want open on both", name, ga, gb)
			}
		}
		ga, gb := a.gate(t, "test", "contested"), b.gate(t, "test", "contested")
		cm, err := env.core.CoreV1().ConfigMaps(augurNS).Get(ctx, gatesCM, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		_, inCM := cm.Data["test_contested"]
		if ga != gb || ga.Open != inCM {
			t.Errorf("contested gate: a %+v, b %+v, in the ConfigMap %v", ga, gb, inCM)
		}
		if got := len(cm.Data); got != n+btoi(inCM) {
			t.Errorf("ConfigMap holds %d gates, want %d: %v", got, n+btoi(inCM), cm.Data)
		}
	})
}

func mustConfig(t *testing.T, kubeconfig string) *rest.Config {
	t.Helper()
	cfg, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}
