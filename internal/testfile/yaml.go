package testfile

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/common/model"
	yaml "go.yaml.in/yaml/v3"
)

// maxErrors caps the problems one Parse reports.
const maxErrors = 100

// maxAliasDepth bounds a chain of aliases (a cycle is reported, not followed).
const maxAliasDepth = 64

// decoder walks a test file's YAML nodes strictly and collects every problem.
type decoder struct {
	file string
	// budget is how many more nodes may be visited; it bounds the work an
	// alias-heavy file can cause (each alias is re-walked where it is used).
	budget int
	// caseName is the case being decoded, for error messages.
	caseName string
	errs     []error
	overflow bool
}

// fail records a problem at node n (nil: no position).
func (d *decoder) fail(n *yaml.Node, path string, kind error, format string, args ...any) {
	if len(d.errs) >= maxErrors {
		if !d.overflow {
			d.overflow = true
			d.errs = append(d.errs, &Error{File: d.file, Msg: fmt.Sprintf("more than %d problems; fix these first", maxErrors), Err: kind})
		}
		return
	}
	e := &Error{File: d.file, Case: d.caseName, Path: path, Msg: fmt.Sprintf(format, args...), Err: kind}
	if n != nil {
		e.Line, e.Column = n.Line, n.Column
	}
	d.errs = append(d.errs, e)
}

// resolve follows aliases and charges one node to the budget. It returns
// nil, after recording why, when the node cannot be used.
func (d *decoder) resolve(n *yaml.Node, path string) *yaml.Node {
	start := n
	for depth := 0; n != nil && n.Kind == yaml.AliasNode; depth++ {
		if depth >= maxAliasDepth || n.Alias == nil {
			d.fail(start, path, ErrSyntax, "alias cannot be resolved (a cycle or too deep)")
			return nil
		}
		n = n.Alias
	}
	if d.budget--; d.budget < 0 {
		if d.budget == -1 {
			d.fail(start, path, ErrSyntax, "the file expands to too many values (aliases used too often)")
		}
		return nil
	}
	return n
}

// isNull reports whether n is an explicit or implicit null (`key:`), which
// means "not set" everywhere in the format.
func isNull(n *yaml.Node) bool {
	return n == nil || (n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null")
}

// field is one known key of a mapping and what to do with its value.
type field struct {
	name string
	set  func(v *yaml.Node, path string)
}

// mapping walks the key/value pairs of n, calling the matching field for
// every non-null value. Unknown and duplicate keys are errors; keys are
// reported with the closest known name. isMap reports whether n is a
// mapping at all, clean whether its keys were all known and distinct.
func (d *decoder) mapping(n *yaml.Node, path string, fields []field) (isMap, clean bool) {
	n = d.resolve(n, path)
	if n == nil {
		return false, false
	}
	if n.Kind != yaml.MappingNode {
		d.fail(n, path, ErrSyntax, "want a mapping (key: value lines), got %s", describe(n))
		return false, false
	}
	clean = true
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		key := k.Value
		if k.Kind != yaml.ScalarNode {
			d.fail(k, path, ErrSyntax, "mapping keys must be plain strings")
			clean = false
			continue
		}
		if key == "<<" && k.ShortTag() == "!!merge" {
			d.fail(k, path, ErrSyntax, "merge keys (<<) are not supported in test files")
			clean = false
			continue
		}
		fp := join(path, key)
		if seen[key] {
			d.fail(k, fp, ErrSyntax, "field %q given twice", key)
			clean = false
			continue
		}
		seen[key] = true
		idx := slices.IndexFunc(fields, func(f field) bool { return f.name == key })
		if idx < 0 {
			names := make([]string, len(fields))
			for j, f := range fields {
				names[j] = f.name
			}
			msg := fmt.Sprintf("unknown field %q", key)
			if s := suggest(key, names); s != "" {
				msg += fmt.Sprintf(" (did you mean %q?)", s)
			} else {
				msg += " (known: " + strings.Join(names, ", ") + ")"
			}
			d.fail(k, fp, ErrUnknownField, "%s", msg)
			clean = false
			continue
		}
		if isNull(v) {
			continue
		}
		fields[idx].set(v, fp)
	}
	return true, clean
}

// lookup returns the scalar value of key in mapping n, or "" (no errors).
func lookup(n *yaml.Node, key string) (string, *yaml.Node) {
	for depth := 0; n != nil && n.Kind == yaml.AliasNode && depth < maxAliasDepth; depth++ {
		n = n.Alias
	}
	if n == nil || n.Kind != yaml.MappingNode {
		return "", nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value != key {
			continue
		}
		v := n.Content[i+1]
		for depth := 0; v != nil && v.Kind == yaml.AliasNode && depth < maxAliasDepth; depth++ {
			v = v.Alias
		}
		if v != nil && v.Kind == yaml.ScalarNode && !isNull(v) {
			return v.Value, v
		}
		return "", v
	}
	return "", nil
}

// sequence calls f for every item of the sequence n.
func (d *decoder) sequence(n *yaml.Node, path string, f func(i int, v *yaml.Node, path string)) {
	n = d.resolve(n, path)
	if n == nil {
		return
	}
	if n.Kind != yaml.SequenceNode {
		d.fail(n, path, ErrSyntax, "want a list (- item lines), got %s", describe(n))
		return
	}
	for i, v := range n.Content {
		f(i, v, fmt.Sprintf("%s[%d]", path, i))
	}
}

// scalar returns the scalar node n resolves to, or nil after an error.
func (d *decoder) scalar(n *yaml.Node, path, want string) *yaml.Node {
	n = d.resolve(n, path)
	if n == nil {
		return nil
	}
	if n.Kind != yaml.ScalarNode {
		d.fail(n, path, ErrInvalid, "want %s, got %s", want, describe(n))
		return nil
	}
	return n
}

// str reads a string. Numbers and booleans are taken as written.
func (d *decoder) str(n *yaml.Node, path string) (string, bool) {
	s := d.scalar(n, path, "a string")
	if s == nil {
		return "", false
	}
	return s.Value, true
}

// float reads a number: an int or float scalar (.inf, -.inf, .nan included),
// or a quoted number Go's strconv reads ("+Inf", "1e3").
func (d *decoder) float(n *yaml.Node, path string) (float64, bool) {
	s := d.scalar(n, path, "a number")
	if s == nil {
		return 0, false
	}
	switch s.ShortTag() {
	case "!!int", "!!float":
		var f float64
		if err := s.Decode(&f); err == nil {
			return f, true
		}
	case "!!str":
		if f, err := strconv.ParseFloat(strings.TrimSpace(s.Value), 64); err == nil {
			return f, true
		}
	}
	d.fail(s, path, ErrInvalid, "want a number, got %q", s.Value)
	return 0, false
}

// int reads a non-negative integer.
func (d *decoder) int(n *yaml.Node, path string) (int, bool) {
	s := d.scalar(n, path, "an integer")
	if s == nil {
		return 0, false
	}
	if s.ShortTag() == "!!int" {
		var i int
		if err := s.Decode(&i); err == nil && i >= 0 {
			return i, true
		}
	}
	d.fail(s, path, ErrInvalid, "want a non-negative integer, got %q", s.Value)
	return 0, false
}

// duration reads a Prometheus duration (1m, 1h30m, 500ms, 2d).
func (d *decoder) duration(n *yaml.Node, path string) (time.Duration, bool) {
	s, ok := d.str(n, path)
	if !ok {
		return 0, false
	}
	v, err := model.ParseDuration(strings.TrimSpace(s))
	if err != nil {
		d.fail(n, path, ErrInvalid, "%v (want a duration such as 30s, 1m or 1h30m)", err)
		return 0, false
	}
	return time.Duration(v), true
}

// timestamp reads an absolute time: RFC 3339 or Unix seconds.
func (d *decoder) timestamp(n *yaml.Node, path string) (time.Time, bool) {
	s, ok := d.str(n, path)
	if !ok {
		return time.Time{}, false
	}
	t, err := parseTimestamp(s)
	if err != nil {
		d.fail(n, path, ErrInvalid, "%v", err)
		return time.Time{}, false
	}
	return t, true
}

// parseTimestamp reads RFC 3339 or Unix seconds (fractions allowed).
func parseTimestamp(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t.UTC(), nil
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) || math.Abs(f) > 1e11 {
		return time.Time{}, fmt.Errorf("%q is not a time (want RFC 3339 such as 2026-11-01T10:00:00Z, or Unix seconds)", s)
	}
	return time.UnixMilli(int64(math.Round(f * 1000))).UTC(), nil
}

// moment reads an evaluation time: a duration after the case's start
// (Prometheus syntax, as promtool's eval_time) or an absolute RFC 3339 time.
func (d *decoder) moment(n *yaml.Node, path string) (Moment, bool) {
	s, ok := d.str(n, path)
	if !ok {
		return Moment{}, false
	}
	s = strings.TrimSpace(s)
	if v, err := model.ParseDuration(s); err == nil {
		return Moment{Offset: time.Duration(v)}, true
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return Moment{At: t.UTC()}, true
	}
	d.fail(n, path, ErrInvalid, "%q is neither a duration after the case's start_timestamp (5m, 1h30m) nor an RFC 3339 time", s)
	return Moment{}, false
}

// describe names a node's kind for error messages.
func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		if isNull(n) {
			return "null"
		}
		return strconv.Quote(n.Value)
	case yaml.DocumentNode:
		return "a document"
	}
	return "an alias"
}

func join(path, key string) string {
	switch {
	case path == "":
		return key
	case key == "":
		return path
	}
	return path + "." + key
}

// suggest returns the known name closest to s (edit distance at most 2, or
// one a prefix of the other), or "".
func suggest(s string, known []string) string {
	best, bestD := "", 3
	for _, k := range known {
		d := editDistance(s, k)
		if strings.HasPrefix(k, s) || strings.HasPrefix(s, k) {
			d = min(d, 1)
		}
		if d < bestD {
			best, bestD = k, d
		}
	}
	return best
}

// editDistance is the Levenshtein distance of two short strings.
func editDistance(a, b string) int {
	if len(a) > 64 || len(b) > 64 {
		return 100
	}
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
