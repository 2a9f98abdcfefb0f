package cli

import (
	"math"
	"strconv"

	"github.com/augurproj/augur/analysis"
)

// formatNumber prints a value the way Prometheus's API does.
func formatNumber(v float64) string {
	switch {
	case math.IsInf(v, 1):
		return "+Inf"
	case math.IsInf(v, -1):
		return "-Inf"
	}
	return strconv.FormatFloat(v, 'f', -1, 64)
}

// formatValue prints a metric value for people: success rates with two
// decimals and %, durations in ms, others with up to 4 significant decimals.
func formatValue(kind analysis.MetricKind, v float64) string {
	if math.IsInf(v, 0) || math.IsNaN(v) {
		return formatNumber(v)
	}
	switch kind {
	case analysis.KindSuccessRate:
		return strconv.FormatFloat(v, 'f', 2, 64) + "%"
	case analysis.KindDuration:
		return strconv.FormatFloat(math.Trunc(v), 'f', -1, 64) + "ms"
	}
	return strconv.FormatFloat(v, 'g', 6, 64)
}

func formatBound(kind analysis.MetricKind, v float64) string {
	switch kind {
	case analysis.KindSuccessRate:
		return formatNumber(v) + "%"
	case analysis.KindDuration:
		return formatNumber(v) + "ms"
	}
	return formatNumber(v)
}

func formatRange(r analysis.ThresholdRange, kind analysis.MetricKind) string {
	switch {
	case r.Min != nil && r.Max != nil:
		return formatBound(kind, *r.Min) + " ≤ value ≤ " + formatBound(kind, *r.Max)
	case r.Min != nil:
		return "value ≥ " + formatBound(kind, *r.Min)
	case r.Max != nil:
		return "value ≤ " + formatBound(kind, *r.Max)
	}
	return "any value"
}
