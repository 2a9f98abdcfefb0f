package prometheus

import (
	"context"
	"fmt"
	"time"

	"github.com/augurproj/augur/metrics"
)

// QuerySamples runs an instant query (GET /api/v1/query) whose result is a
// range vector — a series selector with a range, `x{job="a"}[1h]` — and
// returns the raw samples of every series as the server stores them, in the
// server's order: what `augur record` exports. A zero at sends no time
// parameter (the server's "now"). An empty matrix is an empty slice and no
// error; any other result type is an error.
func (p *Provider) QuerySamples(ctx context.Context, query string, at time.Time) ([]metrics.Series, error) {
	q := collapseSpace(query)
	qctx, cancel := context.WithTimeout(ctx, p.timeout)
	defer cancel()
	v, warnings, infos, err := p.api.Query(qctx, q, at)
	p.logAnnotations(ctx, q, warnings, infos)
	if err != nil {
		return nil, fmt.Errorf("prometheus query %q: %w", q, p.classify(ctx, err))
	}
	series, err := toSeries(v)
	if err != nil {
		return nil, fmt.Errorf("prometheus query %q: %w", q, err)
	}
	return series, nil
}
