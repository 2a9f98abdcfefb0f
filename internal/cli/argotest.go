package cli

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/augurproj/augur/internal/testfile"
	"github.com/augurproj/augur/metrics"
	"github.com/augurproj/augur/metrics/prometheus"
	"github.com/augurproj/augur/metrics/recorded"
	"github.com/augurproj/augur/metrics/vendors"
	"github.com/augurproj/augur/plugins/argo"
	"github.com/augurproj/augur/service"
)

// argoMeasurer measures a test case's Argo AnalysisTemplates with the Argo
// plugin's own code path (the one `augur query -f template.yaml --arg`
// uses), over the case's data.
type argoMeasurer struct{}

var _ testfile.ArgoMeasurer = argoMeasurer{}

func (argoMeasurer) MeasureTemplates(ctx context.Context, store *recorded.Store, at time.Time, files []testfile.ArgoTemplateFile,
	args map[string]string) ([]testfile.ArgoMeasurement, error) {
	reg := &metrics.Registry{}
	p := recorded.New(store, recorded.Options{})
	reg.Register(prometheus.Type, func(metrics.Config) (metrics.Provider, error) { return p, nil })
	vendors.RegisterOffline(reg, "a test case's data holds Prometheus series only: this provider needs its live API")
	// A judge window outside the case's data is an Error measurement, as
	// in the plugin with --data.
	first, last := p.DataBounds()
	bounds := &service.DataBounds{Name: "of the test case", First: first, Last: last, Interval: p.SampleInterval()}
	prov, err := argo.New(argo.Options{Registry: reg, Timeout: argo.DefaultTimeout, DefaultAt: func() time.Time { return at }, Data: bounds})
	if err != nil {
		return nil, err
	}
	tfs := make([]argo.TemplateFile, len(files))
	for i, f := range files {
		tfs[i] = argo.TemplateFile{Source: f.Path, Data: f.Data}
	}
	ms, err := prov.MeasureTemplateFiles(ctx, tfs, args, argo.ArgsTestCase)
	if err != nil {
		var ae *argo.ArgError
		var fe *argo.FileError
		switch {
		case errors.As(err, &ae):
			return nil, &testfile.ArgsError{Err: err}
		case errors.As(err, &fe):
			return nil, &testfile.TemplateFileError{Index: fe.Index, Err: fe.Err}
		}
		return nil, fmt.Errorf("measuring analysis templates: %w", err)
	}
	out := make([]testfile.ArgoMeasurement, len(ms))
	for i, m := range ms {
		out[i] = testfile.ArgoMeasurement{Template: m.Template, Metric: m.Metric, Phase: m.Phase, Value: m.Value, Message: m.Message, Query: m.Query}
	}
	return out, nil
}
