package templates

import (
	"fmt"
	"sync"
	"text/template"
)

// MaxRenderedBytes bounds the text one execution may produce, and the size of
// any list or string a sprig function is asked to build. A real query is a
// few kilobytes; the bound keeps a hostile template from exhausting memory.
const MaxRenderedBytes = 1 << 20

// keepBuffer is the largest output buffer a pooled instance keeps for reuse.
const keepBuffer = 64 << 10

// flaggerNames are the template functions Flagger defines
// (MetricTemplateModel.TemplateFunctions), in Flagger's order.
var flaggerNames = []string{"name", "namespace", "target", "service", "ingress", "route", "interval", "variables"}

// binding holds the model the Flagger functions of one text/template read.
// A binding is used by one execution at a time.
type binding struct {
	m      Model
	budget budget
}

func (b *binding) funcs() template.FuncMap {
	return template.FuncMap{
		"name":      func() string { return b.m.Name },
		"namespace": func() string { return b.m.Namespace },
		"target":    func() string { return b.m.Target },
		"service":   func() string { return b.m.Service },
		"ingress":   func() string { return b.m.Ingress },
		"route":     func() string { return b.m.Route },
		"interval":  func() string { return b.m.Interval },
		"variables": func() map[string]string { return b.m.Variables },
	}
}

// newTemplate returns an empty template with Flagger's options and the
// functions of base overridden by Flagger's (Flagger's names win).
func newTemplate(name string, base template.FuncMap, b *binding) *template.Template {
	return template.New(name).Option("missingkey=error").Funcs(base).Funcs(b.funcs())
}

// guarded are the functions of an execution bound to b: sprig's and
// Flagger's, each call counted against b's budget.
func (b *binding) guarded() template.FuncMap {
	fm := make(template.FuncMap)
	for k, v := range sprigFuncs() {
		fm[k] = v
	}
	for k, v := range b.funcs() {
		fm[k] = v
	}
	// text/template's builtins that build strings (printf "%s%s" $s $s
	// doubles a string) are replaced by the same functions, guarded.
	for k, v := range stringBuiltins {
		fm[k] = v
	}
	return guard(fm, &b.budget)
}

// stringBuiltins are text/template's builtins that build strings.
var stringBuiltins = template.FuncMap{
	"print": fmt.Sprint, "printf": fmt.Sprintf, "println": fmt.Sprintln,
	"html": template.HTMLEscaper, "js": template.JSEscaper, "urlquery": template.URLQueryEscaper,
}

// parseChecked parses text and refuses the constructs no budget bounds.
func parseChecked(t *template.Template, text string) (*template.Template, error) {
	t, err := t.Parse(text)
	if err != nil {
		return nil, err
	}
	if err := checkTree(t); err != nil {
		return nil, fmt.Errorf("template: %s: %w", t.Name(), err)
	}
	return t, nil
}

// Template is a parsed query template. It is safe for concurrent use: each
// Execute runs on a private clone whose Flagger functions are bound to that
// call's Model; clones are pooled, so parsing and cloning happen once per
// concurrent caller rather than once per call.
type Template struct {
	name string
	base *template.Template
	pool sync.Pool // of *instance
}

// instance is a clone of Template.base with its own binding and buffer.
type instance struct {
	t   *template.Template
	b   *binding
	buf []byte
}

// Compile parses text as a query template called name (the name appears in
// error messages). A parse failure is an *Error with Stage StageParse.
func Compile(name, text string) (*Template, error) {
	t, err := parseChecked(newTemplate(name, sprigFuncs(), &binding{}), text)
	if err != nil {
		return nil, newError(name, StageParse, err)
	}
	return &Template{name: name, base: t}, nil
}

// Name returns the name the template was compiled with.
func (t *Template) Name() string { return t.name }

// Execute renders the template with m as Flagger's RenderQuery does (nil
// data, missingkey=error), except that output beyond MaxRenderedBytes is an
// error wrapping ErrTooLarge. The result is not whitespace-collapsed; see
// Collapse. An execution failure is an *Error with Stage StageExecute.
func (t *Template) Execute(m Model) (string, error) {
	in, err := t.get()
	if err != nil {
		return "", newError(t.name, StageExecute, err)
	}
	in.b.m = m
	in.b.budget.reset()
	out, buf, err := run(t.name, in.t, in.buf)
	in.b.m = Model{}
	if cap(buf) <= keepBuffer {
		in.buf = buf[:0]
	} else {
		in.buf = nil
	}
	t.pool.Put(in)
	return out, err
}

func (t *Template) get() (*instance, error) {
	if v, ok := t.pool.Get().(*instance); ok {
		return v, nil
	}
	c, err := t.base.Clone()
	if err != nil {
		return nil, fmt.Errorf("template: %s: clone: %w", t.name, err)
	}
	b := &binding{}
	c.Funcs(b.guarded())
	return &instance{t: c, b: b}, nil
}

// Render compiles and executes text in one step. Use Compile when the same
// text is rendered more than once.
func Render(name, text string, m Model) (string, error) {
	b := &binding{m: m}
	b.budget.reset()
	t, err := parseChecked(newTemplate(name, b.guarded(), b), text)
	if err != nil {
		return "", newError(name, StageParse, err)
	}
	out, _, err := run(name, t, nil)
	return out, err
}

// run executes t with nil data into buf, bounded by MaxRenderedBytes, and
// returns the output and the (possibly grown) buffer.
func run(name string, t *template.Template, buf []byte) (string, []byte, error) {
	w := limitWriter{name: name, buf: buf[:0]}
	if err := t.Execute(&w, nil); err != nil {
		return "", w.buf, newError(name, StageExecute, err)
	}
	return string(w.buf), w.buf, nil
}

// limitWriter collects output and fails once it would exceed MaxRenderedBytes.
type limitWriter struct {
	name string
	buf  []byte
}

func (w *limitWriter) Write(p []byte) (int, error) {
	if len(p) > MaxRenderedBytes-len(w.buf) {
		return 0, fmt.Errorf("template: %s: output exceeds %d bytes: %w", w.name, MaxRenderedBytes, ErrTooLarge)
	}
	w.buf = append(w.buf, p...)
	return len(p), nil
}
