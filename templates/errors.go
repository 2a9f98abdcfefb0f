package templates

import (
	"errors"
	"strconv"
	"strings"
)

// Sentinel errors, returned wrapped.
var (
	// ErrTooLarge is returned when a rendered text, or a list or string built
	// by a sprig function, would exceed MaxRenderedBytes.
	ErrTooLarge = errors.New("rendered text too large")
	// ErrUnknownBuiltin is returned by BuiltinQuery for an observer or metric
	// name that has no builtin query.
	ErrUnknownBuiltin = errors.New("no builtin query")
)

// Stage says which step of rendering failed.
type Stage int

const (
	// StageParse is a template that does not parse (syntax, unknown function).
	StageParse Stage = iota + 1
	// StageExecute is a template that parsed but failed while executing
	// (missing variable key, failing function, output too large).
	StageExecute
)

// String returns "parse" or "execute".
func (s Stage) String() string {
	switch s {
	case StageParse:
		return "parse"
	case StageExecute:
		return "execute"
	default:
		return "Stage(" + strconv.Itoa(int(s)) + ")"
	}
}

// prefix is Flagger's error prefix for the stage (pkg/apis/flagger/v1beta1
// RenderQuery). "excution" is Flagger's own typo; it is kept on purpose so
// that event texts stay byte-identical to Flagger's.
func (s Stage) prefix() string {
	switch s {
	case StageParse:
		return "template parsing failed: "
	case StageExecute:
		return "template excution failed: "
	default:
		return "template failed: "
	}
}

// Error is a template that failed to parse or execute. Its message keeps
// Flagger's prefixes ("template parsing failed: " and, with Flagger's typo,
// "template excution failed: ") followed by the text/template error, which
// names the template and the position.
type Error struct {
	// Template is the name given to Compile or Render.
	Template string
	// Stage is the step that failed.
	Stage Stage
	// Line is the 1-based line of the failure, or 0 when text/template
	// reports none.
	Line int
	// Col is the 0-based byte offset of the failing node within Line, as
	// text/template prints it for execution errors; 0 when unknown (parse
	// errors carry only a line).
	Col int
	// Err is the underlying text/template or function error.
	Err error
}

// Error returns Flagger's prefix and the underlying error's text.
func (e *Error) Error() string {
	if e.Err == nil {
		return e.Stage.prefix() + "template: " + e.Template
	}
	return e.Stage.prefix() + e.Err.Error()
}

// Unwrap returns the underlying error.
func (e *Error) Unwrap() error { return e.Err }

// newError builds an *Error, reading the position out of text/template's
// message ("template: NAME:LINE: …" for parse errors,
// "template: NAME:LINE:COL: executing …" for execution errors).
func newError(name string, stage Stage, err error) *Error {
	e := &Error{Template: name, Stage: stage, Err: err}
	e.Line, e.Col = position(name, err.Error())
	return e
}

func position(name, msg string) (line, col int) {
	rest, ok := strings.CutPrefix(msg, "template: "+name+":")
	if !ok {
		return 0, 0
	}
	line, rest = leadingInt(rest)
	if line <= 0 {
		return 0, 0
	}
	if r, ok := strings.CutPrefix(rest, ":"); ok {
		col, _ = leadingInt(r)
	}
	return line, col
}

// leadingInt parses the decimal digits at the start of s; it returns 0 when
// there are none or the number does not fit in an int.
func leadingInt(s string) (int, string) {
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	n, err := strconv.Atoi(s[:i])
	if err != nil {
		return 0, s
	}
	return n, s[i:]
}
