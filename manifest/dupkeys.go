package manifest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"

	"go.yaml.in/yaml/v3"
)

// ErrDuplicateKey is returned (wrapped) by DuplicateJSONKey.
var ErrDuplicateKey = errors.New("key given twice")

// DuplicateKeyError names a member given twice: the object's path and the key.
type DuplicateKeyError struct {
	// Path is the object's path below the root ("" for the root itself).
	Path string
	// Key is the member's name.
	Key string
}

func (e *DuplicateKeyError) Error() string {
	if e.Path == "" {
		return fmt.Sprintf("key %q is given twice", e.Key)
	}
	return fmt.Sprintf("%s: key %q is given twice", e.Path, e.Key)
}

// Unwrap returns ErrDuplicateKey.
func (e *DuplicateKeyError) Unwrap() error { return ErrDuplicateKey }

// DuplicateJSONKey reports the first object member given twice at any depth
// of the JSON text b, which encoding/json would silently resolve to the
// last one ("deadlineExceeded": true, "deadlineExceeded": false), as a
// *DuplicateKeyError naming the object's path below root ("status"). It is
// one pass over the tokens with a set per open object: linear in len(b).
// Syntax errors are not its business: it returns nil for them and leaves
// the report to the decoder.
func DuplicateJSONKey(b []byte, root string) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	type frame struct {
		object bool
		seen   map[string]struct{}
		path   string
		key    string // object: the member being read
		index  int    // array: the element being read
		expect bool   // object: the next token is a key
	}
	var stack []*frame
	childPath := func() string {
		if len(stack) == 0 {
			return root
		}
		f := stack[len(stack)-1]
		if f.object {
			if f.path == "" {
				return f.key
			}
			return f.path + "." + f.key
		}
		return f.path + "[" + strconv.Itoa(f.index) + "]"
	}
	// after is called when a value ends: the parent moves on.
	after := func() {
		if len(stack) == 0 {
			return
		}
		f := stack[len(stack)-1]
		if f.object {
			f.expect = true
		} else {
			f.index++
		}
	}
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return nil
		}
		if len(stack) > 0 {
			if f := stack[len(stack)-1]; f.object && f.expect {
				if d, ok := tok.(json.Delim); ok && d == '}' {
					stack = stack[:len(stack)-1]
					after()
					continue
				}
				key, _ := tok.(string)
				if _, dup := f.seen[key]; dup {
					return &DuplicateKeyError{Path: f.path, Key: key}
				}
				f.seen[key] = struct{}{}
				f.key, f.expect = key, false
				continue
			}
		}
		switch t := tok.(type) {
		case json.Delim:
			switch t {
			case '{':
				stack = append(stack, &frame{object: true, seen: map[string]struct{}{}, path: childPath(), expect: true})
			case '[':
				stack = append(stack, &frame{path: childPath()})
			default: // ']' ('}' is handled with the keys)
				stack = stack[:len(stack)-1]
				after()
			}
		default:
			after()
		}
	}
}

// DuplicateKey is DuplicateJSONKey for YAML or JSON text (a stream of
// documents): the first mapping key given twice at any depth, in one pass
// over the parsed nodes. Syntax errors are left to the decoder (nil).
func DuplicateKey(b []byte) error {
	dec := yaml.NewDecoder(bytes.NewReader(b))
	for {
		var doc yaml.Node
		if err := dec.Decode(&doc); err != nil {
			return nil
		}
		if err := duplicateNode(&doc, ""); err != nil {
			return err
		}
	}
}

func duplicateNode(n *yaml.Node, path string) error {
	switch n.Kind {
	case yaml.DocumentNode, yaml.SequenceNode:
		for i, c := range n.Content {
			p := path
			if n.Kind == yaml.SequenceNode {
				p = path + "[" + strconv.Itoa(i) + "]"
			}
			if err := duplicateNode(c, p); err != nil {
				return err
			}
		}
	case yaml.MappingNode:
		seen := make(map[string]struct{}, len(n.Content)/2)
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := n.Content[i].Value
			if _, dup := seen[k]; dup && n.Content[i].Kind == yaml.ScalarNode && k != "<<" {
				return &DuplicateKeyError{Path: path, Key: k}
			}
			seen[k] = struct{}{}
			p := k
			if path != "" {
				p = path + "." + k
			}
			if err := duplicateNode(n.Content[i+1], p); err != nil {
				return err
			}
		}
	}
	return nil
}
