package lint

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"regexp"
	"strconv"
	"strings"

	yaml "go.yaml.in/yaml/v3"

	"github.com/augurproj/augur/manifest"
)

// MaxInput bounds the bytes Parse reads from one input (8 MiB).
const MaxInput = 8 << 20

// maxNodes bounds the values one input may expand to (aliases included).
const maxNodes = 1 << 20

// Position is a 1-based line and column; zero means unknown.
type Position struct {
	Line   int `json:"line"`
	Column int `json:"column"`
}

// Object is one Kubernetes object as JSON values (map[string]any, []any,
// string, int64, float64, bool, nil) with where it came from.
type Object struct {
	APIVersion string
	Kind       string
	Namespace  string
	Name       string
	// Body is the whole object.
	Body map[string]any
	// Source is the file path, or "cluster".
	Source string
	// Pos is where the object starts; zero for cluster objects.
	Pos Position
	// Fields maps the path of every field (spec.template.spec.containers[0].name)
	// to the position of its value; nil for cluster objects.
	Fields map[string]Position
}

// Key names the object: "Deployment test/podinfo".
func (o *Object) Key() string {
	if o.Namespace == "" {
		return o.Kind + " " + o.Name
	}
	return o.Kind + " " + o.Namespace + "/" + o.Name
}

// At returns the position of the field at path, or of its closest ancestor
// present in the input, or of the object.
func (o *Object) At(path string) Position {
	for path != "" {
		if p, ok := o.Fields[path]; ok {
			return p
		}
		path = parent(path)
	}
	return o.Pos
}

// parent drops the last segment of a path: a.b[1].c → a.b[1] → a.b → a.
func parent(path string) string {
	if strings.HasSuffix(path, "]") {
		if i := strings.LastIndexByte(path, '['); i >= 0 {
			return path[:i]
		}
	}
	if i := strings.LastIndexByte(path, '.'); i >= 0 {
		return path[:i]
	}
	return ""
}

// plainKey are the map keys written as .key in paths; others are [key].
var plainKey = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)

// field appends a map key to a path.
func field(path, key string) string {
	if !plainKey.MatchString(key) {
		return path + "[" + key + "]"
	}
	if path == "" {
		return key
	}
	return path + "." + key
}

// index appends a list index to a path.
func index(path string, i int) string { return path + "[" + strconv.Itoa(i) + "]" }

// InputError is a malformed input: it names the source and the line.
type InputError struct {
	Source string
	Pos    Position
	Object string
	Path   string
	Msg    string
}

func (e *InputError) Error() string {
	var b strings.Builder
	b.WriteString(e.Source)
	if e.Pos.Line > 0 {
		fmt.Fprintf(&b, ":%d", e.Pos.Line)
		if e.Pos.Column > 0 {
			fmt.Fprintf(&b, ":%d", e.Pos.Column)
		}
	}
	b.WriteString(": ")
	if e.Object != "" {
		b.WriteString(e.Object + ": ")
	}
	if e.Path != "" {
		b.WriteString(e.Path + ": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// Parse reads every object of a YAML stream or JSON input. Flagger Canaries
// and MetricTemplates are also decoded by package manifest's strict decoder,
// so an unknown field or a value of the wrong type there is an error; for
// other kinds only the fields the rules read are checked (by Run). Objects of
// kinds no rule reads are kept too (they are ignored by Run). A v1 List
// contributes its items.
func Parse(b []byte, source string) ([]*Object, error) {
	if len(b) > MaxInput {
		return nil, &InputError{Source: source, Msg: fmt.Sprintf("input larger than %d bytes", MaxInput)}
	}
	b = bytes.TrimPrefix(b, []byte("\xef\xbb\xbf"))
	if _, err := manifest.DecodeBytes(b, source); err != nil {
		return nil, err
	}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	var objs []*Object
	budget := maxNodes
	for doc := 1; ; doc++ {
		var n yaml.Node
		err := decodeDoc(dec, &n)
		if errors.Is(err, io.EOF) {
			return objs, nil
		}
		if err != nil {
			return nil, &InputError{Source: source, Msg: "invalid YAML: " + strings.TrimPrefix(err.Error(), "yaml: ")}
		}
		if len(n.Content) == 0 {
			continue
		}
		c := &converter{source: source, budget: &budget}
		root := n.Content[0]
		v := c.value(root, "")
		if c.err != nil {
			return nil, c.err
		}
		if v == nil {
			continue
		}
		m, ok := v.(map[string]any)
		if !ok {
			return nil, &InputError{Source: source, Pos: pos(root), Msg: "expected a Kubernetes object (a mapping with apiVersion and kind)"}
		}
		if str(m["kind"]) == "List" {
			items, _ := m["items"].([]any)
			for i, it := range items {
				im, ok := it.(map[string]any)
				if !ok {
					return nil, &InputError{Source: source, Pos: c.fields[index("items", i)], Msg: "a List item is not an object"}
				}
				o, err := newObject(im, source, rebase(c.fields, index("items", i)))
				if err != nil {
					return nil, err
				}
				objs = append(objs, o)
			}
			continue
		}
		o, err := newObject(m, source, c.fields)
		if err != nil {
			return nil, err
		}
		objs = append(objs, o)
	}
}

// decodeDoc reads one document, turning a parser panic into an error.
func decodeDoc(dec *yaml.Decoder, n *yaml.Node) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("the YAML parser failed: %v", r)
		}
	}()
	return dec.Decode(n)
}

// rebase keeps the fields under prefix, with prefix removed.
func rebase(fields map[string]Position, prefix string) map[string]Position {
	out := map[string]Position{}
	for k, p := range fields {
		switch {
		case k == prefix:
			out[""] = p
		case strings.HasPrefix(k, prefix+"."):
			out[k[len(prefix)+1:]] = p
		case strings.HasPrefix(k, prefix+"["):
			out[k[len(prefix):]] = p
		}
	}
	return out
}

func newObject(m map[string]any, source string, fields map[string]Position) (*Object, error) {
	o := &Object{Body: m, Source: source, Fields: fields, Pos: fields[""]}
	o.APIVersion, o.Kind = str(m["apiVersion"]), str(m["kind"])
	if o.APIVersion == "" || o.Kind == "" {
		return nil, &InputError{Source: source, Pos: o.Pos, Msg: "not a Kubernetes object: apiVersion or kind is missing"}
	}
	md, _ := m["metadata"].(map[string]any)
	o.Name, o.Namespace = str(md["name"]), str(md["namespace"])
	if o.Namespace == "" && o.Kind != "Namespace" && !clusterScoped[o.Kind] {
		o.Namespace = manifest.DefaultNamespace
	}
	return o, nil
}

// clusterScoped are the cluster-scoped kinds the rules read.
var clusterScoped = map[string]bool{"Namespace": true, "ClusterAnalysisTemplate": true}

// FromMap wraps an object read from the cluster (unstructured JSON).
// Numbers may be int64, float64 or int; they are normalized.
func FromMap(m map[string]any) (*Object, error) {
	n, _ := normalize(m).(map[string]any)
	return newObject(n, "cluster", nil)
}

func normalize(v any) any {
	switch x := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = normalize(e)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = normalize(e)
		}
		return out
	case int:
		return int64(x)
	case int32:
		return int64(x)
	case float64:
		if x == math.Trunc(x) && math.Abs(x) < 1<<53 {
			return int64(x)
		}
		return x
	default:
		return v
	}
}

// converter turns yaml nodes into JSON values, recording field positions.
type converter struct {
	source string
	fields map[string]Position
	budget *int
	err    *InputError
	active map[*yaml.Node]bool
}

func pos(n *yaml.Node) Position { return Position{Line: n.Line, Column: n.Column} }

func (c *converter) fail(n *yaml.Node, msg string) {
	if c.err == nil {
		c.err = &InputError{Source: c.source, Pos: pos(n), Msg: msg}
	}
}

func (c *converter) value(n *yaml.Node, path string) any {
	if c.err != nil {
		return nil
	}
	if *c.budget--; *c.budget < 0 {
		c.fail(n, "input too large (too many values, aliases included)")
		return nil
	}
	if c.fields == nil {
		c.fields = map[string]Position{}
		c.active = map[*yaml.Node]bool{}
	}
	if n.Kind == yaml.AliasNode {
		if n.Alias == nil || c.active[n.Alias] {
			c.fail(n, "an alias refers to itself")
			return nil
		}
		c.active[n.Alias] = true
		defer delete(c.active, n.Alias)
		return c.value(n.Alias, path)
	}
	c.fields[path] = pos(n)
	switch n.Kind {
	case yaml.MappingNode:
		m := map[string]any{}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			if k.Kind != yaml.ScalarNode {
				c.fail(k, "a mapping key is not a scalar")
				return nil
			}
			if k.Value == "<<" && k.Tag != "!!str" {
				mv := c.value(v, path)
				if mm, ok := mv.(map[string]any); ok {
					for mk, me := range mm {
						if _, set := m[mk]; !set {
							m[mk] = me
						}
					}
				}
				continue
			}
			if _, dup := m[k.Value]; dup {
				c.fail(k, fmt.Sprintf("field %q given twice", k.Value))
				return nil
			}
			m[k.Value] = c.value(v, field(path, k.Value))
		}
		return m
	case yaml.SequenceNode:
		out := make([]any, 0, len(n.Content))
		for i, e := range n.Content {
			out = append(out, c.value(e, index(path, i)))
		}
		return out
	case yaml.ScalarNode:
		return scalar(n)
	}
	return nil
}

// scalar resolves a scalar the way kubectl's YAML 1.1 reader would for the
// types the rules read.
func scalar(n *yaml.Node) any {
	if n.Style != 0 && n.Style != yaml.FlowStyle { // quoted or block: a string
		return n.Value
	}
	switch n.Value {
	case "y", "Y", "yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON":
		return true
	case "n", "N", "no", "No", "NO", "false", "False", "FALSE", "off", "Off", "OFF":
		return false
	case "", "~", "null", "Null", "NULL":
		return nil
	}
	switch n.ShortTag() {
	case "!!int":
		if i, err := strconv.ParseInt(strings.ReplaceAll(n.Value, "_", ""), 0, 64); err == nil {
			return i
		}
	case "!!float":
		if f, err := strconv.ParseFloat(n.Value, 64); err == nil {
			if f == math.Trunc(f) && math.Abs(f) < 1<<53 {
				return int64(f)
			}
			return f
		}
	}
	return n.Value
}

// str returns v as a string, or "".
func str(v any) string {
	s, _ := v.(string)
	return s
}
