package cli

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"

	"github.com/spf13/cobra"

	"github.com/augurproj/augur/analysis"
	"github.com/spf13/pflag"
	yaml "go.yaml.in/yaml/v3"
)

// flagError adds a suggestion to an unknown-flag error: `unknown flag:
// --stat (did you mean --status?)`.
func flagError(cmd *cobra.Command, err error) error {
	msg := err.Error()
	name, ok := strings.CutPrefix(msg, "unknown flag: --")
	if !ok {
		return badInput(err)
	}
	var names []string
	cmd.Flags().VisitAll(func(f *pflag.Flag) { names = append(names, f.Name) })
	cmd.InheritedFlags().VisitAll(func(f *pflag.Flag) { names = append(names, f.Name) })
	if s := closest(name, names); s != "" {
		return badInput(fmt.Errorf("%w (did you mean --%s?)", err, s))
	}
	return badInput(err)
}

// closest returns the candidate nearest to s (edit distance at most 2, or at
// most a third of s's length for long names), or "".
func closest(s string, candidates []string) string {
	best, bestD := "", 3
	if len(s) >= 9 {
		bestD = len(s)/3 + 1
	}
	for _, c := range candidates {
		if d := editDistance(s, c); d < bestD {
			best, bestD = c, d
		}
	}
	return best
}

// editDistance is the Levenshtein distance of a and b.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// statusFieldError explains an unknown field of a --status file: where it is
// (line and column) and the field meant.
func statusFieldError(path string, src []byte, err error) error {
	name, ok := unknownField(err)
	if !ok {
		return fmt.Errorf("--status %s: %w", path, err)
	}
	var fields []string
	t := reflect.TypeFor[analysis.CanaryStatus]()
	for i := range t.NumField() {
		if f := strings.Split(t.Field(i).Tag.Get("json"), ",")[0]; f != "" && f != "-" {
			fields = append(fields, f)
		}
	}
	where := path
	if line, col := keyPosition(src, name); line > 0 {
		where = fmt.Sprintf("%s:%d:%d", path, line, col)
	}
	msg := fmt.Sprintf("--status %s: unknown field %q", where, name)
	if s := closest(name, fields); s != "" {
		msg += fmt.Sprintf(" (did you mean %q?)", s)
	} else {
		msg += " (known: " + strings.Join(fields, ", ") + ")"
	}
	return errors.New(msg)
}

// unknownField extracts the field name from encoding/json's DisallowUnknownFields error.
func unknownField(err error) (string, bool) {
	rest, ok := strings.CutPrefix(err.Error(), "json: unknown field ")
	if !ok {
		return "", false
	}
	var name string
	if json.Unmarshal([]byte(rest), &name) != nil {
		return "", false
	}
	return name, true
}

// keyPosition finds the line and column of a mapping key named name at the
// top level of src or under its top-level "status" key (YAML or JSON).
func keyPosition(src []byte, name string) (line, col int) {
	var doc yaml.Node
	if yaml.NewDecoder(bytes.NewReader(src)).Decode(&doc) != nil || len(doc.Content) == 0 {
		return 0, 0
	}
	find := func(m *yaml.Node) *yaml.Node {
		if m == nil || m.Kind != yaml.MappingNode {
			return nil
		}
		for i := 0; i+1 < len(m.Content); i += 2 {
			if m.Content[i].Value == name {
				return m.Content[i]
			}
		}
		return nil
	}
	root := doc.Content[0]
	if k := find(root); k != nil {
		return k.Line, k.Column
	}
	if root.Kind == yaml.MappingNode {
		for i := 0; i+1 < len(root.Content); i += 2 {
			if root.Content[i].Value == "status" {
				if k := find(root.Content[i+1]); k != nil {
					return k.Line, k.Column
				}
			}
		}
	}
	return 0, 0
}
