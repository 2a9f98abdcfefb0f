package argo

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"sort"
	"strings"

	"github.com/argoproj/argo-rollouts/pkg/apis/rollouts/v1alpha1"
	yaml "go.yaml.in/yaml/v3"
)

// Offline evaluation of Argo AnalysisTemplates (`augur query -f
// template.yaml --arg k=v --data FILE`): every metric that uses the augur
// plugin is measured once, exactly as the plugin measures it for Argo.

// Measured is one metric of a template, measured offline.
type Measured struct {
	Template string `json:"template"`
	Metric   string `json:"metric"`
	// Phase is Argo's measurement phase (Successful, Failed, Inconclusive,
	// Error), or empty for a metric that does not use the augur plugin.
	Phase   string `json:"phase,omitempty"`
	Value   string `json:"value,omitempty"`
	Message string `json:"message,omitempty"`
	Query   string `json:"query,omitempty"`
}

// analysisTemplate is an AnalysisTemplate or ClusterAnalysisTemplate document.
type analysisTemplate struct {
	APIVersion string                        `json:"apiVersion"`
	Kind       string                        `json:"kind"`
	Metadata   templateMeta                  `json:"metadata"`
	Spec       v1alpha1.AnalysisTemplateSpec `json:"spec"`
}

// templateMeta is the part of an object's metadata augur reads.
type templateMeta struct {
	Name        string            `json:"name"`
	Namespace   string            `json:"namespace,omitempty"`
	Labels      map[string]string `json:"labels,omitempty"`
	Annotations map[string]string `json:"annotations,omitempty"`
}

// IsTemplateFile reports whether the first document of b is an Argo
// AnalysisTemplate or ClusterAnalysisTemplate.
func IsTemplateFile(b []byte) bool {
	var head struct {
		APIVersion string `yaml:"apiVersion"`
		Kind       string `yaml:"kind"`
	}
	if yaml.Unmarshal(b, &head) != nil {
		return false
	}
	return strings.HasPrefix(head.APIVersion, "argoproj.io/") && (head.Kind == "AnalysisTemplate" || head.Kind == "ClusterAnalysisTemplate")
}

var argRef = regexp.MustCompile(`\{\{\s*args\.([A-Za-z0-9_.-]+)\s*\}\}`)

// MeasureTemplates decodes the AnalysisTemplates of b (YAML or JSON, several
// documents allowed), resolves their args from args (NAME → value) and the
// templates' own values, and measures every augur metric once. A missing
// arg, an arg not in any template, or a document of another kind is an error.
func (p *Provider) MeasureTemplates(ctx context.Context, b []byte, source string, args map[string]string) ([]Measured, error) {
	return p.MeasureTemplatesFrom(ctx, b, source, args, ArgsFlag)
}

// Where the args of MeasureTemplatesFrom come from; error messages say how
// to give a missing one.
const (
	// ArgsFlag: `augur query --arg NAME=VALUE`.
	ArgsFlag = "--arg"
	// ArgsTestCase: a test case's args mapping (`augur test`).
	ArgsTestCase = "args"
)

// ArgError is a problem with the args of MeasureTemplatesFrom: a declared
// arg without a value, or a given arg no template declares.
type ArgError struct{ Msg string }

func (e *ArgError) Error() string { return e.Msg }

// giveArg says how to give the arg name from the args source.
func giveArg(from, name string) string {
	if from == ArgsTestCase {
		return fmt.Sprintf("set it in the case's args (%s: VALUE)", name)
	}
	return fmt.Sprintf("give it with --arg %s=VALUE", name)
}

// MeasureTemplatesFrom is MeasureTemplates with the args' source (ArgsFlag
// or ArgsTestCase) named in errors.
func (p *Provider) MeasureTemplatesFrom(ctx context.Context, b []byte, source string, args map[string]string, from string) ([]Measured, error) {
	return p.MeasureTemplateFiles(ctx, []TemplateFile{{Source: source, Data: b}}, args, from)
}

// TemplateFile is a file of AnalysisTemplates: its contents and its name
// in errors.
type TemplateFile struct {
	Source string
	Data   []byte
}

// FileError is a problem with one template file (it does not decode, a
// document is of another kind, it has no metrics). Index is the file's
// position in MeasureTemplateFiles's list.
type FileError struct {
	Index int
	Err   error
}

func (e *FileError) Error() string { return e.Err.Error() }
func (e *FileError) Unwrap() error { return e.Err }

// MeasureTemplateFiles measures the augur metrics of every file, resolving
// args across them all: an arg must be declared by one of the files. Errors
// are *ArgError (args) or *FileError (a file).
func (p *Provider) MeasureTemplateFiles(ctx context.Context, files []TemplateFile, args map[string]string, from string) ([]Measured, error) {
	used := map[string]bool{}
	var out []Measured
	for i, f := range files {
		ms, err := p.measureFile(ctx, f.Data, f.Source, args, from, used)
		if err != nil {
			var ae *ArgError
			if errors.As(err, &ae) {
				return nil, err
			}
			return nil, &FileError{Index: i, Err: err}
		}
		out = append(out, ms...)
	}
	var unused []string
	for k := range args {
		if !used[k] {
			unused = append(unused, k)
		}
	}
	if len(unused) > 0 {
		sort.Strings(unused)
		return nil, &ArgError{Msg: fmt.Sprintf("%s %s: no template declares it in spec.args", from, strings.Join(unused, ", "))}
	}
	return out, nil
}

func (p *Provider) measureFile(ctx context.Context, b []byte, source string, args map[string]string, from string, used map[string]bool) ([]Measured, error) {
	dec := yaml.NewDecoder(bytes.NewReader(b))
	var out []Measured
	for n := 1; ; n++ {
		var doc any
		err := dec.Decode(&doc)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%s: document %d: %w", source, n, err)
		}
		if doc == nil {
			continue
		}
		j, err := json.Marshal(doc)
		if err != nil {
			return nil, fmt.Errorf("%s: document %d: %w", source, n, err)
		}
		var t analysisTemplate
		jd := json.NewDecoder(bytes.NewReader(j))
		jd.DisallowUnknownFields()
		if err := jd.Decode(&t); err != nil {
			return nil, fmt.Errorf("%s: document %d: %w", source, n, err)
		}
		if t.Kind != "AnalysisTemplate" && t.Kind != "ClusterAnalysisTemplate" {
			return nil, fmt.Errorf("%s: document %d: kind %q is not an AnalysisTemplate or ClusterAnalysisTemplate", source, n, t.Kind)
		}
		values, err := resolveTemplateArgs(t, args, used, from)
		if err != nil {
			return nil, &ArgError{Msg: fmt.Sprintf("%s: %s %s: %v", source, t.Kind, t.Metadata.Name, err)}
		}
		ns := t.Metadata.Namespace
		if ns == "" {
			ns = "default"
		}
		run := &v1alpha1.AnalysisRun{}
		run.Namespace, run.Name = ns, t.Metadata.Name
		for _, m := range t.Spec.Metrics {
			res := Measured{Template: t.Metadata.Name, Metric: m.Name}
			if m.Provider.Plugin == nil || m.Provider.Plugin[PluginName] == nil {
				res.Message = "not an " + PluginName + " metric: not measured"
				out = append(out, res)
				continue
			}
			m, err := substitute(m, values)
			if err != nil {
				return nil, fmt.Errorf("%s: %s %s: metric %s: %w", source, t.Kind, t.Metadata.Name, res.Metric, err)
			}
			meas := p.RunContext(ctx, run, m)
			res.Phase, res.Value, res.Message = string(meas.Phase), meas.Value, meas.Message
			res.Query = meas.Metadata["query"]
			out = append(out, res)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s: no AnalysisTemplate metrics", source)
	}
	return out, nil
}

// resolveTemplateArgs gives every declared arg a value: the flag's, else the
// template's own value. An arg from a Secret or a field has no offline
// value: it must be given.
func resolveTemplateArgs(t analysisTemplate, given map[string]string, used map[string]bool, from string) (map[string]string, error) {
	out := map[string]string{}
	for _, a := range t.Spec.Args {
		if v, ok := given[a.Name]; ok {
			out[a.Name] = v
			used[a.Name] = true
			continue
		}
		switch {
		case a.Value != nil:
			out[a.Name] = *a.Value
		case a.ValueFrom != nil:
			return nil, &ArgError{Msg: fmt.Sprintf("arg %q comes from a Secret or a field of the Rollout: %s", a.Name, giveArg(from, a.Name))}
		default:
			return nil, &ArgError{Msg: fmt.Sprintf("arg %q has no value: %s", a.Name, giveArg(from, a.Name))}
		}
	}
	return out, nil
}

// substitute replaces {{args.NAME}} in the metric, as Argo does before it
// hands the metric to a provider. A reference to an undeclared arg is an error.
func substitute(m v1alpha1.Metric, values map[string]string) (v1alpha1.Metric, error) {
	j, err := json.Marshal(m)
	if err != nil {
		return m, err
	}
	var missing []string
	s := argRef.ReplaceAllStringFunc(string(j), func(ref string) string {
		name := argRef.FindStringSubmatch(ref)[1]
		v, ok := values[name]
		if !ok {
			missing = append(missing, name)
			return ref
		}
		q, _ := json.Marshal(v)
		return string(q[1 : len(q)-1])
	})
	if len(missing) > 0 {
		return m, fmt.Errorf("{{args.%s}} is not declared in spec.args", missing[0])
	}
	var out v1alpha1.Metric
	if err := json.Unmarshal([]byte(s), &out); err != nil {
		return m, err
	}
	return out, nil
}
