package lint

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite golden files")

// corpus is the rule corpus: one directory per rule (or per rule variant:
// <rule-id>-<variant>) holding bad.yaml, which must produce the rule, and
// good.yaml, which must produce no error at all and not the rule.
const corpus = "../testdata/lint"

// parseFiles reads files under the repository root with names relative to it.
func parseFiles(t *testing.T, paths ...string) []*Object {
	t.Helper()
	var objs []*Object
	for _, p := range paths {
		b, err := os.ReadFile(filepath.Join("..", p))
		if err != nil {
			t.Fatal(err)
		}
		o, err := Parse(b, p)
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		objs = append(objs, o...)
	}
	return objs
}

// ruleOf maps a corpus directory to its rule id.
func ruleOf(dir string) string {
	for dir != "" {
		if RuleByID(dir) != nil {
			return dir
		}
		i := strings.LastIndexByte(dir, '-')
		if i < 0 {
			break
		}
		dir = dir[:i]
	}
	return ""
}

// corpusOptions are the options a corpus directory runs with: the cluster
// facts for cluster-only rules (the bad case's cluster lacks the mesh).
func corpusOptions(rule, variant string) Options {
	if r := RuleByID(rule); r != nil && r.ClusterOnly {
		f := &Facts{APIGroups: []string{"apps", "policy"}}
		if variant == "good" {
			f.APIGroups = append(f.APIGroups, "networking.istio.io")
		}
		return Options{Cluster: f}
	}
	return Options{}
}

func TestCorpusEveryRuleHasGoodAndBad(t *testing.T) {
	dirs, err := os.ReadDir(corpus)
	if err != nil {
		t.Fatal(err)
	}
	covered := map[string]bool{}
	for _, d := range dirs {
		if !d.IsDir() || d.Name() == "golden" || d.Name() == "gate" {
			continue
		}
		rule := ruleOf(d.Name())
		if rule == "" {
			t.Errorf("%s: names no rule", d.Name())
			continue
		}
		covered[rule] = true
		t.Run(d.Name(), func(t *testing.T) {
			for _, variant := range []string{"bad", "good"} {
				path := filepath.ToSlash(filepath.Join("testdata/lint", d.Name(), variant+".yaml"))
				fs, err := Run(parseFiles(t, path), corpusOptions(rule, variant))
				if err != nil {
					t.Fatalf("%s: %v", path, err)
				}
				has := slices.ContainsFunc(fs, func(f Finding) bool { return f.Rule == rule })
				switch {
				case variant == "bad" && !has:
					t.Errorf("%s: no %s finding; got %v", path, rule, rules(fs))
				case variant == "good" && has:
					t.Errorf("%s: has a %s finding", path, rule)
				case variant == "good" && Errors(fs) > 0:
					t.Errorf("%s: errors %v", path, rules(fs))
				}
				for _, f := range fs {
					if f.Line == 0 || f.Message == "" || f.Fix == "" || f.Path == "" {
						t.Errorf("%s: incomplete finding %+v", path, f)
					}
				}
			}
		})
	}
	for _, r := range Rules {
		if !covered[r.ID] {
			t.Errorf("rule %s has no corpus directory", r.ID)
		}
	}
}

func rules(fs []Finding) []string {
	var out []string
	for _, f := range fs {
		out = append(out, f.Rule)
	}
	return out
}

// golden compares got with testdata/lint/golden/name.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join(corpus, "golden", name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update)", err)
	}
	if d := cmp.Diff(string(want), string(got)); d != "" {
		t.Errorf("%s mismatch (-want +got):\n%s", path, d)
	}
}

// podinfoFiles are the walkthrough's objects shipped in examples/podinfo.
var podinfoFiles = []string{
	"examples/podinfo/manifests/canary.yaml",
	"examples/podinfo/manifests/metrictemplate.yaml",
	"examples/podinfo/workload/deployment.yaml",
	"examples/podinfo/workload/hpa.yaml",
}

// allBad is every bad.yaml of the corpus but the cluster-only ones.
func allBad(t *testing.T) []string {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(corpus, "*", "bad.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, p := range m {
		dir := filepath.Base(filepath.Dir(p))
		if r := RuleByID(ruleOf(dir)); r != nil && r.ClusterOnly {
			continue
		}
		out = append(out, filepath.ToSlash(filepath.Join("testdata/lint", dir, "bad.yaml")))
	}
	return out
}

func TestGolden(t *testing.T) {
	sets := map[string][]string{"podinfo": podinfoFiles, "corpus": nil}
	for name, files := range sets {
		if files == nil {
			files = allBad(t)
		}
		var objs []*Object
		for _, f := range files {
			// Each bad file is its own run (their objects share names).
			objs = append(objs, parseFiles(t, f)...)
		}
		var fs []Finding
		if name == "corpus" {
			for _, f := range files {
				got, err := Run(parseFiles(t, f), Options{})
				if err != nil {
					t.Fatal(err)
				}
				fs = append(fs, got...)
			}
		} else {
			var err error
			if fs, err = Run(objs, Options{}); err != nil {
				t.Fatal(err)
			}
		}
		for _, format := range []string{FormatText, FormatJSON, FormatSARIF} {
			var b bytes.Buffer
			if err := Write(&b, format, fs, ""); err != nil {
				t.Fatal(err)
			}
			golden(t, name+"."+format, b.Bytes())
		}
	}
}
