// Package archtest enforces the dependency direction of docs/architecture.md.
package archtest

import (
	"bufio"
	"bytes"
	"os/exec"
	"strings"
	"testing"
)

const module = "github.com/augurproj/augur"

type pkg struct {
	path    string
	imports []string
}

// list runs `go list` on the whole module and returns each package with its
// direct imports (test imports excluded).
func list(t *testing.T) []pkg {
	t.Helper()
	out, err := exec.Command("go", "list", "-f", "{{.ImportPath}} {{join .Imports \" \"}}", module+"/...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	var pkgs []pkg
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) == 0 {
			continue
		}
		pkgs = append(pkgs, pkg{path: f[0], imports: f[1:]})
	}
	return pkgs
}

func deps(t *testing.T, p string) []string {
	t.Helper()
	out, err := exec.Command("go", "list", "-deps", "-f", "{{if not .Standard}}{{.ImportPath}}{{end}}", p).Output()
	if err != nil {
		t.Fatalf("go list -deps %s: %v", p, err)
	}
	return strings.Fields(string(out))
}

func rel(p string) string { return strings.TrimPrefix(strings.TrimPrefix(p, module), "/") }

// homes: a heavy dependency (import path prefix) may be imported directly
// only by packages under one of the listed homes.
var homes = []struct {
	dep   string
	homes []string
}{
	{"k8s.io/client-go", []string{"kube"}},
	{"k8s.io/apimachinery", []string{"kube"}},
	{"k8s.io/api", []string{"kube"}},
	{"github.com/spf13/cobra", []string{"internal/cli"}},
	{"github.com/hashicorp/go-plugin", []string{"plugins"}},
	{"github.com/argoproj/argo-rollouts", []string{"plugins/argo"}},
	{"github.com/prometheus/client_golang/api", []string{"metrics/prometheus"}},
	{"github.com/prometheus/client_golang/prometheus", []string{"server"}},
	{"github.com/prometheus/prometheus", []string{"metrics/recorded", "internal/testfile"}},
	{"github.com/Masterminds/sprig", []string{"templates"}},
	{"github.com/aws/aws-sdk-go-v2", []string{"metrics/cloudwatch"}},
	{"github.com/aws/smithy-go", []string{"metrics/cloudwatch"}},
	{"github.com/gorilla/websocket", []string{"metrics/splunk"}},
	{"golang.org/x/oauth2/google", []string{"metrics/stackdriver"}},
}

func under(p, home string) bool { return p == home || strings.HasPrefix(p, home+"/") }

func TestHeavyDependenciesLiveInOnePackage(t *testing.T) {
	for _, p := range list(t) {
		r := rel(p.path)
		for _, imp := range p.imports {
			for _, h := range homes {
				if imp != h.dep && !strings.HasPrefix(imp, h.dep+"/") {
					continue
				}
				ok := false
				for _, home := range h.homes {
					ok = ok || under(r, home)
				}
				if !ok {
					t.Errorf("%s imports %s; only %v may", r, imp, h.homes)
				}
			}
		}
	}
}

// Leaf packages import no other augur package but the ones listed.
var leaves = map[string][]string{
	"analysis":              {"analysis/judges"},
	"analysis/judges":       {},
	"templates":             {},
	"metrics":               {"redact"},
	"metrics/prometheus":    {"metrics", "redact"},
	"metrics/recorded":      {"metrics"},
	"metrics/metricstest":   {"metrics"},
	"metrics/httpapi":       {},
	"metrics/datadog":       {"metrics", "metrics/httpapi"},
	"metrics/newrelic":      {"metrics", "metrics/httpapi"},
	"metrics/dynatrace":     {"metrics", "metrics/httpapi"},
	"metrics/graphite":      {"metrics", "metrics/httpapi"},
	"metrics/influxdb":      {"metrics", "metrics/httpapi"},
	"metrics/cloudwatch":    {"metrics", "metrics/httpapi", "redact"},
	"metrics/splunk":        {"metrics", "metrics/httpapi", "redact"},
	"metrics/stackdriver":   {"metrics", "metrics/httpapi", "redact"},
	"kube/clustermetrics":   {"metrics"},
	"metrics/answers":       {"metrics"},
	"webhooks":              {"redact"},
	"webhooks/webhookstest": {},
	"manifest":              {"analysis"},
	"lint":                  {"manifest"},
	"report":                {"analysis", "analysis/judges"},
	"internal/browser":      {},
	"internal/version":      {},
	"redact":                {},
}

func TestLeavesDoNotImportEachOther(t *testing.T) {
	for _, p := range list(t) {
		allowed, isLeaf := leaves[rel(p.path)]
		if !isLeaf {
			continue
		}
		for _, imp := range p.imports {
			if !strings.HasPrefix(imp, module+"/") {
				continue
			}
			ok := false
			for _, a := range allowed {
				ok = ok || rel(imp) == a
			}
			if !ok {
				t.Errorf("leaf package %s imports %s (allowed: %v)", rel(p.path), rel(imp), allowed)
			}
		}
	}
}

// The vendor providers speak their HTTP APIs with net/http: no vendor SDK
// (nor any other module) enters the binary through them.
func TestVendorProvidersAreStandardLibraryOnly(t *testing.T) {
	vendor := map[string]bool{"metrics/httpapi": true, "metrics/datadog": true, "metrics/newrelic": true,
		"metrics/dynatrace": true, "metrics/graphite": true, "metrics/influxdb": true, "metrics/vendors": true}
	seen := 0
	for _, p := range list(t) {
		if !vendor[rel(p.path)] {
			continue
		}
		seen++
		for _, imp := range p.imports {
			first, _, _ := strings.Cut(imp, "/")
			if strings.Contains(first, ".") && !strings.HasPrefix(imp, module+"/metrics") {
				t.Errorf("%s imports %s: vendor providers use the standard library only", rel(p.path), imp)
			}
		}
	}
	if seen != len(vendor) {
		t.Errorf("found %d of the %d vendor provider packages", seen, len(vendor))
	}
}

func TestEngineImportsNoTransport(t *testing.T) {
	banned := []string{"server", "plugins", "kube", "internal/cli", "metrics/prometheus", "metrics/recorded"}
	for _, p := range list(t) {
		if !under(rel(p.path), "engine") {
			continue
		}
		for _, imp := range p.imports {
			for _, b := range banned {
				if under(rel(imp), b) {
					t.Errorf("%s imports %s", rel(p.path), rel(imp))
				}
			}
		}
	}
}

func TestPureCoreIsStandardLibraryOnly(t *testing.T) {
	// redact is augur's one redaction mechanism; it is standard library only
	// itself (checked here too).
	for _, p := range []string{module + "/analysis", module + "/analysis/judges", module + "/metrics", module + "/webhooks", module + "/redact"} {
		for _, d := range deps(t, p) {
			if d != p && !strings.HasPrefix(d, p+"/") && d != module+"/redact" {
				t.Errorf("%s depends on non-standard package %s", rel(p), d)
			}
		}
	}
}

// awsAllowed is what the cloudwatch provider brings in: aws-sdk-go-v2's
// core (SigV4), config and credentials (the default chain) and the clients
// that chain calls (STS, SSO, SSO OIDC, sign-in). No other AWS SDK package
// (a service client, aws-sdk-go v1) may enter the binary.
func awsAllowed(d string) bool {
	const v2 = "github.com/aws/aws-sdk-go-v2"
	if strings.HasPrefix(d, "github.com/aws/smithy-go") {
		return true
	}
	if d != v2 && !strings.HasPrefix(d, v2+"/") {
		return false
	}
	for _, s := range []string{"sts", "sso", "ssooidc", "signin", "internal"} {
		if under(d, v2+"/service/"+s) {
			return true
		}
	}
	return !strings.HasPrefix(d, v2+"/service/")
}

func TestBinaryDoesNotPullTSDB(t *testing.T) {
	for _, d := range deps(t, module+"/cmd/augur") {
		if d == "github.com/prometheus/prometheus/tsdb" || strings.HasPrefix(d, "github.com/prometheus/prometheus/discovery") ||
			strings.HasPrefix(d, "github.com/aws/") && !awsAllowed(d) ||
			strings.HasPrefix(d, "cloud.google.com/") && d != "cloud.google.com/go/compute/metadata" || strings.HasPrefix(d, "github.com/Azure/") {
			t.Errorf("cmd/augur depends on %s (tsdb and its cloud SDKs must stay out of the binary)", d)
		}
	}
}
