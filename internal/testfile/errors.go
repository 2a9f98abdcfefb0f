package testfile

import (
	"errors"
	"strconv"
	"strings"
)

// Sentinel errors. Every *Error wraps exactly one of them, so callers can
// branch with errors.Is, also through the errors.Join that Parse returns.
var (
	// ErrSyntax is malformed YAML, or YAML that is not a test file's shape
	// (a list where a mapping belongs, an alias cycle).
	ErrSyntax = errors.New("syntax error")
	// ErrUnknownField is a field the test-file format does not have.
	ErrUnknownField = errors.New("unknown field")
	// ErrInvalid is a value of the wrong type or out of range: a bad
	// duration, time, number, regular expression or series notation.
	ErrInvalid = errors.New("invalid value")
	// ErrMissing is a required field that is not set, or something a field
	// names that does not exist: a metric the Canary does not have, a
	// MetricTemplate that is not in the manifests, a template variable the
	// case does not set.
	ErrMissing = errors.New("missing")
	// ErrInput is a manifest or recorded-data file that cannot be read or
	// decoded.
	ErrInput = errors.New("bad input file")
)

// Error is one problem in a test file. Its text reads
//
//	podinfo.test.yaml:21:9: case "healthy": tests[0].metric_tests[1].eval_time: not a valid duration string: "5x"
//
// with the parts that are unknown left out.
type Error struct {
	// File is the test file's path as given.
	File string
	// Line and Column are 1-based; zero means unknown.
	Line, Column int
	// Case is the name of the test case the problem belongs to; empty for
	// problems outside the cases.
	Case string
	// Path is the field path inside the test file (tests[0].input_series[2].values).
	Path string
	// Msg says what is wrong and, where possible, how to fix it.
	Msg string
	// Err is the sentinel classifying the problem (ErrUnknownField, …).
	Err error
}

// Error formats the problem as "file:line:col: case "name": path: message".
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		b.WriteByte(':')
		b.WriteString(strconv.Itoa(e.Line))
		if e.Column > 0 {
			b.WriteByte(':')
			b.WriteString(strconv.Itoa(e.Column))
		}
	}
	b.WriteString(": ")
	if e.Case != "" {
		b.WriteString("case ")
		b.WriteString(strconv.Quote(e.Case))
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

// Errors returns the *Error values err is made of (err itself, or the
// members of an errors.Join tree); other errors are left out.
func Errors(err error) []*Error {
	var out []*Error
	var walk func(error)
	walk = func(err error) {
		switch e := err.(type) {
		case nil:
		case *Error:
			out = append(out, e)
		case interface{ Unwrap() []error }:
			for _, x := range e.Unwrap() {
				walk(x)
			}
		}
	}
	walk(err)
	return out
}
