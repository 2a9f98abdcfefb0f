package manifest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"sort"
	"strconv"
	"unicode/utf8"

	yaml "go.yaml.in/yaml/v3"
)

// parseStream splits an input into document nodes. Input that starts like
// JSON ('{' or '[') is read as a stream of JSON values first, with a JSON
// parser, because yaml.v3 rejects some valid JSON (the \/ escape, surrogate
// pairs) and concatenated JSON objects are not YAML; if that fails, the input
// is read as YAML (a flow mapping such as {a: 1} is YAML, not JSON), and if
// that fails too the JSON error is reported. Everything else is a YAML stream.
func parseStream(b []byte) ([]*yaml.Node, *Error) {
	trimmed := bytes.TrimLeft(b, " \t\r\n")
	if len(trimmed) > 0 && (trimmed[0] == '{' || trimmed[0] == '[') {
		docs, jerr := parseJSON(b)
		if jerr == nil {
			return docs, nil
		}
		if docs, yerr := parseYAML(b); yerr == nil {
			return docs, nil
		}
		return nil, jerr
	}
	return parseYAML(b)
}

// yamlErrLine matches yaml.v3's "yaml: line N: message".
var yamlErrLine = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// parseYAML splits a YAML stream into documents.
func parseYAML(b []byte) ([]*yaml.Node, *Error) {
	dec := yaml.NewDecoder(bytes.NewReader(b))
	var docs []*yaml.Node
	for {
		n := &yaml.Node{}
		err := decodeNode(dec, n)
		if errors.Is(err, io.EOF) {
			return docs, nil
		}
		if err != nil {
			e := &Error{Document: len(docs) + 1, Msg: err.Error(), Err: ErrSyntax}
			if m := yamlErrLine.FindStringSubmatch(e.Msg); m != nil {
				e.Pos.Line, _ = strconv.Atoi(m[1])
				e.Msg = "invalid YAML: " + m[2]
			}
			return nil, e
		}
		docs = append(docs, n)
	}
}

// decodeNode reads one document, turning a parser panic into an error: no
// input may crash the caller.
func decodeNode(dec *yaml.Decoder, n *yaml.Node) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("yaml: the YAML parser failed: %v", r)
		}
	}()
	return dec.Decode(n)
}

// jsonParser builds yaml.Node trees from a stream of JSON values, with the
// line and column of every value.
type jsonParser struct {
	b     []byte
	dec   *json.Decoder
	lines []int // offsets of line starts
	prev  int   // offset after the previous token
	depth int   // nesting of the value being read
	// The last position computed: positions are asked for in increasing
	// order, so the column is counted on from there, not from the start
	// of the line (a single-line document would make that quadratic).
	lastOff, lastLine, lastCol int
}

// maxJSONDepth is the deepest nesting parseJSON reads, as yaml.v3's limit.
const maxJSONDepth = 10000

// parseJSON reads a stream of JSON values.
func parseJSON(b []byte) ([]*yaml.Node, *Error) {
	p := &jsonParser{b: b, dec: json.NewDecoder(bytes.NewReader(b)), lines: []int{0}}
	p.dec.UseNumber()
	for i, c := range b {
		if c == '\n' {
			p.lines = append(p.lines, i+1)
		}
	}
	var docs []*yaml.Node
	for {
		n, err := p.value(true)
		if errors.Is(err, io.EOF) {
			return docs, nil
		}
		if err != nil {
			return nil, p.syntaxError(err, len(docs)+1)
		}
		docs = append(docs, &yaml.Node{Kind: yaml.DocumentNode, Line: n.Line, Column: n.Column, Content: []*yaml.Node{n}})
	}
}

// errEndOfContainer is returned by value for a closing delimiter.
var errEndOfContainer = errors.New("end of container")

// next reads a token and the position it starts at.
func (p *jsonParser) next() (json.Token, Position, error) {
	start := p.prev
	for start < len(p.b) {
		switch p.b[start] {
		case ' ', '\t', '\r', '\n', ',', ':':
			start++
			continue
		}
		break
	}
	tok, err := p.dec.Token()
	p.prev = int(p.dec.InputOffset())
	return tok, p.pos(start), err
}

// value reads one JSON value; only at the top level is the end of the
// input not an error.
func (p *jsonParser) value(top bool) (*yaml.Node, error) {
	tok, pos, err := p.next()
	if errors.Is(err, io.EOF) && !top {
		return nil, io.ErrUnexpectedEOF
	}
	if err != nil {
		return nil, err
	}
	n := &yaml.Node{Line: pos.Line, Column: pos.Column}
	switch t := tok.(type) {
	case json.Delim:
		if t == '{' || t == '[' {
			p.depth++
			defer func() { p.depth-- }()
			if p.depth > maxJSONDepth {
				return nil, fmt.Errorf("exceeded max depth of %d", maxJSONDepth)
			}
		}
		switch t {
		case '{':
			n.Kind, n.Tag = yaml.MappingNode, "!!map"
			for {
				k, err := p.value(false)
				if errors.Is(err, errEndOfContainer) {
					return n, nil
				}
				if err != nil {
					return nil, err
				}
				v, err := p.value(false)
				if err != nil {
					return nil, err
				}
				n.Content = append(n.Content, k, v)
			}
		case '[':
			n.Kind, n.Tag = yaml.SequenceNode, "!!seq"
			for {
				v, err := p.value(false)
				if errors.Is(err, errEndOfContainer) {
					return n, nil
				}
				if err != nil {
					return nil, err
				}
				n.Content = append(n.Content, v)
			}
		default:
			return nil, errEndOfContainer
		}
	case string:
		n.Kind, n.Tag, n.Style, n.Value = yaml.ScalarNode, "!!str", yaml.DoubleQuotedStyle, t
	case json.Number:
		n.Kind, n.Value = yaml.ScalarNode, t.String()
	case bool:
		n.Kind, n.Value = yaml.ScalarNode, strconv.FormatBool(t)
	case nil:
		n.Kind, n.Value = yaml.ScalarNode, "null"
	}
	return n, nil
}

// pos converts a byte offset into a line and a column (in characters).
func (p *jsonParser) pos(off int) Position {
	off = min(off, len(p.b))
	i := sort.Search(len(p.lines), func(i int) bool { return p.lines[i] > off }) - 1
	from, col := p.lines[i], 0
	if p.lastLine == i+1 && p.lastOff >= from && p.lastOff <= off {
		from, col = p.lastOff, p.lastCol
	}
	col += utf8.RuneCount(p.b[from:off])
	p.lastOff, p.lastLine, p.lastCol = off, i+1, col
	return Position{Line: i + 1, Column: col + 1}
}

// syntaxError turns a JSON decoding error into an *Error with a position.
func (p *jsonParser) syntaxError(err error, doc int) *Error {
	e := &Error{Document: doc, Msg: "invalid JSON: " + err.Error(), Err: ErrSyntax}
	var se *json.SyntaxError
	switch {
	case errors.As(err, &se):
		e.Pos = p.pos(int(se.Offset))
	case errors.Is(err, io.ErrUnexpectedEOF):
		e.Msg = "invalid JSON: unexpected end of input"
		e.Pos = p.pos(len(p.b))
	default:
		e.Pos = p.pos(p.prev)
	}
	return e
}
