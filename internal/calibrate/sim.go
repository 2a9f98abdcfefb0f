package main

import (
	"math"
	"math/rand/v2"
	"sort"

	"github.com/augurproj/augur/analysis/judges"
)

// Model is a traffic model of the calibration.
type Model struct {
	Name string
	// Description for the table.
	Description string
	// RPS is the total request rate over both sides; the canary gets
	// CanaryWeight of it.
	RPS          float64
	CanaryWeight float64
	// Pods per side.
	CanaryPods, PrimaryPods int
	// Scrape is the scrape interval in seconds; Jitter the scrape-time jitter
	// (± seconds); Missed the probability a scrape is missed.
	Scrape, Jitter, Missed float64
	// LatencyBurst is the standard deviation of the log latency factor per
	// 15 s interval shared by both sides; PodBurst the same per pod (not
	// shared); ErrorBurst the standard deviation of the log error-rate
	// factor per 15 s interval, shared.
	LatencyBurst, PodBurst, ErrorBurst float64
	// Diurnal ramps the request rate linearly from 1 − Diurnal to 1 + Diurnal.
	Diurnal float64
	// Restarts is each pod's probability of restarting (its counters reset)
	// during the rollout.
	Restarts float64
	// Minutes is the rollout's length (0: 30 minutes); WindowSteps the fixed
	// window in steps (0: the run's Settings.Window); LookSeconds the time
	// between looks (0: the run's Settings.Look).
	Minutes, WindowSteps, LookSeconds int
}

// look is the time between looks in seconds.
func (m Model) look(s Settings) int {
	if m.LookSeconds > 0 {
		return m.LookSeconds
	}
	return s.Look
}

// seconds is the rollout's length in seconds.
func (m Model) seconds() int {
	if m.Minutes > 0 {
		return m.Minutes * 60
	}
	return defaultRolloutSeconds
}

// window is the fixed window in steps.
func (m Model) window(s Settings) int {
	if m.WindowSteps > 0 {
		return m.WindowSteps
	}
	return s.Window
}

// Scenario is what the canary does differently.
type Scenario struct {
	Name string
	// LatencyFactor multiplies every canary latency.
	LatencyFactor float64
	// ErrorFactor multiplies the canary's error rate.
	ErrorFactor float64
	// TailFactor multiplies the canary latencies above the baseline's p99.
	TailFactor float64
}

// Constants of every model.
const (
	defaultRolloutSeconds = 30 * 60
	slotSeconds           = 5 // requests are generated per 5 s slot
	baseErrorRate         = 0.005
	medianMillis          = 80.0
	sigmaLog              = 0.6
)

// bounds are Istio's default request-duration buckets (milliseconds).
var bounds = []float64{0.5, 1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000, 60000, 300000, 600000, 1800000, 3600000, math.Inf(1)}

// sideData is one side's per-step exact counts over the rollout.
type sideData struct {
	requests, errors []float64   // per step
	buckets          [][]float64 // per step, cumulative per bound
	sum              []float64   // per step, latency sum
}

// rollout is both sides' per-step data.
type rollout struct {
	canary, primary sideData
}

// simulate generates one rollout: per pod, cumulative counters scraped with
// jitter, missed scrapes and restarts, then read back per step with
// judges.CounterSteps — exactly as the engine reads a live Prometheus.
func simulate(m Model, sc Scenario, step int, rng *rand.Rand) rollout {
	rolloutSeconds := m.seconds()
	nSlots := rolloutSeconds / slotSeconds
	intervals := rolloutSeconds/15 + 1
	latShared := make([]float64, intervals)
	errShared := make([]float64, intervals)
	for i := range latShared {
		latShared[i] = math.Exp(m.LatencyBurst * rng.NormFloat64())
		errShared[i] = math.Exp(m.ErrorBurst*rng.NormFloat64() - m.ErrorBurst*m.ErrorBurst/2)
	}
	q99 := medianMillis * math.Exp(sigmaLog*2.3263478740408408)
	side := func(pods int, weight float64, canary bool) sideData {
		var out sideData
		steps := rolloutSeconds / step
		out.requests = make([]float64, steps)
		out.errors = make([]float64, steps)
		out.sum = make([]float64, steps)
		out.buckets = make([][]float64, steps)
		for i := range out.buckets {
			out.buckets[i] = make([]float64, len(bounds))
		}
		for p := 0; p < pods; p++ {
			restartAt := -1.0
			if rng.Float64() < m.Restarts {
				restartAt = rng.Float64() * float64(rolloutSeconds)
			}
			podFactor := make([]float64, intervals)
			for i := range podFactor {
				podFactor[i] = math.Exp(m.PodBurst * rng.NormFloat64())
			}
			// Counters per slot end.
			req := make([]float64, nSlots+1)
			errs := make([]float64, nSlots+1)
			sum := make([]float64, nSlots+1)
			bk := make([][]float64, nSlots+1)
			bk[0] = make([]float64, len(bounds))
			// Counters start before the rollout with some history (except
			// restarts reset them to zero).
			start := float64(rng.IntN(1000))
			req[0], errs[0], sum[0] = start, math.Floor(start*baseErrorRate), start*medianMillis
			for k := range bk[0] {
				bk[0][k] = math.Floor(start * lognormCDF(bounds[k], medianMillis, sigmaLog))
			}
			resetDone := false
			for s := 1; s <= nSlots; s++ {
				t := float64(s * slotSeconds)
				iv := int(t-1) / 15
				rate := m.RPS * weight / float64(pods) * (1 + m.Diurnal*(2*t/float64(rolloutSeconds)-1))
				lam := rate * slotSeconds
				med := medianMillis * latShared[iv] * podFactor[iv]
				perr := math.Min(1, baseErrorRate*errShared[iv])
				if canary {
					med *= sc.LatencyFactor
					perr = math.Min(1, perr*sc.ErrorFactor)
				}
				probs := bucketProbs(med, q99*latShared[iv]*podFactor[iv], canary, sc.TailFactor)
				prevReq, prevErr, prevSum, prevBk := req[s-1], errs[s-1], sum[s-1], bk[s-1]
				if restartAt >= 0 && !resetDone && t > restartAt {
					prevReq, prevErr, prevSum, prevBk = 0, 0, 0, make([]float64, len(bounds))
					resetDone = true
				}
				row := make([]float64, len(bounds))
				var n, lat float64
				var cum float64
				for k := range bounds {
					c := float64(poisson(rng, lam*probs[k]))
					cum += c
					row[k] = prevBk[k] + cum
					n += c
					lat += c * bucketValue(k, med)
				}
				e := float64(poisson(rng, lam*perr)) // errors are counted apart from latency
				e = math.Min(e, n)
				req[s], errs[s], sum[s], bk[s] = prevReq+n, prevErr+e, prevSum+lat, row
			}
			// Scrapes: jittered, some missed, never at the restart's slot.
			var times []int64
			var idx []int
			for t := m.Scrape; t <= float64(rolloutSeconds)+m.Scrape; t += m.Scrape {
				at := t + (rng.Float64()*2-1)*m.Jitter
				if rng.Float64() < m.Missed || at > float64(rolloutSeconds) {
					continue
				}
				times = append(times, int64(at*1000))
				idx = append(idx, int(at)/slotSeconds)
			}
			// Series: requests, errors, sum, buckets.
			read := func(vals func(slot int) float64) []float64 {
				samples := []judges.CounterSample{{T: 0, V: vals(0)}}
				for i, t := range times {
					samples = append(samples, judges.CounterSample{T: t, V: vals(idx[i])})
				}
				got, err := judges.CounterSteps(samples, 0, int64(step)*1000, rolloutSeconds/step)
				if err != nil {
					panic(err)
				}
				return got
			}
			add := func(dst, src []float64) {
				for i := range src {
					dst[i] += src[i]
				}
			}
			add(out.requests, read(func(s int) float64 { return req[s] }))
			add(out.errors, read(func(s int) float64 { return errs[s] }))
			add(out.sum, read(func(s int) float64 { return sum[s] }))
			for k := range bounds {
				got := read(func(s int) float64 { return bk[s][k] })
				for i := range got {
					out.buckets[i][k] += got[i]
				}
			}
		}
		return out
	}
	return rollout{
		canary:  side(m.CanaryPods, m.CanaryWeight, true),
		primary: side(m.PrimaryPods, 1-m.CanaryWeight, false),
	}
}

// bucketProbs are the probabilities of each bucket for a lognormal latency
// with median med; for the canary with a tail regression, latencies above
// q99 are multiplied by tail.
func bucketProbs(med, q99 float64, canary bool, tail float64) []float64 {
	out := make([]float64, len(bounds))
	prev := 0.0
	for k, b := range bounds {
		c := 1.0
		if !math.IsInf(b, 1) {
			c = lognormCDF(b, med, sigmaLog)
			if canary && tail > 1 {
				// P(X' ≤ b) = P(X ≤ min(b, q99)) + P(q99 < X ≤ b/tail).
				c = lognormCDF(math.Min(b, q99), med, sigmaLog)
				if b/tail > q99 {
					c += lognormCDF(b/tail, med, sigmaLog) - lognormCDF(q99, med, sigmaLog)
				}
			}
		}
		out[k] = math.Max(0, c-prev)
		prev = c
	}
	return out
}

func lognormCDF(x, med, sigma float64) float64 {
	if x <= 0 {
		return 0
	}
	return 0.5 * math.Erfc(-math.Log(x/med)/(sigma*math.Sqrt2))
}

// bucketValue is a representative latency of bucket k (for the _sum).
func bucketValue(k int, med float64) float64 {
	switch {
	case math.IsInf(bounds[k], 1):
		return bounds[k-1]
	case k == 0:
		return bounds[0] / 2
	}
	return (bounds[k-1] + bounds[k]) / 2
}

// poisson draws a Poisson variate: multiplication for small means, the
// PTRS transformed rejection of Hörmann (1993) for large ones.
func poisson(rng *rand.Rand, lam float64) int {
	if lam <= 0 {
		return 0
	}
	if lam < 10 {
		l, k, p := math.Exp(-lam), 0, 1.0
		for {
			p *= rng.Float64()
			if p <= l {
				return k
			}
			k++
		}
	}
	slam := math.Sqrt(lam)
	loglam := math.Log(lam)
	b := 0.931 + 2.53*slam
	a := -0.059 + 0.02483*b
	invalpha := 1.1239 + 1.1328/(b-3.4)
	vr := 0.9277 - 3.6224/(b-2)
	for {
		u := rng.Float64() - 0.5
		v := rng.Float64()
		us := 0.5 - math.Abs(u)
		k := math.Floor((2*a/us+b)*u + lam + 0.43)
		if us >= 0.07 && v <= vr {
			return int(k)
		}
		if k < 0 || (us < 0.013 && v > us) {
			continue
		}
		lg, _ := math.Lgamma(k + 1)
		if math.Log(v)+math.Log(invalpha)-math.Log(a/(us*us)+b) <= -lam+k*loglam-lg {
			return int(k)
		}
	}
}

// sortedCopy returns a sorted copy.
func sortedCopy(x []float64) []float64 {
	out := append([]float64(nil), x...)
	sort.Float64s(out)
	return out
}
