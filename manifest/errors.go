package manifest

import (
	"errors"
	"strconv"
	"strings"
)

// Sentinel errors. Every *Error wraps exactly one of them, so callers can
// branch with errors.Is, also through the errors.Join that Decode, Validate
// and Resolve return.
var (
	// ErrSyntax is malformed YAML or JSON, or YAML augur cannot represent as
	// JSON (a null or complex map key, an alias cycle, an alias bomb).
	ErrSyntax = errors.New("syntax error")
	// ErrNotObject is a document that is not a Kubernetes object (not a
	// mapping, or without apiVersion or kind).
	ErrNotObject = errors.New("not a Kubernetes object")
	// ErrAPIVersion is a Canary or MetricTemplate whose apiVersion is not
	// flagger.app/v1beta1.
	ErrAPIVersion = errors.New("wrong apiVersion")
	// ErrUnknownKind is an object in the flagger.app group of a kind Flagger
	// does not define.
	ErrUnknownKind = errors.New("unknown kind")
	// ErrUnknownField is a field the object's type does not have.
	ErrUnknownField = errors.New("unknown field")
	// ErrType is a value of the wrong type, or out of the field's range.
	ErrType = errors.New("wrong type")
	// ErrDuplicate is a field given twice in one mapping, or two objects with
	// the same kind, namespace and name.
	ErrDuplicate = errors.New("duplicate")
	// ErrInvalid is a value Validate rejects.
	ErrInvalid = errors.New("invalid")
	// ErrUnresolved is a templateRef that names no MetricTemplate in the set.
	ErrUnresolved = errors.New("unresolved reference")
)

// Position is a 1-based line and column in an input; zero means unknown.
type Position struct {
	// Line is 1-based.
	Line int `json:"line"`
	// Column is 1-based, in characters.
	Column int `json:"column"`
}

// String formats the position as "line:column", "line" or "".
func (p Position) String() string {
	switch {
	case p.Line <= 0:
		return ""
	case p.Column <= 0:
		return strconv.Itoa(p.Line)
	default:
		return strconv.Itoa(p.Line) + ":" + strconv.Itoa(p.Column)
	}
}

// Error is one problem in an input. Its text reads
//
//	canary.yaml:21:11: document 1, Canary test/podinfo: spec.analysis.metrics[1].thresholdRange.mni: unknown field "mni" (did you mean "min"?)
//
// with the parts that are unknown left out.
type Error struct {
	// Source names the input: a file path or "<stdin>".
	Source string
	// Document is the 1-based index of the YAML document or JSON value; 0 if unknown.
	Document int
	// Item locates the object inside a List ("items[3]"); empty for top-level objects.
	Item string
	// Object names the object ("Canary test/podinfo"); empty if unknown.
	Object string
	// Path is the field path inside the object, Kubernetes style
	// (spec.analysis.metrics[0].name, metadata.labels[app]); empty for the object itself.
	Path string
	// Pos is where in the input the problem is.
	Pos Position
	// Msg says what is wrong and, where possible, how to fix it.
	Msg string
	// Err is the sentinel classifying the problem (ErrUnknownField, …).
	Err error
}

// Error formats the problem as "source:line:col: context: path: message".
func (e *Error) Error() string {
	var b strings.Builder
	if e.Source == "" {
		b.WriteString("<input>")
	} else {
		b.WriteString(e.Source)
	}
	if p := e.Pos.String(); p != "" {
		b.WriteByte(':')
		b.WriteString(p)
	}
	b.WriteString(": ")
	sep := ""
	if e.Document > 0 {
		b.WriteString("document ")
		b.WriteString(strconv.Itoa(e.Document))
		sep = ", "
	}
	for _, s := range []string{e.Item, e.Object} {
		if s != "" {
			b.WriteString(sep)
			b.WriteString(s)
			sep = ", "
		}
	}
	if sep != "" {
		b.WriteString(": ")
	}
	if e.Path != "" {
		b.WriteString(e.Path)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// Unwrap returns the sentinel, so errors.Is(err, ErrUnknownField) works.
func (e *Error) Unwrap() error { return e.Err }
