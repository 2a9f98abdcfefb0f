package testfile

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	yaml "go.yaml.in/yaml/v3"

	"github.com/augurproj/augur/analysis"
	"github.com/augurproj/augur/manifest"
	"github.com/augurproj/augur/metrics/answers"
	"github.com/augurproj/augur/metrics/recorded"
)

// ParseFile reads, parses and loads the test file at path: see Parse and
// (*File).Load.
func ParseFile(path string) (*File, error) {
	return parseFile(path, map[string]*recorded.Store{})
}

func parseFile(path string, cache map[string]*recorded.Store) (*File, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, &Error{File: path, Msg: err.Error(), Err: ErrInput}
	}
	f, err := Parse(data, path)
	if err != nil {
		return nil, err
	}
	if err := f.load(cache); err != nil {
		return nil, err
	}
	return f, nil
}

// Load reads the manifest files and recorded data (input_file) the test
// file names, validates the manifests as `augur render -f` would, and picks
// the Canary under test. Problems are *Error values joined with
// errors.Join, each at the line of the test file that names the culprit.
// A File that loaded once is not read again.
func (f *File) Load() error {
	return f.load(map[string]*recorded.Store{})
}

func (f *File) load(cache map[string]*recorded.Store) error {
	if f.loaded {
		return nil
	}
	var errs []error
	set := &manifest.Set{}
	for i, m := range f.Manifests {
		path := fmt.Sprintf("manifests[%d]", i)
		s := m.inline
		if m.Path != "" {
			files, err := manifestFiles(m.Path)
			if err == nil {
				s, err = manifest.DecodePaths(files)
			}
			if err != nil {
				errs = append(errs, f.manifestErrors(err, path, ErrInput)...)
				continue
			}
		}
		if err := set.Merge(s); err != nil {
			errs = append(errs, f.manifestErrors(err, path, ErrInvalid)...)
		}
	}
	if len(errs) == 0 && len(f.Manifests) > 0 {
		if err := manifest.Validate(set); err != nil {
			errs = append(errs, f.manifestErrors(err, "", ErrInvalid)...)
		}
	}
	if len(errs) == 0 && len(f.Manifests) > 0 {
		c, err := f.pick(set)
		if err != nil {
			errs = append(errs, err)
		}
		f.canary = c
	}
	errs = append(errs, f.loadTemplates()...)
	for i, c := range f.Cases {
		if c.AnswersFile != "" {
			set, err := answers.LoadFile(c.AnswersFile)
			if err != nil {
				errs = append(errs, &Error{File: f.Path, Line: c.answersNode.line, Column: c.answersNode.col, Case: c.Name,
					Path: fmt.Sprintf("tests[%d].answers_file", i), Msg: err.Error(), Err: ErrInput})
			}
			c.answers = set
		}
		if c.InputFile == "" {
			continue
		}
		st, ok := cache[c.InputFile]
		if !ok {
			var err error
			if st, err = recorded.LoadFile(c.InputFile); err != nil {
				errs = append(errs, &Error{File: f.Path, Line: c.inputNode.line, Column: c.inputNode.col, Case: c.Name,
					Path: fmt.Sprintf("tests[%d].input_file", i), Msg: err.Error(), Err: ErrInput})
				continue
			}
			cache[c.InputFile] = st
		}
		c.store = st
		if !c.hasStart && st.SampleCount() > 0 {
			c.Start = st.Start()
		}
	}
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	f.set, f.loaded = set, true
	return nil
}

// manifestFiles lists what a manifests entry stands for: a file itself, or
// the *.yaml, *.yml and *.json files below a directory (as -f reads it),
// leaving out test files (*.test.yaml, *.test.yml), so that a test file can
// sit beside the manifests it tests and name their directory.
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
		switch {
		case err != nil:
			return err
		case p != path && strings.HasPrefix(de.Name(), "."):
			if de.IsDir() {
				return filepath.SkipDir
			}
			return nil
		case de.IsDir() || isTestFile(p) || !slices.Contains([]string{".yaml", ".yml", ".json"}, filepath.Ext(p)):
			return nil
		}
		if de.Type()&fs.ModeSymlink != 0 {
			if st, err := os.Stat(p); err != nil || st.IsDir() {
				return err
			}
		}
		files = append(files, p)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("reading manifest directory %s: %w", path, err)
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("reading manifest directory %s: no .yaml, .yml or .json files in it besides test files", path)
	}
	return files, nil
}

// isTestFile reports whether a file name is a test file's.
func isTestFile(name string) bool {
	return strings.HasSuffix(name, ".test.yaml") || strings.HasSuffix(name, ".test.yml")
}

// pick returns the Canary under test.
func (f *File) pick(set *manifest.Set) (analysis.Canary, error) {
	at := &Error{File: f.Path, Path: "manifests", Err: ErrMissing}
	if len(f.Manifests) > 0 {
		at.Line, at.Column = f.Manifests[0].Line, f.Manifests[0].Column
	}
	if f.Canary != "" {
		ns, name, ok := strings.Cut(f.Canary, "/")
		if !ok {
			ns, name = "", f.Canary
		}
		for _, c := range set.Canaries {
			if c.Metadata.Name == name && (ns == "" || c.Metadata.Namespace == ns) {
				return c, nil
			}
		}
		at.Path, at.Msg = "canary", fmt.Sprintf("no Canary %s in the manifests (they hold %s)", f.Canary, canaryNames(set))
		return analysis.Canary{}, at
	}
	switch len(set.Canaries) {
	case 0:
		at.Msg = "the manifests hold no Canary (apiVersion flagger.app/v1beta1, kind Canary)"
		return analysis.Canary{}, at
	case 1:
		return set.Canaries[0], nil
	}
	at.Msg = fmt.Sprintf("the manifests hold %d Canaries (%s): pick one with canary: NAMESPACE/NAME", len(set.Canaries), canaryNames(set))
	at.Err = ErrInvalid
	return analysis.Canary{}, at
}

func canaryNames(set *manifest.Set) string {
	if len(set.Canaries) == 0 {
		return "none"
	}
	names := make([]string, len(set.Canaries))
	for i, c := range set.Canaries {
		names[i] = c.Metadata.Namespace + "/" + c.Metadata.Name
	}
	return strings.Join(names, ", ")
}

// manifestErrors turns manifest problems into *Errors. A problem inside the
// test file (an inline object) keeps its position there; a problem in a
// manifest file is reported at the manifests entry that names the file, with
// the manifest's own file:line in the message.
func (f *File) manifestErrors(err error, path string, kind error) []error {
	mes, others := splitManifestErrors(err)
	out := make([]error, 0, len(mes)+len(others))
	for _, me := range mes {
		out = append(out, f.manifestError(me, path, kind))
	}
	for _, o := range others {
		e := &Error{File: f.Path, Path: path, Msg: o.Error(), Err: kind}
		if m := f.entryFor(""); m != nil {
			e.Line, e.Column = m.Line, m.Column
		}
		out = append(out, e)
	}
	return out
}

// splitManifestErrors flattens an errors.Join tree into the *manifest.Error
// values and the other errors it holds.
func splitManifestErrors(err error) (mes []*manifest.Error, others []error) {
	var walk func(error)
	walk = func(err error) {
		switch e := err.(type) {
		case nil:
		case *manifest.Error:
			mes = append(mes, e)
		case interface{ Unwrap() []error }:
			for _, x := range e.Unwrap() {
				walk(x)
			}
		default:
			others = append(others, err)
		}
	}
	walk(err)
	return mes, others
}

func (f *File) manifestError(me *manifest.Error, path string, kind error) *Error {
	if me.Source == f.Path {
		msg := me.Msg
		if me.Object != "" {
			msg = me.Object + ": " + msg
		}
		return &Error{File: f.Path, Line: me.Pos.Line, Column: me.Pos.Column, Path: me.Path, Msg: msg, Err: sentinel(me.Err, kind)}
	}
	e := &Error{File: f.Path, Path: path, Msg: me.Error(), Err: kind}
	if m := f.entryFor(me.Source); m != nil {
		e.Line, e.Column = m.Line, m.Column
		if path == "" {
			for i := range f.Manifests {
				if &f.Manifests[i] == m {
					e.Path = fmt.Sprintf("manifests[%d]", i)
				}
			}
		}
	}
	return e
}

// sentinel maps a manifest sentinel onto this package's.
func sentinel(err, def error) error {
	switch {
	case errors.Is(err, manifest.ErrSyntax):
		return ErrSyntax
	case errors.Is(err, manifest.ErrUnknownField):
		return ErrUnknownField
	case errors.Is(err, manifest.ErrUnresolved):
		return ErrMissing
	}
	return def
}

// entryFor returns the manifests entry a manifest file came from (the file
// itself or a directory holding it), else the first entry.
func (f *File) entryFor(source string) *Manifest {
	if len(f.Manifests) == 0 {
		return nil
	}
	src := filepath.Clean(source)
	for i := range f.Manifests {
		m := &f.Manifests[i]
		if m.Path == "" {
			continue
		}
		if rel, err := filepath.Rel(m.Path, src); err == nil && (rel == "." || !strings.HasPrefix(rel, "..")) {
			return m
		}
	}
	return &f.Manifests[0]
}

// inline decodes an inline Canary or MetricTemplate. n is the entry as
// written (possibly an alias), v the mapping it resolves to. A block-style
// object is cut out of the test file's text, so manifest's errors point at
// the right line and column; an alias or a flow-style object is re-encoded
// and its errors point at the object.
func (p *fileParser) inline(n, v *yaml.Node, path string) *manifest.Set {
	var text []byte
	exact := n.Kind != yaml.AliasNode && v.Style&yaml.FlowStyle == 0 && !hasAliases(v, 0)
	if exact {
		text = p.block(v.Line, v.Column)
	}
	if text == nil {
		exact = false
		out, err := yaml.Marshal(v)
		if err != nil {
			p.fail(v, path, ErrSyntax, "cannot re-encode the inline object: %v", err)
			return nil
		}
		text = out
	}
	shift := func(pos manifest.Position) manifest.Position {
		if !exact || pos.Line <= 0 {
			return manifest.Position{Line: v.Line, Column: v.Column}
		}
		out := manifest.Position{Line: pos.Line + v.Line - 1}
		if pos.Column > 0 {
			out.Column = pos.Column + v.Column - 1
		}
		return out
	}
	set, err := manifest.DecodeBytes(text, p.file.Path)
	if err != nil {
		mes, others := splitManifestErrors(err)
		for _, me := range mes {
			msg := me.Msg
			if me.Object != "" {
				msg = me.Object + ": " + msg
			}
			pos := shift(me.Pos)
			p.add(&Error{File: p.file.Path, Line: pos.Line, Column: pos.Column, Path: join(path, me.Path), Msg: msg, Err: sentinel(me.Err, ErrInvalid)})
		}
		for _, e := range others {
			p.fail(v, path, ErrInvalid, "%v", e)
		}
		return nil
	}
	if n := len(set.Canaries) + len(set.Templates); n != 1 {
		p.fail(v, path, ErrInvalid, "an inline manifest is one Canary or MetricTemplate (apiVersion %s); this one holds %d", analysis.APIVersion, n)
		return nil
	}
	for k, o := range set.Sources {
		o.Source, o.Document, o.Item = p.file.Path, 0, ""
		o.Pos = shift(o.Pos)
		fields := make(map[string]manifest.Position, len(o.Fields))
		for fp, pos := range o.Fields {
			fields[fp] = shift(pos)
		}
		o.Fields = fields
		set.Sources[k] = o
	}
	return set
}

// add records an error built elsewhere, within the error cap.
func (d *decoder) add(err error) {
	if len(d.errs) < maxErrors {
		d.errs = append(d.errs, err)
	}
}

// hasAliases reports whether the subtree uses anchors or aliases.
func hasAliases(n *yaml.Node, depth int) bool {
	if n == nil || depth > 200 {
		return true
	}
	if n.Kind == yaml.AliasNode || n.Anchor != "" {
		return true
	}
	for _, c := range n.Content {
		if hasAliases(c, depth+1) {
			return true
		}
	}
	return false
}

// block cuts the block-style node starting at line:col out of the file:
// the rest of the first line from col, then every following line indented
// at least col-1 spaces (de-indented by that much), up to the first line
// indented less. Blank lines and less-indented comments become empty lines,
// so line numbers inside the cut map back by a constant. It returns nil
// when the text does not look like a block node.
func (p *fileParser) block(line, col int) []byte {
	if p.lines == nil {
		p.lines = bytes.SplitAfter(p.data, []byte("\n"))
	}
	if line < 1 || line > len(p.lines) || col < 1 || col-1 > len(p.lines[line-1]) {
		return nil
	}
	indent := col - 1
	first := p.lines[line-1]
	if bytes.ContainsAny(first[:indent], "\t") {
		return nil
	}
	var out bytes.Buffer
	out.Write(first[indent:])
	for _, s := range p.lines[line:] {
		trimmed := bytes.TrimLeft(s, " ")
		lead := len(s) - len(trimmed)
		content := bytes.TrimRight(trimmed, "\r\n")
		switch {
		case len(content) == 0:
			out.WriteByte('\n')
			continue
		case lead < indent && content[0] == '#':
			out.WriteByte('\n')
			continue
		case lead < indent:
			return out.Bytes()
		}
		out.Write(s[indent:])
	}
	return out.Bytes()
}
