package judges

import "math"

// pnorm is the standard normal distribution function Φ(z).
func pnorm(z float64) float64 {
	return 0.5 * math.Erfc(-z/math.Sqrt2)
}

// pnormUpper is 1 − Φ(z), computed without cancellation in the upper tail.
func pnormUpper(z float64) float64 {
	return 0.5 * math.Erfc(z/math.Sqrt2)
}

// qnorm is the standard normal quantile function Φ⁻¹(p) for p in (0, 1).
func qnorm(p float64) float64 {
	return -math.Sqrt2 * math.Erfcinv(2*p)
}

// logPnorm is log Φ(z); it stays finite far into the lower tail, where Φ
// underflows, by using the asymptotic expansion of the Mills ratio.
func logPnorm(z float64) float64 {
	if z > -30 {
		return math.Log(pnorm(z))
	}
	// Φ(z) ≈ φ(z)/|z| · (1 − 1/z² + 3/z⁴) for z → −∞.
	z2 := z * z
	return -z2/2 - math.Log(-z) - 0.5*math.Log(2*math.Pi) + math.Log1p(-1/z2+3/(z2*z2))
}

// clamp01 limits a probability to [0, 1]; NaN becomes 1 (no evidence).
func clamp01(p float64) float64 {
	switch {
	case math.IsNaN(p):
		return 1
	case p < 0:
		return 0
	case p > 1:
		return 1
	}
	return p
}

// finite reports whether v is neither NaN nor ±Inf.
func finite(v float64) bool {
	return !math.IsNaN(v) && !math.IsInf(v, 0)
}

// num returns a pointer to v, or nil when v is NaN or ±Inf, so that
// explanations always encode to JSON.
func num(v float64) *float64 {
	if !finite(v) {
		return nil
	}
	return &v
}

// ptr returns a pointer to v.
func ptr[T any](v T) *T { return &v }
