package manifest

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	yaml "go.yaml.in/yaml/v3"
)

// walker checks a YAML node tree against a schema and converts it into
// JSON-compatible values (map[string]any, []any, string, bool, int64,
// uint64, float64), ready for encoding/json to fill the analysis types.
type walker struct {
	// ctx is copied into every error (source, document, item, object).
	ctx Error
	// report receives every problem.
	report func(*Error)
	// fields, when set, receives the position of every non-null value the
	// schema knows (not the inside of kAny values).
	fields map[string]Position
	// budget limits the nodes visited, so alias bombs end.
	budget *int
	// active holds the anchored nodes being walked, so alias cycles end.
	active map[*yaml.Node]bool
	// failed is set once the walk reported anything.
	failed bool
	// aborted stops the walk after an unrecoverable problem.
	aborted bool
}

// entry is one key/value pair of a mapping, after merge keys are applied.
type entry struct {
	key  string
	k, v *yaml.Node
}

func (w *walker) errorf(n *yaml.Node, path string, kind error, format string, args ...any) {
	e := w.ctx
	e.Path = path
	if n != nil {
		e.Pos = Position{Line: n.Line, Column: n.Column}
	}
	e.Msg = fmt.Sprintf(format, args...)
	e.Err = kind
	w.failed = true
	w.report(&e)
}

// enter follows aliases and charges the budget. It returns nil when the
// walk must not descend into n. The caller must call leave(n) when done.
func (w *walker) enter(n *yaml.Node, path string) *yaml.Node {
	if w.aborted {
		return nil
	}
	for n.Kind == yaml.AliasNode {
		if n.Alias == nil {
			w.errorf(n, path, ErrSyntax, "alias *%s has no anchor", n.Value)
			return nil
		}
		n = n.Alias
	}
	*w.budget--
	if *w.budget < 0 {
		w.errorf(n, path, ErrSyntax, "the document expands to too many values (an alias bomb?)")
		w.aborted = true
		return nil
	}
	if n.Anchor != "" {
		if w.active[n] {
			w.errorf(n, path, ErrSyntax, "anchor &%s contains an alias to itself", n.Anchor)
			w.aborted = true
			return nil
		}
		w.active[n] = true
	}
	return n
}

func (w *walker) leave(n *yaml.Node) {
	if n.Anchor != "" {
		delete(w.active, n)
	}
}

// isMergeKey reports whether a key node is YAML's merge key <<.
func isMergeKey(k *yaml.Node) bool {
	return k.Kind == yaml.ScalarNode && k.Value == "<<" &&
		(k.Style&(quotedStyles|yaml.TaggedStyle) == 0 || k.Tag == "!!merge")
}

// entries lists a mapping's pairs. Explicit keys win over merged ones, and
// earlier merge sources over later ones; a key given twice is an error.
// Pairs whose key cannot be read are reported and left out.
func (w *walker) entries(m *yaml.Node, path string) []entry {
	out := make([]entry, 0, len(m.Content)/2)
	seen := make(map[string]*yaml.Node, len(m.Content)/2)
	var merges []*yaml.Node
	for i := 0; i+1 < len(m.Content); i += 2 {
		kn, vn := m.Content[i], m.Content[i+1]
		if isMergeKey(kn) {
			merges = append(merges, vn)
			continue
		}
		key, ok := w.key(kn, path)
		if !ok {
			continue
		}
		if first, dup := seen[key]; dup {
			w.errorf(kn, path, ErrDuplicate, "key %q is given twice (first on line %d)", key, first.Line)
			continue
		}
		seen[key] = kn
		out = append(out, entry{key: key, k: kn, v: vn})
	}
	for _, mv := range merges {
		for _, src := range w.mergeSources(mv, path) {
			for _, e := range src {
				if _, dup := seen[e.key]; !dup {
					seen[e.key] = e.k
					out = append(out, e)
				}
			}
		}
	}
	return out
}

// mergeSources returns the entries of a merge key's value: a mapping or a
// list of mappings.
func (w *walker) mergeSources(v *yaml.Node, path string) [][]entry {
	n := w.enter(v, path)
	if n == nil {
		return nil
	}
	defer w.leave(n)
	switch n.Kind {
	case yaml.MappingNode:
		return [][]entry{w.entries(n, path)}
	case yaml.SequenceNode:
		var out [][]entry
		for _, c := range n.Content {
			cn := w.enter(c, path)
			if cn == nil {
				return out
			}
			if cn.Kind != yaml.MappingNode {
				w.errorf(cn, path, ErrSyntax, "a merge key (<<) takes a mapping or a list of mappings")
			} else {
				out = append(out, w.entries(cn, path))
			}
			w.leave(cn)
		}
		return out
	}
	w.errorf(n, path, ErrSyntax, "a merge key (<<) takes a mapping or a list of mappings")
	return nil
}

// key reads a mapping key as the string JSON would use.
func (w *walker) key(kn *yaml.Node, path string) (string, bool) {
	n := w.enter(kn, path)
	if n == nil {
		return "", false
	}
	defer w.leave(n)
	if n.Kind != yaml.ScalarNode {
		w.errorf(n, path, ErrSyntax, "a map key must be a scalar, not %s", nodeKind(n))
		return "", false
	}
	v, err := resolveScalar(n)
	if err == nil {
		v.s, err = keyString(v)
	}
	if err != nil {
		w.errorf(n, path, ErrSyntax, "%s", err.Error())
		return "", false
	}
	if !utf8.ValidString(v.s) {
		w.errorf(n, path, ErrSyntax, "map key is not valid UTF-8")
		return "", false
	}
	return v.s, true
}

// walk converts n by schema s. It returns ok=false for null (the field is
// absent) and after an error.
func (w *walker) walk(node *yaml.Node, s *schema, path string) (any, bool) {
	n := w.enter(node, path)
	if n == nil {
		return nil, false
	}
	defer w.leave(n)
	var sc scalar
	if n.Kind == yaml.ScalarNode {
		var err error
		if sc, err = resolveScalar(n); err != nil {
			w.errorf(n, path, ErrType, "%s", err.Error())
			return nil, false
		}
		if sc.t == tNull {
			return nil, false
		}
	}
	if w.fields != nil && path != "" && s.kind != kAny {
		w.fields[path] = Position{Line: n.Line, Column: n.Column}
	}
	switch s.kind {
	case kStruct:
		if n.Kind != yaml.MappingNode {
			return w.mismatch(n, sc, path, "a mapping")
		}
		return w.walkStruct(n, s, path)
	case kMap:
		if n.Kind != yaml.MappingNode {
			return w.mismatch(n, sc, path, "a mapping")
		}
		out := map[string]any{}
		for _, e := range w.entries(n, path) {
			v, _ := w.walk(e.v, s.elem, path+"["+e.key+"]")
			out[e.key] = v
		}
		return out, true
	case kSlice:
		if n.Kind != yaml.SequenceNode {
			return w.mismatch(n, sc, path, "a list")
		}
		out := make([]any, len(n.Content))
		for i, c := range n.Content {
			out[i], _ = w.walk(c, s.elem, path+"["+strconv.Itoa(i)+"]")
		}
		return out, true
	case kAny:
		return w.generic(n, path)
	}
	if n.Kind != yaml.ScalarNode {
		return w.mismatch(n, sc, path, wantName(s))
	}
	return w.scalarValue(n, sc, s, path)
}

// walkStruct converts a mapping by a struct schema.
func (w *walker) walkStruct(n *yaml.Node, s *schema, path string) (any, bool) {
	return w.walkEntries(w.entries(n, path), s, path), true
}

// scalarValue converts a non-null scalar for a scalar schema.
func (w *walker) scalarValue(n *yaml.Node, sc scalar, s *schema, path string) (any, bool) {
	switch s.kind {
	case kString:
		if sc.t == tString {
			return w.str(n, sc.s, path)
		}
	case kIntOrString:
		switch sc.t {
		case tString:
			return w.str(n, sc.s, path)
		case tInt, tUint, tFloat:
			return w.integer(n, sc, 32, path)
		}
	case kBool:
		if sc.t == tBool {
			return sc.b, true
		}
	case kInt:
		if sc.t == tInt || sc.t == tUint || sc.t == tFloat {
			return w.integer(n, sc, s.bits, path)
		}
	case kFloat:
		switch sc.t {
		case tInt:
			return float64(sc.i), true
		case tUint:
			return float64(sc.u), true
		case tFloat:
			return w.float(n, sc, path)
		}
	}
	return w.mismatch(n, sc, path, wantName(s))
}

func (w *walker) str(n *yaml.Node, s, path string) (any, bool) {
	if !utf8.ValidString(s) {
		w.errorf(n, path, ErrType, "string is not valid UTF-8")
		return nil, false
	}
	return s, true
}

func (w *walker) float(n *yaml.Node, sc scalar, path string) (any, bool) {
	if math.IsNaN(sc.f) || math.IsInf(sc.f, 0) {
		w.errorf(n, path, ErrType, "%s is not a finite number (JSON has no NaN or infinity)", sc.s)
		return nil, false
	}
	if sc.f == 0 {
		return float64(0), true // JSON has no negative zero worth keeping
	}
	return sc.f, true
}

// integer converts an integer (or an integral float, which Kubernetes'
// YAML-to-JSON conversion turns into an integer) within bits.
func (w *walker) integer(n *yaml.Node, sc scalar, bits int, path string) (any, bool) {
	lo, hi := int64(math.MinInt64)>>(64-bits), int64(math.MaxInt64)>>(64-bits)
	var v int64
	switch sc.t {
	case tInt:
		v = sc.i
	case tUint:
		w.errorf(n, path, ErrType, "integer %s is out of range (%d..%d)", sc.s, lo, hi)
		return nil, false
	case tFloat:
		if sc.f != math.Trunc(sc.f) || math.IsInf(sc.f, 0) {
			w.errorf(n, path, ErrType, "expected an integer, got number %s", sc.s)
			return nil, false
		}
		if sc.f < -(1<<63) || sc.f >= 1<<63 {
			w.errorf(n, path, ErrType, "integer %s is out of range (%d..%d)", sc.s, lo, hi)
			return nil, false
		}
		v = int64(sc.f)
	}
	if v < lo || v > hi {
		w.errorf(n, path, ErrType, "integer %s is out of range (%d..%d)", sc.s, lo, hi)
		return nil, false
	}
	return v, true
}

// generic converts any node to a JSON value (kAny).
func (w *walker) generic(n *yaml.Node, path string) (any, bool) {
	switch n.Kind {
	case yaml.MappingNode:
		out := map[string]any{}
		for _, e := range w.entries(n, path) {
			v, ok := w.genericChild(e.v, path+"."+e.key)
			if !ok && w.aborted {
				return nil, false
			}
			out[e.key] = v
		}
		return out, true
	case yaml.SequenceNode:
		out := make([]any, len(n.Content))
		for i, c := range n.Content {
			out[i], _ = w.genericChild(c, path+"["+strconv.Itoa(i)+"]")
		}
		return out, true
	case yaml.ScalarNode:
		sc, err := resolveScalar(n)
		if err != nil {
			w.errorf(n, path, ErrType, "%s", err.Error())
			return nil, false
		}
		switch sc.t {
		case tNull:
			return nil, false
		case tBool:
			return sc.b, true
		case tInt:
			return sc.i, true
		case tUint:
			return sc.u, true
		case tFloat:
			return w.float(n, sc, path)
		default:
			return w.str(n, sc.s, path)
		}
	}
	w.errorf(n, path, ErrSyntax, "unexpected YAML node")
	return nil, false
}

func (w *walker) genericChild(c *yaml.Node, path string) (any, bool) {
	n := w.enter(c, path)
	if n == nil {
		return nil, false
	}
	defer w.leave(n)
	return w.generic(n, path)
}

// mismatch reports a value of the wrong type, with a hint when the fix is
// a matter of quoting.
func (w *walker) mismatch(n *yaml.Node, sc scalar, path, want string) (any, bool) {
	got := nodeKind(n)
	if n.Kind == yaml.ScalarNode {
		got = sc.describe()
	}
	msg := "expected " + want + ", got " + got
	if n.Kind == yaml.ScalarNode {
		msg += quoteHint(sc, want)
	}
	w.errorf(n, path, ErrType, "%s", msg)
	return nil, false
}

// quoteHint suggests adding or removing quotes.
func quoteHint(sc scalar, want string) string {
	yaml11Bool := sc.t == tBool && !sc.quoted && !strings.EqualFold(sc.s, "true") && !strings.EqualFold(sc.s, "false")
	switch {
	case yaml11Bool && want == "a string":
		return fmt.Sprintf(" (YAML 1.1, which Kubernetes uses, reads an unquoted %s as a boolean; quote it: %q)", sc.s, sc.s)
	case yaml11Bool:
		return fmt.Sprintf(" (YAML 1.1, which Kubernetes uses, reads an unquoted %s as a boolean)", sc.s)
	case sc.t != tString && strings.HasPrefix(want, "a string"):
		return fmt.Sprintf(" (quote it: %q)", sc.s)
	case sc.t == tString && sc.quoted:
		r := resolvePlain(sc.s)
		fits := (r.t == tBool && want == "a boolean") ||
			((r.t == tInt || r.t == tFloat) && (want == "an integer" || want == "a number"))
		if fits {
			return fmt.Sprintf(" (a quoted value is a string; write %s without quotes)", sc.s)
		}
	}
	return ""
}

// wantName names what a scalar schema accepts.
func wantName(s *schema) string {
	switch s.kind {
	case kString:
		return "a string"
	case kBool:
		return "a boolean"
	case kInt:
		return "an integer"
	case kFloat:
		return "a number"
	case kIntOrString:
		return "an integer or a string"
	case kStruct, kMap:
		return "a mapping"
	case kSlice:
		return "a list"
	}
	return "a value"
}

// nodeKind names a node's kind for messages.
func nodeKind(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		return "a scalar"
	case yaml.AliasNode:
		return "an alias"
	}
	return "a document"
}

// join appends a field name to a path.
func join(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

// unknownFieldMsg says a field is unknown and suggests the closest known one.
func unknownFieldMsg(name string, known []string) string {
	if s := suggest(name, known); s != "" {
		return fmt.Sprintf("unknown field %q (did you mean %q?)", name, s)
	}
	return fmt.Sprintf("unknown field %q (known fields: %s)", name, strings.Join(known, ", "))
}

// suggest returns the known name closest to name, if it is close enough to
// be a typo: the same ignoring case, or within an edit distance of about a
// third of its length.
func suggest(name string, known []string) string {
	best, bestD := "", math.MaxInt
	for _, k := range known {
		if strings.EqualFold(k, name) {
			return k
		}
		if d := editDistance(strings.ToLower(name), strings.ToLower(k)); d < bestD {
			best, bestD = k, d
		}
	}
	if best != "" && bestD <= max(1, min(len(name), len(best))/3) {
		return best
	}
	return ""
}

// editDistance is the optimal string alignment distance between a and b,
// in bytes: insertions, deletions, substitutions and swaps of neighbours
// ("mni" is one edit from "min").
func editDistance(a, b string) int {
	if len(a) > 64 || len(b) > 64 {
		return math.MaxInt // not a typo of a field name
	}
	d := make([][]int, len(a)+1)
	for i := range d {
		d[i] = make([]int, len(b)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(a); i++ {
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(a)][len(b)]
}

// sortedKeys returns m's keys in order.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
