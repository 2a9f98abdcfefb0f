package manifest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	yaml "go.yaml.in/yaml/v3"

	"github.com/augurproj/augur/analysis"
)

// maxErrors caps the problems one input reports.
const maxErrors = 100

// flaggerGroup is the API group of Flagger's objects.
const flaggerGroup = "flagger.app"

// Flagger's kinds besides Canary and MetricTemplate.
const (
	kindCanaryList         = "CanaryList"
	kindMetricTemplateList = "MetricTemplateList"
	kindAlertProvider      = "AlertProvider"
	kindAlertProviderList  = "AlertProviderList"
	kindList               = "List"
)

// flaggerKinds are the kinds Flagger defines, for suggestions.
var flaggerKinds = []string{
	analysis.KindCanary, kindCanaryList, analysis.KindMetricTemplate, kindMetricTemplateList,
	kindAlertProvider, kindAlertProviderList,
}

// manifestExts are the file extensions DecodePaths reads in directories.
var manifestExts = []string{".yaml", ".yml", ".json"}

// Decode reads every Flagger object in r. source names the input in errors
// (a file path, "<stdin>", "request body"). On any problem it returns a nil
// Set and an error joining one *Error per problem (the first 100, then one
// saying there are more). Decode reads r to the end: callers reading
// untrusted input (an HTTP body) must limit its size.
func Decode(r io.Reader, source string) (*Set, error) {
	b, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", source, err)
	}
	return DecodeBytes(b, source)
}

// DecodeFile reads every Flagger object in the file at path. Standard input
// ("-") is the caller's business: use Decode.
func DecodeFile(path string) (*Set, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading manifest: %w", err)
	}
	return DecodeBytes(b, path)
}

// DecodePaths reads files and directories. A directory contributes every
// *.yaml, *.yml and *.json file below it, recursively, in lexical order,
// skipping names that start with a dot (.git, editor files) and `augur test`
// files (*.test.yaml, *.test.yml, *.test.json, which sit next to the
// manifests they test), and not
// following symbolic links to directories; a directory with no such file is
// an error. A file named explicitly is read whatever its extension, and a
// file reached twice is read once. Objects defined twice across the files
// are an ErrDuplicate error. Problems in all files are reported together:
// *Errors for the contents, wrapped fs errors for paths that cannot be read.
func DecodePaths(paths []string) (*Set, error) {
	set := &Set{}
	var errs []error
	read := map[string]bool{}
	for _, p := range paths {
		files, err := manifestFiles(p)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		for _, f := range files {
			if clean := filepath.Clean(f); read[clean] {
				continue
			} else {
				read[clean] = true
			}
			s, err := DecodeFile(f)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			if err := set.Merge(s); err != nil {
				errs = append(errs, err)
			}
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return set, nil
}

// manifestFiles lists the files a path stands for.
func manifestFiles(path string) ([]string, error) {
	info, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("reading manifests: %w", err)
	}
	if !info.IsDir() {
		return []string{path}, nil
	}
	var files []string
	err = filepath.WalkDir(path, func(p string, de fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if p != path && strings.HasPrefix(de.Name(), ".") {
			if de.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if de.IsDir() || !slices.Contains(manifestExts, filepath.Ext(p)) || isTestFile(de.Name()) {
			return nil
		}
		if de.Type()&fs.ModeSymlink != 0 {
			st, err := os.Stat(p)
			if err != nil {
				return err
			}
			if st.IsDir() {
				return nil
			}
		}
		files = append(files, p)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("reading manifest directory %s: %w", path, err)
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("reading manifest directory %s: no .yaml, .yml or .json files in it", path)
	}
	return files, nil
}

// DecodeBytes reads every Flagger object in b; see Decode.
func DecodeBytes(b []byte, source string) (*Set, error) {
	d := &decoder{source: source, set: &Set{Sources: map[Key]Origin{}}, budget: 4*len(b) + 1000}
	b = bytes.TrimPrefix(b, []byte("\xef\xbb\xbf"))
	docs, err := parseStream(b)
	if err != nil {
		err.Source = source
		return nil, err
	}
	for i, doc := range docs {
		if len(d.errs) > maxErrors {
			break
		}
		d.document(doc, i+1)
	}
	if len(d.errs) > 0 {
		return nil, errors.Join(d.errs...)
	}
	return d.set, nil
}

// decoder collects one input's objects and problems.
type decoder struct {
	source string
	set    *Set
	errs   []error
	budget int
	// lists holds the List nodes being decoded, so an aliased List that
	// contains itself ends.
	lists map[*yaml.Node]bool
}

func (d *decoder) report(e *Error) {
	switch {
	case len(d.errs) < maxErrors:
		d.errs = append(d.errs, e)
	case len(d.errs) == maxErrors:
		d.errs = append(d.errs, &Error{Source: d.source, Msg: "too many problems; stopping here", Err: e.Err})
	}
}

func (d *decoder) walker(ctx Error) *walker {
	return &walker{ctx: ctx, report: d.report, budget: &d.budget, active: map[*yaml.Node]bool{}}
}

// document decodes one YAML document or JSON value.
func (d *decoder) document(doc *yaml.Node, index int) {
	if doc.Kind == yaml.DocumentNode {
		if len(doc.Content) == 0 {
			return
		}
		doc = doc.Content[0]
	}
	if doc.Kind == yaml.ScalarNode {
		if v, err := resolveScalar(doc); err == nil && v.t == tNull {
			return // an empty document
		}
	}
	d.object(doc, Error{Source: d.source, Document: index}, "", "", "")
}

// object decodes one object: a document's root or a List item. For the
// items of a CanaryList or MetricTemplateList, defAPI and defKind are the
// apiVersion and kind an item may leave out, and the only kind it may have.
func (d *decoder) object(node *yaml.Node, ctx Error, defAPI, defKind, listKind string) {
	w := d.walker(ctx)
	n := w.enter(node, "")
	if n == nil {
		return
	}
	defer w.leave(n)
	if n.Kind != yaml.MappingNode {
		what := nodeKind(n)
		if n.Kind == yaml.ScalarNode {
			v, _ := resolveScalar(n)
			what = v.describe()
		}
		hint := ""
		if n.Kind == yaml.SequenceNode {
			hint = " (to give several objects, separate documents with --- or use kind: List)"
		}
		w.errorf(n, "", ErrNotObject, "expected a Kubernetes object (a mapping with apiVersion and kind), got %s%s", what, hint)
		return
	}
	es := w.entries(n, "")
	apiVersion, hasAPI, ok1 := w.headerString(es, "apiVersion")
	kind, hasKind, ok2 := w.headerString(es, "kind")
	if !ok1 || !ok2 {
		return
	}
	if !hasKind {
		kind = defKind
	}
	if !hasAPI {
		apiVersion = defAPI
	}
	switch {
	case kind == "":
		w.errorf(n, "", ErrNotObject, "not a Kubernetes object: kind is missing")
		return
	case apiVersion == "":
		w.errorf(n, "", ErrNotObject, "not a Kubernetes object: apiVersion is missing")
		return
	case listKind != "" && kind != defKind:
		w.errorf(headerNode(es, "kind", n), "kind", ErrUnknownKind, "a %s holds only %s objects, not %s", listKind, defKind, kind)
		return
	}
	group, _, _ := strings.Cut(apiVersion, "/")
	if !strings.Contains(apiVersion, "/") {
		group = ""
	}
	switch kind {
	case analysis.KindCanary, analysis.KindMetricTemplate, kindCanaryList, kindMetricTemplateList:
		if apiVersion != analysis.APIVersion {
			w.ctx.Object = objectKey(kind, es).String()
			w.errorf(headerNode(es, "apiVersion", n), "apiVersion", ErrAPIVersion,
				"%s must have apiVersion %s, got %q", kind, analysis.APIVersion, apiVersion)
			return
		}
	}
	isList := (kind == kindList && apiVersion == "v1") || kind == kindCanaryList || kind == kindMetricTemplateList
	if isList {
		if d.lists[n] {
			w.errorf(n, "", ErrSyntax, "this %s contains itself (through an alias)", kind)
			return
		}
		if d.lists == nil {
			d.lists = map[*yaml.Node]bool{}
		}
		d.lists[n] = true
		defer delete(d.lists, n)
	}
	switch {
	case kind == kindList && apiVersion == "v1":
		d.list(w, es, ctx, "", "", "")
	case kind == kindCanaryList:
		d.list(w, es, ctx, analysis.APIVersion, analysis.KindCanary, kind)
	case kind == kindMetricTemplateList:
		d.list(w, es, ctx, analysis.APIVersion, analysis.KindMetricTemplate, kind)
	case kind == analysis.KindCanary:
		d.canary(w, n, es)
	case kind == analysis.KindMetricTemplate:
		d.template(w, n, es)
	case kind == KindSecret && apiVersion == "v1":
		d.secret(w, n, es)
	case group == flaggerGroup && (kind == kindAlertProvider || kind == kindAlertProviderList):
		// A Flagger object augur does not use.
	case group == flaggerGroup:
		msg := fmt.Sprintf("unknown Flagger kind %q", kind)
		if s := suggest(kind, flaggerKinds); s != "" {
			msg += fmt.Sprintf(" (did you mean %q?)", s)
		} else {
			msg += " (Flagger defines " + strings.Join(flaggerKinds, ", ") + ")"
		}
		w.errorf(headerNode(es, "kind", n), "kind", ErrUnknownKind, "%s", msg)
	default:
		// Deployment, Service, HorizontalPodAutoscaler, …: kept together with
		// canaries by users, not augur's business.
	}
}

// headerString reads apiVersion or kind: present, and ok unless it has the wrong type.
func (w *walker) headerString(es []entry, key string) (v string, present, ok bool) {
	for _, e := range es {
		if e.key != key {
			continue
		}
		n := w.enter(e.v, key)
		if n == nil {
			return "", false, false
		}
		defer w.leave(n)
		var sc scalar
		if n.Kind == yaml.ScalarNode {
			var err error
			if sc, err = resolveScalar(n); err != nil {
				w.errorf(n, key, ErrType, "%s", err.Error())
				return "", false, false
			}
			switch sc.t {
			case tNull:
				return "", false, true
			case tString:
				return sc.s, true, true
			}
		}
		w.mismatch(n, sc, key, "a string")
		return "", false, false
	}
	return "", false, true
}

// headerNode returns the value node of a header field, or def.
func headerNode(es []entry, key string, def *yaml.Node) *yaml.Node {
	for _, e := range es {
		if e.key == key {
			return e.v
		}
	}
	return def
}

// list decodes a List, CanaryList or MetricTemplateList.
func (d *decoder) list(w *walker, es []entry, ctx Error, defAPI, defKind, listKind string) {
	for _, e := range es {
		switch e.key {
		case "apiVersion", "kind":
		case "metadata":
			w.walk(e.v, listSchema.field("metadata"), "metadata")
		case "items":
			items := w.enter(e.v, "items")
			if items == nil {
				continue
			}
			if items.Kind == yaml.ScalarNode {
				if sc, err := resolveScalar(items); err == nil && sc.t == tNull {
					w.leave(items)
					continue
				}
			}
			if items.Kind != yaml.SequenceNode {
				sc, _ := resolveScalar(items)
				w.mismatch(items, sc, "items", "a list")
				w.leave(items)
				continue
			}
			for i, it := range items.Content {
				if d.budget < 0 || len(d.errs) > maxErrors {
					break
				}
				ictx := ctx
				ictx.Item = join(ctx.Item, "items["+strconv.Itoa(i)+"]")
				d.object(it, ictx, defAPI, defKind, listKind)
			}
			w.leave(items)
		default:
			w.errorf(e.k, e.key, ErrUnknownField, "%s", unknownFieldMsg(e.key, listSchema.names))
		}
	}
}

// peekString returns the string at key in mapping m, without reporting anything.
func peekString(m *yaml.Node, key string) string {
	if m == nil || m.Kind != yaml.MappingNode {
		return ""
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		k, v := m.Content[i], m.Content[i+1]
		if v.Kind == yaml.AliasNode && v.Alias != nil {
			v = v.Alias
		}
		if k.Kind == yaml.ScalarNode && k.Value == key && v.Kind == yaml.ScalarNode {
			if sc, err := resolveScalar(v); err == nil && sc.t == tString {
				return sc.s
			}
			return ""
		}
	}
	return ""
}

// objectKey names the object from its metadata, for error messages.
func objectKey(kind string, es []entry) Key {
	k := Key{Kind: kind, Namespace: DefaultNamespace}
	for _, e := range es {
		if e.key != "metadata" {
			continue
		}
		m := e.v
		if m.Kind == yaml.AliasNode && m.Alias != nil {
			m = m.Alias
		}
		k.Name = peekString(m, "name")
		if ns := peekString(m, "namespace"); ns != "" {
			k.Namespace = ns
		}
	}
	return k
}

// decodeObject walks an object's entries by schema s and fills out.
func (d *decoder) decodeObject(w *walker, n *yaml.Node, es []entry, s *schema, kind string, out any) (Origin, map[string]any, bool) {
	w.ctx.Object = objectKey(kind, es).String()
	w.fields = map[string]Position{}
	v := w.walkEntries(es, s, "")
	if w.failed {
		return Origin{}, nil, false
	}
	m := v.(map[string]any)
	m["apiVersion"] = analysis.APIVersion
	m["kind"] = kind
	var service map[string]any
	if spec, ok := m["spec"].(map[string]any); ok {
		if svc, ok := spec["service"].(map[string]any); ok {
			service = map[string]any{}
			for k, v := range svc {
				if k != "name" {
					service[k] = v
					delete(svc, k)
				}
			}
		}
	}
	if err := fill(m, out); err != nil {
		w.errorf(n, "", ErrType, "%s", err.Error())
		return Origin{}, nil, false
	}
	origin := Origin{
		Source: w.ctx.Source, Document: w.ctx.Document, Item: w.ctx.Item,
		Pos: Position{Line: n.Line, Column: n.Column}, Fields: w.fields,
	}
	return origin, service, true
}

// fill converts a checked JSON value into an analysis type. The walk has
// already checked every field and type, so an error here is a mismatch
// between the schema and the Go type, reported rather than hidden.
func fill(v map[string]any, out any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("internal error encoding the object: %w", err)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(out); err != nil {
		return fmt.Errorf("internal error decoding the object: %w", err)
	}
	return nil
}

// canary decodes a Canary.
func (d *decoder) canary(w *walker, n *yaml.Node, es []entry) {
	var c analysis.Canary
	origin, service, ok := d.decodeObject(w, n, es, canarySchema, analysis.KindCanary, &c)
	if !ok {
		return
	}
	if len(service) > 0 {
		c.Spec.Service.Other = make(map[string]json.RawMessage, len(service))
		for _, k := range sortedKeys(service) {
			raw, err := json.Marshal(service[k])
			if err != nil {
				w.errorf(n, "spec.service."+k, ErrType, "internal error encoding the field: %s", err.Error())
				return
			}
			c.Spec.Service.Other[k] = raw
		}
	}
	if c.Metadata.Namespace == "" {
		c.Metadata.Namespace = DefaultNamespace
	}
	if d.add(CanaryKey(&c), origin) {
		d.set.Canaries = append(d.set.Canaries, c)
	}
}

// template decodes a MetricTemplate.
func (d *decoder) template(w *walker, n *yaml.Node, es []entry) {
	var t analysis.MetricTemplate
	origin, _, ok := d.decodeObject(w, n, es, templateSchema, analysis.KindMetricTemplate, &t)
	if !ok {
		return
	}
	if t.Metadata.Namespace == "" {
		t.Metadata.Namespace = DefaultNamespace
	}
	if d.add(TemplateKey(&t), origin) {
		d.set.Templates = append(d.set.Templates, t)
	}
}

// add records an object's origin; it reports false for a duplicate.
func (d *decoder) add(k Key, o Origin) bool {
	if first, dup := d.set.Sources[k]; dup && k.Name != "" {
		d.report(duplicateError(k, first, o))
		return false
	}
	d.set.Sources[k] = o
	return true
}

// walkEntries converts a mapping's entries by a struct schema.
func (w *walker) walkEntries(es []entry, s *schema, path string) any {
	out := make(map[string]any, len(es))
	for _, e := range es {
		f, ok := s.fields[e.key]
		if !ok {
			w.errorf(e.k, join(path, e.key), ErrUnknownField, "%s", unknownFieldMsg(e.key, s.names))
			continue
		}
		v, ok := w.walk(e.v, f.s, join(path, e.key))
		if ok && !f.drop {
			out[e.key] = v
		}
	}
	return out
}

// isTestFile reports whether a file name is an `augur test` file.
func isTestFile(name string) bool {
	ext := filepath.Ext(name)
	return strings.HasSuffix(strings.TrimSuffix(name, ext), ".test")
}
