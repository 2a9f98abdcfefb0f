package engine

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/augurproj/augur/analysis"
	"github.com/augurproj/augur/metrics"
)

// onlineQuery is the query Flagger's Prometheus provider probes with.
const onlineQuery = "vector(1)"

// onliner is a provider with its own availability probe (Flagger's
// IsOnline for the vendor APIs: Datadog's key validation, Dynatrace's
// metric list, InfluxDB's probe query).
type onliner interface {
	IsOnline(ctx context.Context) error
}

// providersOnline answers analysis.Need.Providers as Flagger's
// checkMetricProviderAvailability does: in spec order, each builtin
// metric's metrics server and each templateRef metric's provider must
// answer its probe (Prometheus: vector(1) must be 1); the first failure is
// returned in Flagger's words. Inline queries are not probed. With given
// values (what-if) nothing is queried and every provider counts as online.
// The outcome is only an event: it never changes the decision.
func (e *Engine) providersOnline(ctx context.Context, req *TickRequest) *analysis.ProvidersCheck {
	if req.Values != nil {
		return &analysis.ProvidersCheck{}
	}
	plans, err := e.PlanFor(ctx, &req.Canary, PlanOptions{Templates: req.Templates, Judges: req.Judges})
	if err != nil {
		return &analysis.ProvidersCheck{Err: err.Error()}
	}
	for i := range plans {
		p := &plans[i]
		switch p.Kind {
		case analysis.KindSuccessRate, analysis.KindDuration:
			if p.Err != nil {
				continue
			}
			if err := e.probe(ctx, p, req.At); err != nil {
				return &analysis.ProvidersCheck{Err: providerSecrets(p).String("prometheus not avaiable: " + err.Error())}
			}
		case analysis.KindTemplate:
			if p.Err != nil {
				if p.Err.Kind == analysis.ErrKindTemplate {
					return &analysis.ProvidersCheck{Err: fmt.Sprintf("metric template %s error: %s", p.Template, p.Err.Message)}
				}
				continue
			}
			if err := e.probe(ctx, p, req.At); err != nil {
				return &analysis.ProvidersCheck{Err: providerSecrets(p).String(
					fmt.Sprintf("%s in metric template %s not avaiable: %v", p.Provider.Type, p.Template, err))}
			}
		}
	}
	return &analysis.ProvidersCheck{}
}

// probe runs one provider's availability probe under the query timeout.
func (e *Engine) probe(ctx context.Context, p *MetricPlan, at time.Time) error {
	prov, err := e.provider(p.Provider)
	if err != nil {
		return err
	}
	qctx, cancel := context.WithTimeout(ctx, e.opts.QueryTimeout)
	defer cancel()
	if o, ok := prov.(onliner); ok {
		return o.IsOnline(qctx)
	}
	v, err := prov.Query(qctx, onlineQuery, at)
	if err != nil {
		var ft metrics.FlaggerTexter
		if errors.As(err, &ft) {
			return fmt.Errorf("running query failed: %s", ft.FlaggerText())
		}
		return fmt.Errorf("running query failed: %w", err)
	}
	if v != 1 {
		return fmt.Errorf("value is not 1 for query: %s", onlineQuery)
	}
	return nil
}
