package testfile

import (
	"fmt"
	"time"

	"github.com/prometheus/prometheus/promql/parser"
)

// ShortestRange returns the shortest range window a PromQL query reads
// (`[30s]` in a range selector or a subquery), or 0 when it reads none. A
// recording resampled at a step that leaves fewer than two samples in such a
// window empties the query (rate and friends need two samples).
func ShortestRange(query string) (time.Duration, error) {
	expr, err := parser.NewParser(parser.Options{}).ParseExpr(query)
	if err != nil {
		return 0, fmt.Errorf("parsing query %q: %w", query, err)
	}
	var shortest time.Duration
	keep := func(d time.Duration) {
		if d > 0 && (shortest == 0 || d < shortest) {
			shortest = d
		}
	}
	parser.Inspect(expr, func(node parser.Node, _ []parser.Node) error {
		switch n := node.(type) {
		case *parser.MatrixSelector:
			keep(n.Range)
		case *parser.SubqueryExpr:
			keep(n.Range)
		}
		return nil
	})
	return shortest, nil
}
