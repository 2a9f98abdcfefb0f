package templates

import (
	"fmt"
	"strconv"
	"strings"
	"sync"
	"text/template"

	"github.com/Masterminds/sprig/v3"
)

// removedSprig are the sprig functions templates do not get: env and
// expandenv read the process environment, getHostByName does a DNS lookup.
var removedSprig = []string{"env", "expandenv", "getHostByName"}

// goBuiltins are text/template's predefined functions. A function map entry
// of the same name would replace the builtin (sprig's list "slice" does, so
// `{{ slice "abc" 1 }}` fails where Flagger renders "bc"); templates keep
// Go's, as Flagger, which has no sprig, does.
var goBuiltins = []string{"and", "call", "html", "index", "slice", "js", "len", "not", "or",
	"print", "printf", "println", "urlquery", "eq", "ge", "gt", "le", "lt", "ne"}

// sprigFuncs is sprig's text/template function map without removedSprig and
// with the functions that take a size argument bounded by MaxRenderedBytes
// (same results below the bound; an error wrapping ErrTooLarge above it,
// instead of an allocation that can kill the process). It is built once and
// only read afterwards.
var sprigFuncs = sync.OnceValue(func() template.FuncMap {
	fm := sprig.TxtFuncMap()
	for _, n := range removedSprig {
		delete(fm, n)
	}
	for _, n := range removedCrypto {
		delete(fm, n)
	}
	for _, n := range goBuiltins {
		delete(fm, n)
	}
	fm["repeat"] = repeat
	fm["indent"] = indent
	fm["nindent"] = nindent
	fm["until"] = until
	fm["untilStep"] = untilStep
	fm["seq"] = seq
	for _, n := range []string{"randAlphaNum", "randAlpha", "randAscii", "randNumeric"} {
		if f, ok := fm[n].(func(int) string); ok {
			fm[n] = boundedString(n, f)
		}
	}
	if f, ok := fm["randBytes"].(func(int) (string, error)); ok {
		fm["randBytes"] = func(count int) (string, error) {
			if err := checkCount("randBytes", count); err != nil {
				return "", err
			}
			return f(count)
		}
	}
	return fm
})

func tooLarge(fn string, n uint64) error {
	return fmt.Errorf("%s: size %d exceeds %d: %w", fn, n, MaxRenderedBytes, ErrTooLarge)
}

func checkCount(fn string, count int) error {
	if count < 0 {
		return fmt.Errorf("%s: negative count %d", fn, count)
	}
	if count > MaxRenderedBytes {
		return tooLarge(fn, uint64(count))
	}
	return nil
}

func boundedString(fn string, f func(int) string) func(int) (string, error) {
	return func(count int) (string, error) {
		if count > MaxRenderedBytes {
			return "", tooLarge(fn, uint64(count))
		}
		return f(count), nil
	}
}

// repeat is sprig's repeat (arguments swapped for pipelines: "x" | repeat 3).
func repeat(count int, str string) (string, error) {
	if count < 0 {
		return "", fmt.Errorf("repeat: negative count %d", count)
	}
	if len(str) > 0 && count > MaxRenderedBytes/len(str) {
		return "", tooLarge("repeat", uint64(count)*uint64(len(str)))
	}
	return strings.Repeat(str, count), nil
}

// indent is sprig's indent: spaces of padding before every line of v.
func indent(spaces int, v string) (string, error) {
	return indentFn("indent", spaces, v)
}

// nindent is sprig's nindent: a newline, then indent.
func nindent(spaces int, v string) (string, error) {
	s, err := indentFn("nindent", spaces, v)
	if err != nil {
		return "", err
	}
	return "\n" + s, nil
}

func indentFn(fn string, spaces int, v string) (string, error) {
	if spaces < 0 {
		return "", fmt.Errorf("%s: negative count %d", fn, spaces)
	}
	lines := strings.Count(v, "\n") + 1
	if len(v) > MaxRenderedBytes || (spaces > 0 && lines > (MaxRenderedBytes-len(v))/spaces) {
		return "", tooLarge(fn, uint64(spaces)*uint64(lines)+uint64(len(v)))
	}
	pad := strings.Repeat(" ", spaces)
	return pad + strings.ReplaceAll(v, "\n", "\n"+pad), nil
}

// until is sprig's until: 0 … count-1 (or 0 … count+1 for a negative count).
func until(count int) ([]int, error) {
	step := 1
	if count < 0 {
		step = -1
	}
	return untilStepFn("until", 0, count, step)
}

// untilStep is sprig's untilStep: start, start+step, … up to stop (exclusive).
func untilStep(start, stop, step int) ([]int, error) {
	return untilStepFn("untilStep", start, stop, step)
}

// untilStepFn returns the values sprig's untilStep produces, counted before
// anything is allocated. Unlike sprig's loop it cannot overflow and spin
// forever near the int bounds: it stops after the computed count.
func untilStepFn(fn string, start, stop, step int) ([]int, error) {
	n := stepCount(start, stop, step)
	if n > MaxRenderedBytes {
		return nil, tooLarge(fn, n)
	}
	v := make([]int, 0, n)
	for i := start; uint64(len(v)) < n; i += step {
		v = append(v, i)
	}
	return v, nil
}

// stepCount is the number of values from start towards stop (exclusive) by
// step, 0 when step points away from stop, computed without overflow.
func stepCount(start, stop, step int) uint64 {
	var dist, size uint64
	switch {
	case stop < start && step < 0:
		dist = uint64(start) - uint64(stop)
		size = -uint64(step)
	case stop > start && step > 0:
		dist = uint64(stop) - uint64(start)
		size = uint64(step)
	default:
		return 0
	}
	n := dist / size
	if dist%size != 0 {
		n++
	}
	return n
}

// seq is sprig's seq: like the shell's seq, "end", "start end" or
// "start step end", inclusive, joined by spaces.
func seq(params ...int) (string, error) {
	var start, stop, step int
	switch len(params) {
	case 1:
		start, step = 1, 1
		if params[0] < start {
			step = -1
		}
		stop = params[0] + step
	case 2:
		start, step = params[0], 1
		if params[1] < start {
			step = -1
		}
		stop = params[1] + step
	case 3:
		start, step = params[0], params[1]
		inc := 1
		if params[2] < start {
			inc = -1
			if step > 0 {
				return "", nil
			}
		}
		stop = params[2] + inc
	default:
		return "", nil
	}
	v, err := untilStepFn("seq", start, stop, step)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	for i, n := range v {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(strconv.Itoa(n))
		if b.Len() > MaxRenderedBytes {
			return "", tooLarge("seq", uint64(b.Len()))
		}
	}
	return b.String(), nil
}
