package sarifcheck

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/augurproj/augur/lint"
)

const schemaFile = "testdata/sarif-2.1.0-rtm.5.json"

func compile(t *testing.T) *jsonschema.Schema {
	t.Helper()
	c := jsonschema.NewCompiler()
	s, err := c.Compile(schemaFile)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func validate(t *testing.T, s *jsonschema.Schema, name string, b []byte) {
	t.Helper()
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	if err := s.Validate(inst); err != nil {
		t.Errorf("%s is not valid SARIF 2.1.0: %v", name, err)
	}
}

// TestGoldenSARIFIsValid validates the golden SARIF files of package lint
// (which its tests keep equal to the output).
func TestGoldenSARIFIsValid(t *testing.T) {
	s := compile(t)
	files, err := filepath.Glob("../../testdata/lint/golden/*.sarif")
	if err != nil || len(files) == 0 {
		t.Fatalf("no golden SARIF files (%v)", err)
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		validate(t, s, f, b)
	}
}

// TestClusterAndEmptySARIFIsValid covers findings without a file (cluster
// objects), lowered severities and an empty run.
func TestClusterAndEmptySARIFIsValid(t *testing.T) {
	s := compile(t)
	o, err := lint.FromMap(map[string]any{
		"apiVersion": "apps/v1", "kind": "Deployment",
		"metadata": map[string]any{"name": "web", "namespace": "shop"},
		"spec": map[string]any{"replicas": 1, "template": map[string]any{
			"metadata": map[string]any{"labels": map[string]any{"app": "web"}},
			"spec":     map[string]any{"containers": []any{map[string]any{"name": "web"}}},
		}},
	})
	if err != nil {
		t.Fatal(err)
	}
	fs, err := lint.Run([]*lint.Object{o}, lint.Options{Lower: []string{"prestop-missing"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(fs) == 0 {
		t.Fatal("no findings")
	}
	for name, in := range map[string][]lint.Finding{"cluster": fs, "empty": nil} {
		var b bytes.Buffer
		if err := lint.Write(&b, lint.FormatSARIF, in, "v0.0.0-test"); err != nil {
			t.Fatal(err)
		}
		validate(t, s, name, b.Bytes())
	}
}

// TestSchemaRejectsBrokenSARIF shows the validator can fail: a result with
// an unknown level and a log without runs.
func TestSchemaRejectsBrokenSARIF(t *testing.T) {
	s := compile(t)
	var b bytes.Buffer
	if err := lint.Write(&b, lint.FormatSARIF, nil, ""); err != nil {
		t.Fatal(err)
	}
	var log map[string]any
	if err := json.Unmarshal(b.Bytes(), &log); err != nil {
		t.Fatal(err)
	}
	broken := []string{
		`{"version": "2.1.0"}`,
		strings.Replace(b.String(), `"version": "2.1.0"`, `"version": "2.0.0"`, 1),
		`{"version":"2.1.0","runs":[{"tool":{"driver":{"name":"augur"}},"results":[{"message":{"text":"x"},"level":"fatal"}]}]}`,
	}
	for i, doc := range broken {
		inst, err := jsonschema.UnmarshalJSON(strings.NewReader(doc))
		if err != nil {
			t.Fatal(err)
		}
		if s.Validate(inst) == nil {
			t.Errorf("broken document %d validated", i)
		}
	}
}
