package manifest

import (
	"errors"
	"strconv"
	"strings"

	"github.com/augurproj/augur/analysis"
)

// DefaultNamespace is the namespace of an object without metadata.namespace,
// as kubectl would apply it.
const DefaultNamespace = "default"

// Key identifies an object: two objects with the same Key in one Set are an error.
type Key struct {
	// Kind is analysis.KindCanary or analysis.KindMetricTemplate.
	Kind string
	// Namespace is the object's namespace.
	Namespace string
	// Name is the object's name.
	Name string
}

// String formats the key as "Kind namespace/name".
func (k Key) String() string {
	if k.Name == "" {
		return k.Kind + " (unnamed, namespace " + k.Namespace + ")"
	}
	return k.Kind + " " + k.Namespace + "/" + k.Name
}

// CanaryKey is the Key of a Canary.
func CanaryKey(c *analysis.Canary) Key {
	return Key{Kind: analysis.KindCanary, Namespace: c.Metadata.Namespace, Name: c.Metadata.Name}
}

// TemplateKey is the Key of a MetricTemplate.
func TemplateKey(t *analysis.MetricTemplate) Key {
	return Key{Kind: analysis.KindMetricTemplate, Namespace: t.Metadata.Namespace, Name: t.Metadata.Name}
}

// Origin says where an object was read from.
type Origin struct {
	// Source names the input (a file path or "<stdin>").
	Source string `json:"source"`
	// Document is the 1-based index of the YAML document or JSON value.
	Document int `json:"document"`
	// Item is the object's place in a List ("items[2]"); empty otherwise.
	Item string `json:"item,omitempty"`
	// Pos is where the object starts.
	Pos Position `json:"pos"`
	// Fields maps the path of every field the input set (non-null) to the
	// position of its value.
	Fields map[string]Position `json:"fields,omitempty"`
}

// Has reports whether the input set the field at path (to a non-null value).
func (o Origin) Has(path string) bool {
	_, ok := o.Fields[path]
	return ok
}

// At returns the position of the field at path, or of its closest ancestor
// the input set, or of the object.
func (o Origin) At(path string) Position {
	for path != "" {
		if p, ok := o.Fields[path]; ok {
			return p
		}
		path = parentPath(path)
	}
	return o.Pos
}

// parentPath drops the last segment of a field path: a.b[1].c → a.b[1] →
// a.b → a. A bracketed map key may contain dots.
func parentPath(path string) string {
	if strings.HasSuffix(path, "]") {
		depth := 0
		for i := len(path) - 1; i >= 0; i-- {
			switch path[i] {
			case ']':
				depth++
			case '[':
				depth--
				if depth == 0 {
					return path[:i]
				}
			}
		}
		return ""
	}
	// The last '.' outside brackets.
	depth := 0
	for i := len(path) - 1; i >= 0; i-- {
		switch path[i] {
		case ']':
			depth++
		case '[':
			depth--
		case '.':
			if depth == 0 {
				return path[:i]
			}
		}
	}
	return ""
}

// Set is the Flagger objects read from one or more inputs.
type Set struct {
	// Canaries in input order.
	Canaries []analysis.Canary `json:"canaries"`
	// Templates (MetricTemplates) in input order.
	Templates []analysis.MetricTemplate `json:"templates"`
	// Secrets (core v1) in input order: the Secret source of templates'
	// secretRefs without a cluster. Never encoded.
	Secrets []Secret `json:"-"`
	// Sources says where each object came from. Objects built in code have
	// no entry; errors about them then carry no file position.
	Sources map[Key]Origin `json:"-"`
}

// Canary returns the Canary with that name and namespace ("" means
// DefaultNamespace). The pointer is into s.Canaries.
func (s *Set) Canary(name, namespace string) (*analysis.Canary, bool) {
	namespace = orDefault(namespace)
	for i := range s.Canaries {
		c := &s.Canaries[i]
		if c.Metadata.Name == name && orDefault(c.Metadata.Namespace) == namespace {
			return c, true
		}
	}
	return nil, false
}

// Template returns the MetricTemplate with that name and namespace ("" means
// DefaultNamespace). The pointer is into s.Templates.
func (s *Set) Template(name, namespace string) (*analysis.MetricTemplate, bool) {
	namespace = orDefault(namespace)
	for i := range s.Templates {
		t := &s.Templates[i]
		if t.Metadata.Name == name && orDefault(t.Metadata.Namespace) == namespace {
			return t, true
		}
	}
	return nil, false
}

// TemplateNamespace is the namespace Flagger looks a templateRef up in: its
// namespace if set, else the canary's.
func TemplateNamespace(c *analysis.Canary, ref *analysis.CrossNamespaceObjectReference) string {
	if ref != nil && ref.Namespace != "" {
		return ref.Namespace
	}
	return orDefault(c.Metadata.Namespace)
}

// TemplateFor returns the MetricTemplate a metric of canary c refers to,
// applying Flagger's namespace default. It reports false when the metric has
// no templateRef or the template is not in the set.
func (s *Set) TemplateFor(c *analysis.Canary, m *analysis.Metric) (*analysis.MetricTemplate, bool) {
	if m.TemplateRef == nil {
		return nil, false
	}
	return s.Template(m.TemplateRef.Name, TemplateNamespace(c, m.TemplateRef))
}

// Merge adds other's objects to s. Objects whose Key s already holds are an
// ErrDuplicate error naming both places; on error s is unchanged. A nil
// other is a no-op.
func (s *Set) Merge(other *Set) error {
	if other == nil {
		return nil
	}
	have := s.origins()
	var errs []error
	check := func(k Key) {
		first, dup := have[k]
		if !dup {
			have[k] = other.Sources[k]
			return
		}
		errs = append(errs, duplicateError(k, first, other.Sources[k]))
	}
	for i := range other.Canaries {
		check(CanaryKey(&other.Canaries[i]))
	}
	for i := range other.Templates {
		check(TemplateKey(&other.Templates[i]))
	}
	for i := range other.Secrets {
		check(SecretKey(&other.Secrets[i]))
	}
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	s.Canaries = append(s.Canaries, other.Canaries...)
	s.Templates = append(s.Templates, other.Templates...)
	s.Secrets = append(s.Secrets, other.Secrets...)
	for k, o := range other.Sources {
		if s.Sources == nil {
			s.Sources = map[Key]Origin{}
		}
		s.Sources[k] = o
	}
	return nil
}

// origins maps the Key of every object in s to its Origin (zero if unknown).
func (s *Set) origins() map[Key]Origin {
	m := make(map[Key]Origin, len(s.Canaries)+len(s.Templates))
	for i := range s.Canaries {
		k := CanaryKey(&s.Canaries[i])
		m[k] = s.Sources[k]
	}
	for i := range s.Templates {
		k := TemplateKey(&s.Templates[i])
		m[k] = s.Sources[k]
	}
	for i := range s.Secrets {
		k := SecretKey(&s.Secrets[i])
		m[k] = s.Sources[k]
	}
	return m
}

// duplicateError reports the second definition of k, pointing at where the first is.
func duplicateError(k Key, first, second Origin) *Error {
	msg := "defined twice"
	if first.Source != "" {
		msg += "; first at " + first.Source
		if p := first.Pos.String(); p != "" {
			msg += ":" + p
		}
		if first.Document > 0 {
			msg += " (document " + strconv.Itoa(first.Document)
			if first.Item != "" {
				msg += ", " + first.Item
			}
			msg += ")"
		}
	}
	return &Error{
		Source: second.Source, Document: second.Document, Item: second.Item, Object: k.String(),
		Pos: second.Pos, Msg: msg, Err: ErrDuplicate,
	}
}

func orDefault(namespace string) string {
	if namespace == "" {
		return DefaultNamespace
	}
	return namespace
}
