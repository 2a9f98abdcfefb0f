package cli

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"

	"sigs.k8s.io/yaml"
)

// writeStructured writes v as indented JSON, or for format "yaml" as the
// YAML of that JSON (same field names and values, as kubectl's -o yaml).
func writeStructured(w io.Writer, format string, v any) error {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return err
	}
	return writeJSONAs(w, format, buf.Bytes())
}

// writeJSONAs writes JSON text as is, or converted to YAML for format "yaml".
func writeJSONAs(w io.Writer, format string, j []byte) error {
	if format == "yaml" {
		y, err := yaml.JSONToYAML(j)
		if err != nil {
			return fmt.Errorf("writing YAML: %w", err)
		}
		j = y
	}
	_, err := w.Write(j)
	return err
}
