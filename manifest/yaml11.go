package manifest

import (
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"

	yaml "go.yaml.in/yaml/v3"
)

// Kubernetes reads YAML with sigs.k8s.io/yaml, which resolves scalars by the
// YAML 1.1 rules of go-yaml v2 and then converts the result to JSON. yaml.v3
// resolves by YAML 1.2, so augur resolves every scalar itself, by the YAML
// 1.1 rules, to decide what the API server would have seen. The oracle test
// in yaml11_test.go pins this against sigs.k8s.io/yaml.

// scalarType is the JSON type a YAML scalar resolves to.
type scalarType uint8

const (
	tNull scalarType = iota
	tBool
	tInt   // fits int64
	tUint  // above math.MaxInt64, fits uint64
	tFloat // finite or not; JSON conversion rejects the non-finite ones
	tString
)

// scalar is a resolved YAML scalar.
type scalar struct {
	t scalarType
	b bool
	i int64
	u uint64
	f float64
	s string // the string value, or the source text for other types
	// quoted is set when the source was a quoted or block scalar (used for hints).
	quoted bool
}

// yaml11Words are the plain scalars YAML 1.1 resolves by table lookup.
var yaml11Words = func() map[string]scalar {
	m := map[string]scalar{}
	add := func(v scalar, words ...string) {
		for _, w := range words {
			v.s = w
			m[w] = v
		}
	}
	add(scalar{t: tBool, b: true}, "y", "Y", "yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON")
	add(scalar{t: tBool, b: false}, "n", "N", "no", "No", "NO", "false", "False", "FALSE", "off", "Off", "OFF")
	add(scalar{t: tNull}, "", "~", "null", "Null", "NULL")
	add(scalar{t: tFloat, f: math.NaN()}, ".nan", ".NaN", ".NAN")
	add(scalar{t: tFloat, f: math.Inf(1)}, ".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF")
	add(scalar{t: tFloat, f: math.Inf(-1)}, "-.inf", "-.Inf", "-.INF")
	return m
}()

// yaml11Float is YAML 1.1's float syntax (after removing underscores).
var yaml11Float = regexp.MustCompile(`^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$`)

// resolvePlain resolves an unquoted, untagged scalar by the YAML 1.1 rules.
func resolvePlain(in string) scalar {
	str := scalar{t: tString, s: in}
	if in == "" {
		return yaml11Words[""]
	}
	switch c := in[0]; {
	case c == '+' || c == '-' || (c >= '0' && c <= '9'):
		if v, ok := yaml11Words[in]; ok {
			return v
		}
		return resolveNumber(in)
	case c == '.':
		if v, ok := yaml11Words[in]; ok {
			return v
		}
		if f, err := strconv.ParseFloat(in, 64); err == nil {
			return scalar{t: tFloat, f: f, s: in}
		}
	case strings.IndexByte("yYnNtTfFoO~", c) >= 0:
		if v, ok := yaml11Words[in]; ok {
			return v
		}
	}
	return str
}

// resolveNumber resolves a plain scalar starting with a sign or a digit.
// Timestamps (2006-01-02) also start with a digit, but a timestamp never
// parses as a number and go-yaml v2 hands timestamps to JSON as strings, so
// they need no case of their own.
func resolveNumber(in string) scalar {
	plain := strings.ReplaceAll(in, "_", "")
	if i, err := strconv.ParseInt(plain, 0, 64); err == nil {
		return scalar{t: tInt, i: i, s: in}
	}
	if u, err := strconv.ParseUint(plain, 0, 64); err == nil {
		return scalar{t: tUint, u: u, s: in}
	}
	if yaml11Float.MatchString(plain) {
		if f, err := strconv.ParseFloat(plain, 64); err == nil {
			return scalar{t: tFloat, f: f, s: in}
		}
	}
	switch {
	case strings.HasPrefix(plain, "0b"):
		if i, err := strconv.ParseInt(plain[2:], 2, 64); err == nil {
			return scalar{t: tInt, i: i, s: in}
		}
		if u, err := strconv.ParseUint(plain[2:], 2, 64); err == nil {
			return scalar{t: tUint, u: u, s: in}
		}
	case strings.HasPrefix(plain, "-0b"):
		if i, err := strconv.ParseInt("-"+plain[3:], 2, 64); err == nil {
			return scalar{t: tInt, i: i, s: in}
		}
	}
	return scalar{t: tString, s: in}
}

// quotedStyles are the scalar styles whose value is always a string.
const quotedStyles = yaml.SingleQuotedStyle | yaml.DoubleQuotedStyle | yaml.LiteralStyle | yaml.FoldedStyle

// resolveScalar resolves a scalar node as Kubernetes would: quoted and block
// scalars are strings, explicit standard tags are honoured, local tags are
// ignored (the value is a string), plain scalars follow YAML 1.1. (One
// difference remains: yaml.v3 does not record the non-specific tag "!", so
// "! 5" resolves like "5", where Kubernetes reads the string "5".)
func resolveScalar(n *yaml.Node) (scalar, error) {
	quoted := n.Style&quotedStyles != 0
	if n.Style&yaml.TaggedStyle != 0 {
		switch n.Tag {
		case "!!str", "!":
			return scalar{t: tString, s: n.Value, quoted: quoted}, nil
		case "!!int":
			v := resolvePlain(n.Value)
			if v.t == tInt || v.t == tUint {
				return v, nil
			}
		case "!!float":
			v := resolvePlain(n.Value)
			switch v.t {
			case tFloat:
				return v, nil
			case tInt:
				return scalar{t: tFloat, f: float64(v.i), s: n.Value}, nil
			case tUint:
				return scalar{t: tFloat, f: float64(v.u), s: n.Value}, nil
			}
		case "!!bool":
			if v := resolvePlain(n.Value); v.t == tBool {
				return v, nil
			}
		case "!!null":
			if v := resolvePlain(n.Value); v.t == tNull {
				return v, nil
			}
		default:
			if strings.HasPrefix(n.Tag, "!!") {
				return scalar{}, fmt.Errorf("unsupported YAML tag %s (Kubernetes manifests use plain values)", n.Tag)
			}
			return scalar{t: tString, s: n.Value, quoted: quoted}, nil
		}
		return scalar{}, fmt.Errorf("cannot read %q as %s", n.Value, n.Tag)
	}
	if quoted {
		return scalar{t: tString, s: n.Value, quoted: true}, nil
	}
	return resolvePlain(n.Value), nil
}

// keyString converts a resolved map key to the string JSON uses, as
// sigs.k8s.io/yaml does: integers in decimal, floats in their shortest
// 32-bit form, booleans as true/false. Null and very large integer keys have
// no JSON form.
func keyString(v scalar) (string, error) {
	switch v.t {
	case tString:
		return v.s, nil
	case tInt:
		return strconv.FormatInt(v.i, 10), nil
	case tBool:
		return strconv.FormatBool(v.b), nil
	case tFloat:
		// In 32-bit precision, as go-yaml formats floats; 1e100 overflows to +Inf.
		s := strconv.FormatFloat(v.f, 'g', -1, 32)
		switch s {
		case "+Inf":
			s = ".inf"
		case "-Inf":
			s = "-.inf"
		case "NaN":
			s = ".nan"
		}
		return s, nil
	case tNull:
		return "", fmt.Errorf("a map key must not be null (%q)", v.s)
	default:
		return "", fmt.Errorf("map key %s is out of range", v.s)
	}
}

// describe names a resolved scalar's type and value for messages.
func (v scalar) describe() string {
	switch v.t {
	case tNull:
		return "null"
	case tBool:
		return "boolean " + v.s
	case tInt, tUint:
		return "integer " + v.s
	case tFloat:
		return "number " + v.s
	default:
		return "string " + strconv.Quote(v.s)
	}
}
