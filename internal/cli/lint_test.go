package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestLintCommand(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	blocked := "../../testdata/lint/gate/blocked.yaml"
	fixed := "../../testdata/lint/gate/fixed.yaml"
	ignored := write("ignored.yaml", strings.Replace(mustRead(t, blocked), "  name: shop\n  namespace: gate\nspec:\n  replicas: 1",
		"  name: shop\n  namespace: gate\n  annotations:\n    augur.dev/lint-ignore: single-replica, pdb-missing\nspec:\n  replicas: 1", 1))
	badType := write("bad-type.yaml", strings.Replace(mustRead(t, blocked), "replicas: 1", "replicas: one", 1))
	badYAML := write("bad.yaml", "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: x\n")
	badCanary := write("bad-canary.yaml", strings.Replace(mustRead(t, fixed), "stepWeight: 10", "stepWieght: 10", 1))
	tests := []struct {
		name   string
		args   []string
		code   int
		out    []string
		notOut []string
		errOut string
	}{
		{"podinfo example", []string{"lint", "-f", "../../examples/podinfo/manifests", "-f", "../../examples/podinfo/workload"}, ExitCheckFail,
			[]string{"error prestop-missing: Deployment test/podinfo", "error pdb-missing", "error progress-deadline-too-short", "5 errors, 0 warnings, 1 info"}, nil, ""},
		{"fixed passes", []string{"lint", "-f", fixed}, ExitOK, []string{"0 errors, 0 warnings, 1 info"}, nil, ""},
		{"blocked fails", []string{"lint", "-f", blocked}, ExitCheckFail, []string{"blocked.yaml:32:13: error single-replica: Deployment gate/shop: spec.replicas", "fix:\n    replicas: 2"}, nil, ""},
		{"warn all", []string{"lint", "-f", blocked, "--warn", "all"}, ExitOK, []string{"0 errors, 5 warnings, 1 info"}, nil, ""},
		{"disable", []string{"lint", "-f", blocked, "--disable", "single-replica,pdb-missing,spread-missing,prestop-missing,readiness-probe-missing"}, ExitOK, []string{"0 errors"}, nil, ""},
		{"annotation", []string{"lint", "-f", ignored}, ExitCheckFail, []string{"3 errors"}, []string{"single-replica", "pdb-missing"}, ""},
		{"json", []string{"lint", "-f", blocked, "-o", "json"}, ExitCheckFail, []string{`"rule": "single-replica"`, `"errors": 5`}, nil, ""},
		{"sarif", []string{"lint", "-f", blocked, "-o", "sarif"}, ExitCheckFail, []string{`"version": "2.1.0"`, `"ruleId": "single-replica"`}, nil, ""},
		{"list rules", []string{"lint", "--list-rules"}, ExitOK, []string{"mesh-telemetry-missing", "(--cluster)"}, nil, ""},
		{"wrong type", []string{"lint", "-f", badType}, ExitBadInput, nil, nil, "bad-type.yaml:32:13: Deployment gate/shop: spec.replicas: want an integer"},
		{"bad yaml", []string{"lint", "-f", badYAML}, ExitBadInput, nil, nil, "bad.yaml:2: document 1: invalid YAML"},
		{"strict canary", []string{"lint", "-f", badCanary}, ExitBadInput, nil, nil, `unknown field "stepWieght"`},
		{"missing file", []string{"lint", "-f", filepath.Join(dir, "nope.yaml")}, ExitBadInput, nil, nil, "nope.yaml"},
		{"no input", []string{"lint"}, ExitBadInput, nil, nil, "no input"},
		{"bad output", []string{"lint", "-f", fixed, "-o", "xml"}, ExitBadInput, nil, nil, "want text, json, yaml or sarif"},
		{"unknown rule", []string{"lint", "-f", fixed, "--disable", "nope"}, ExitBadInput, nil, nil, `unknown rule "nope"`},
		{"namespace without cluster", []string{"lint", "-f", fixed, "-n", "x"}, ExitBadInput, nil, nil, "--namespace needs --cluster"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := run(t, "", tt.args...)
			if code != tt.code {
				t.Fatalf("exit %d, want %d\nstdout: %s\nstderr: %s", code, tt.code, out, errOut)
			}
			for _, s := range tt.out {
				if !strings.Contains(out, s) {
					t.Errorf("stdout lacks %q:\n%s", s, out)
				}
			}
			for _, s := range tt.notOut {
				if strings.Contains(out, s) {
					t.Errorf("stdout has %q:\n%s", s, out)
				}
			}
			if !strings.Contains(errOut, tt.errOut) {
				t.Errorf("stderr %q lacks %q", errOut, tt.errOut)
			}
			if tt.name == "json" {
				var v map[string]any
				if err := json.Unmarshal([]byte(out), &v); err != nil {
					t.Error(err)
				}
			}
		})
	}
}

func TestLintStdin(t *testing.T) {
	code, out, errOut := run(t, mustRead(t, "../../testdata/lint/gate/blocked.yaml"), "lint", "-f", "-")
	if code != ExitCheckFail || !strings.Contains(out, "<stdin>:32:13: error single-replica") {
		t.Errorf("exit %d\n%s\n%s", code, out, errOut)
	}
}

func mustRead(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
