package templates

import (
	"errors"
	"fmt"
	"reflect"
	"slices"
	"text/template"
	"text/template/parse"
	"time"
)

// Bounds of one execution besides MaxRenderedBytes. A real query calls a
// handful of functions and renders in microseconds.
const (
	// MaxCalls bounds the function calls of one execution.
	MaxCalls = 100_000
	// MaxElements bounds the list and map elements the functions of one
	// execution produce in total; every range iterates over such a result,
	// so it also bounds the iterations of all loops, nested ones included.
	MaxElements = 1_000_000
	// MaxRenderTime bounds one execution's time.
	MaxRenderTime = 2 * time.Second
)

// ErrBudget is returned (wrapped) when an execution exceeds MaxCalls,
// MaxElements or MaxRenderTime.
var ErrBudget = errors.New("template execution budget exceeded")

// removedCrypto are sprig functions with no place in a query: key and
// certificate generation (seconds of CPU each), password derivation and
// hashing, encryption. Removed so that a template cannot burn CPU with them.
var removedCrypto = []string{
	"genPrivateKey", "derivePassword", "buildCustomCert",
	"genCA", "genCAWithKey", "genSelfSignedCert", "genSelfSignedCertWithKey",
	"genSignedCert", "genSignedCertWithKey", "encryptAES", "decryptAES",
	"bcrypt", "htpasswd",
}

// rangeable are the functions whose result a range may iterate over: their
// results are lists or maps counted against MaxElements. A range over
// anything else (an integer, a variable holding a list) could loop without
// bound or re-iterate a counted list, and is refused when parsing.
var rangeable = []string{
	"until", "untilStep", "list", "tuple", "splitList", "split", "splitn", "regexSplit", "regexFindAll",
	"keys", "values", "sortAlpha", "uniq", "compact", "mustCompact", "without", "mustWithout", "rest", "mustRest",
	"initial", "mustInitial", "reverse", "mustReverse", "append", "mustAppend", "push", "mustPush", "prepend",
	"mustPrepend", "concat", "chunk", "mustChunk", "slice", "mustSlice", "dict", "pick", "omit", "merge",
	"mustMerge", "variables", "fromJsonArray", "mustFromJsonArray", "fromJson", "mustFromJson",
	"fromYaml", "fromYamlArray",
}

// budget is the state of one execution.
type budget struct {
	calls, elements int
	deadline        time.Time
}

func (b *budget) reset() { *b = budget{deadline: time.Now().Add(MaxRenderTime)} }

// step counts a call; it panics (text/template turns a function's panic
// into an execution error) when a bound is passed.
func (b *budget) step(fn string) {
	b.calls++
	if b.calls > MaxCalls {
		panic(fmt.Errorf("%s: more than %d function calls: %w", fn, MaxCalls, ErrBudget))
	}
	if b.calls%64 == 0 && time.Now().After(b.deadline) {
		panic(fmt.Errorf("%s: rendering took longer than %s: %w", fn, MaxRenderTime, ErrBudget))
	}
}

// result checks a function's result against the bounds.
func (b *budget) result(fn string, v reflect.Value) {
	switch v.Kind() {
	case reflect.String:
		if v.Len() > MaxRenderedBytes {
			panic(tooLarge(fn, uint64(v.Len())))
		}
	case reflect.Slice, reflect.Array, reflect.Map:
		b.elements += v.Len()
		if b.elements > MaxElements {
			panic(fmt.Errorf("%s: the functions of one rendering built more than %d list elements: %w", fn, MaxElements, ErrBudget))
		}
	case reflect.Interface:
		if !v.IsNil() {
			b.result(fn, v.Elem())
		}
	}
}

// guard wraps every function of fm so that each call is counted and its
// result checked.
func guard(fm template.FuncMap, b *budget) template.FuncMap {
	out := make(template.FuncMap, len(fm))
	for name, fn := range fm {
		v := reflect.ValueOf(fn)
		t := v.Type()
		out[name] = reflect.MakeFunc(t, func(args []reflect.Value) []reflect.Value {
			b.step(name)
			var res []reflect.Value
			if t.IsVariadic() {
				res = v.CallSlice(args)
			} else {
				res = v.Call(args)
			}
			if len(res) > 0 {
				b.result(name, res[0])
			}
			return res
		}).Interface()
	}
	return out
}

// MaxTemplateExpansions bounds how many template bodies one execution of
// a query can expand through {{ template }} calls, counted statically.
const MaxTemplateExpansions = 1000

// checkTree refuses the constructs whose cost no budget can see: a range
// over anything but a rangeable function's result, recursive template
// calls, template calls inside a range, and call trees that expand more
// than MaxTemplateExpansions bodies (each doubling needs neither a function
// call nor output).
func checkTree(t *template.Template) error {
	calls := map[string][]string{}
	for _, tt := range t.Templates() {
		if tt.Tree == nil || tt.Root == nil {
			continue
		}
		c := &checker{}
		if err := c.node(tt.Root); err != nil {
			return err
		}
		calls[tt.Name()] = c.calls
	}
	// Expansions per template, over the call graph; a cycle is recursion.
	memo := map[string]int{}
	const visiting = -1
	var expand func(name string) (int, error)
	expand = func(name string) (int, error) {
		switch n := memo[name]; {
		case n == visiting:
			return 0, fmt.Errorf("template %q calls itself: recursive templates are not supported in a query template", name)
		case n > 0:
			return n, nil
		}
		memo[name] = visiting
		total := 1
		for _, callee := range calls[name] {
			n, err := expand(callee)
			if err != nil {
				return 0, err
			}
			total += n
			if total > MaxTemplateExpansions {
				return 0, fmt.Errorf("template %q expands more than %d template bodies", name, MaxTemplateExpansions)
			}
		}
		memo[name] = total
		return total, nil
	}
	for name := range calls {
		if _, err := expand(name); err != nil {
			return err
		}
	}
	return nil
}

// checker walks one template body.
type checker struct {
	calls   []string
	inRange int
}

func (c *checker) node(n parse.Node) error {
	switch n := n.(type) {
	case *parse.ListNode:
		if n == nil {
			return nil
		}
		for _, x := range n.Nodes {
			if err := c.node(x); err != nil {
				return err
			}
		}
	case *parse.TemplateNode:
		if c.inRange > 0 {
			return fmt.Errorf("template %q: calling a template inside a range is not supported in a query template", n.Name)
		}
		c.calls = append(c.calls, n.Name)
	case *parse.RangeNode:
		if err := checkRange(n.Pipe); err != nil {
			return err
		}
		c.inRange++
		err := c.node(n.List)
		c.inRange--
		if err != nil {
			return err
		}
		return c.node(n.ElseList)
	case *parse.IfNode:
		if err := c.node(n.List); err != nil {
			return err
		}
		return c.node(n.ElseList)
	case *parse.WithNode:
		if err := c.node(n.List); err != nil {
			return err
		}
		return c.node(n.ElseList)
	}
	return nil
}

func checkRange(p *parse.PipeNode) error {
	if p != nil && len(p.Cmds) > 0 {
		last := p.Cmds[len(p.Cmds)-1]
		if len(last.Args) > 0 {
			if id, ok := last.Args[0].(*parse.IdentifierNode); ok && slices.Contains(rangeable, id.Ident) {
				return nil
			}
		}
	}
	return fmt.Errorf("range %s: augur ranges only over the result of a list function (until, list, splitList, keys, …), "+
		"not over a number or a variable, so that every loop is bounded", p)
}
