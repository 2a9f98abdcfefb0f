package cli

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"

	"sigs.k8s.io/yaml"

	"github.com/augurproj/augur/analysis"
	"github.com/augurproj/augur/manifest"
)

// readStatus reads a status file (JSON or YAML). It accepts a bare status
// object or a Canary whose status is used.
func readStatus(path string, ios *IOStreams) (analysis.CanaryStatus, error) {
	var b []byte
	var err error
	if path == "-" {
		b, err = io.ReadAll(io.LimitReader(ios.In, 1<<20))
	} else {
		b, err = os.ReadFile(path)
	}
	if err != nil {
		return analysis.CanaryStatus{}, fmt.Errorf("--status: %w", err)
	}
	// A key given twice would be last-wins below: refuse it, at any depth.
	for _, dup := range []error{manifest.DuplicateJSONKey(b, ""), manifest.DuplicateKey(b)} {
		if dup != nil {
			return analysis.CanaryStatus{}, fmt.Errorf("--status %s: %w", path, dup)
		}
	}
	j, err := yaml.YAMLToJSON(b)
	if err != nil {
		return analysis.CanaryStatus{}, fmt.Errorf("--status %s: %w", path, err)
	}
	var probe map[string]json.RawMessage
	if err := json.Unmarshal(j, &probe); err != nil {
		return analysis.CanaryStatus{}, fmt.Errorf("--status %s: want an object: %w", path, err)
	}
	if raw, ok := probe["status"]; ok && probe["kind"] != nil {
		j = raw // a whole Canary: take its status
	}
	var st analysis.CanaryStatus
	dec := json.NewDecoder(bytes.NewReader(j))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&st); err != nil {
		return st, statusFieldError(path, b, err)
	}
	return st, nil
}
