package judges

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// floatsFrom turns fuzz bytes into samples: two bytes per value on a
// coarse grid (so ties are common), with a few codes for NaN and ±Inf.
func floatsFrom(b []byte) []float64 {
	var out []float64
	for i := 0; i+1 < len(b); i += 2 {
		v := int16(binary.LittleEndian.Uint16(b[i:]))
		switch v {
		case math.MinInt16:
			out = append(out, math.NaN())
		case math.MaxInt16:
			out = append(out, math.Inf(1))
		case math.MinInt16 + 1:
			out = append(out, math.Inf(-1))
		default:
			out = append(out, float64(v)/8)
		}
	}
	return out
}

// checkResult asserts the invariants every Result must satisfy.
func checkResult(t *testing.T, cfg Config, r Result) {
	t.Helper()
	switch r.Verdict {
	case Pass, Fail, Inconclusive:
	default:
		t.Fatalf("verdict %q is not one of the three", r.Verdict)
	}
	if r.Verdict != r.Classification.Verdict() {
		t.Fatalf("verdict %v does not match classification %v", r.Verdict, r.Classification)
	}
	if (r.Classification == ClassError) != (r.Error != "") {
		t.Fatalf("classification %v with error %q", r.Classification, r.Error)
	}
	if r.Veto && !r.Critical {
		t.Fatalf("veto on a non-critical metric")
	}
	if r.Critical && r.Verdict != Pass && r.Classification != ClassUndecided && !r.Veto {
		// Only a critical High/Low below the critical effect threshold may fail without a veto.
		if r.Classification != ClassHigh && r.Classification != ClassLow {
			t.Fatalf("critical %v without a veto", r.Classification)
		}
	}
	e := r.Explanation
	if p := e.PValue; p != nil && !(*p >= 0 && *p <= 1) {
		t.Fatalf("p-value %v outside [0, 1]", *p)
	}
	if v := e.EValue; v != nil && !(*v >= 0) {
		t.Fatalf("e-value %v negative", *v)
	}
	if e.Rule == "" {
		t.Fatal("empty rule")
	}
	if r.Verdict == Pass && (e.Canary.Count == 0 || e.Baseline.Count == 0) {
		t.Fatalf("pass without data on both sides: %s", e.Rule)
	}
	if s := e.Shift; s != nil && s.Lower != nil && s.Upper != nil && *s.Lower > *s.Upper {
		t.Fatalf("interval [%v, %v] reversed", *s.Lower, *s.Upper)
	}
	if _, err := json.Marshal(r); err != nil {
		t.Fatalf("result does not encode: %v", err)
	}
	_ = cfg
}

func fuzzConfig(judge Kind, flags uint8) Config {
	c := Config{Judge: judge, Critical: flags&1 != 0, MustHaveData: flags&2 != 0}
	switch judge {
	case KindMannWhitney:
		if flags&4 != 0 {
			c.NaNStrategy = NaNReplace
		}
		if flags&8 != 0 {
			c.EffectSize = EffectCLES
		}
		if flags&16 != 0 {
			c.MinPoints = 1
		}
		if flags&32 != 0 {
			c.OutlierFactor = ptr(0.0)
		}
	case KindSequential:
		if flags&4 != 0 {
			c.NaNStrategy = NaNReplace
		}
		if flags&16 != 0 {
			c.MinPoints = 2
		}
		c.Margin = float64(flags>>5) / 4
	default:
		if flags&16 != 0 {
			c.MinRequests = 1
		}
	}
	switch flags >> 6 {
	case 1:
		c.Direction = DirectionIncrease
	case 2:
		c.Direction = DirectionDecrease
	case 3:
		c.Direction = DirectionEither
	}
	return c
}

func FuzzJudgeSamples(f *testing.F) {
	f.Add([]byte{1, 0, 2, 0, 3, 0, 4, 0, 5, 0}, []byte{1, 0, 2, 0, 3, 0, 4, 0, 5, 0}, uint8(0), false)
	f.Add([]byte{10, 1, 20, 1, 30, 1, 40, 1, 50, 1, 60, 1}, []byte{1, 0, 2, 0, 3, 0, 4, 0, 5, 0, 6, 0}, uint8(1), false)
	f.Add([]byte{0, 0x80, 0, 0x80}, []byte{}, uint8(4|2|1), false)
	f.Add([]byte{0xff, 0x7f, 1, 0, 1, 0}, []byte{1, 0, 1, 0, 1, 0}, uint8(16|8), true)
	f.Add(make([]byte, 200), make([]byte, 180), uint8(0xff), true)
	f.Fuzz(func(t *testing.T, a, b []byte, flags uint8, sequential bool) {
		judge := KindMannWhitney
		if sequential {
			judge = KindSequential
		}
		cfg := fuzzConfig(judge, flags)
		r := Judge(cfg, samples(floatsFrom(a), floatsFrom(b)))
		checkResult(t, cfg, r)
	})
}

func FuzzJudgeCounts(f *testing.F) {
	f.Add(1000.0, 30.0, 1000.0, 15.0, uint8(0), false)
	f.Add(0.0, 0.0, 5.0, 5.0, uint8(3), true)
	f.Add(1e12, 1e11, 3.0, 0.5, uint8(16), true)
	f.Add(10.0, 11.0, 10.0, 0.0, uint8(1), false)
	f.Add(math.NaN(), 1.0, math.Inf(1), 0.0, uint8(0), false)
	f.Fuzz(func(t *testing.T, cr, ce, br, be float64, flags uint8, sequential bool) {
		judge := KindErrorRate
		if sequential {
			judge = KindSequential
		}
		cfg := fuzzConfig(judge, flags)
		r := Judge(cfg, counts(cr, ce, br, be))
		checkResult(t, cfg, r)
		if valid := finite(cr) && finite(ce) && finite(br) && finite(be) && cr >= 0 && br >= 0 && ce >= 0 && be >= 0 && ce <= cr && be <= br; !valid && r.Classification != ClassError {
			t.Fatalf("invalid counts %v/%v %v/%v classified %v", ce, cr, be, br, r.Classification)
		}
	})
}

func FuzzJudgeHistogram(f *testing.F) {
	f.Add([]byte{10, 0, 20, 0, 30, 0}, []byte{5, 0, 25, 0, 30, 0}, uint8(0), uint8(3))
	f.Add([]byte{0, 0, 0, 0}, []byte{1, 0, 1, 0}, uint8(3), uint8(2))
	f.Add([]byte{9, 0, 3, 0, 7, 0, 1, 0}, []byte{9, 0, 3, 0, 7, 0, 1, 0}, uint8(16), uint8(4))
	f.Fuzz(func(t *testing.T, a, b []byte, flags uint8, nb uint8) {
		bounds := []float64{0.01, 0.1, 1, 10, 100, 1000}
		k := int(nb%uint8(len(bounds))) + 1
		mk := func(raw []byte, cut int) *Histogram {
			vals := floatsFrom(raw)
			h := &Histogram{}
			for i := 0; i < len(vals) && i < cut; i++ {
				le := math.Inf(1)
				if i < cut-1 {
					le = bounds[i]
				}
				h.Buckets = append(h.Buckets, Bucket{UpperBound: le, Count: math.Abs(vals[i])})
			}
			return h
		}
		cfg := fuzzConfig(KindHistogram, flags)
		r := Judge(cfg, histInput(mk(a, k), mk(b, k)))
		checkResult(t, cfg, r)
	})
}

// FuzzJudgeHistogramSteps: histograms with per-step buckets (the rank and
// tail tests stratified by step, too few steps): every result satisfies the
// invariants, every component's p-value lies in [0, 1] and a failure names
// the component that fired.
func FuzzJudgeHistogramSteps(f *testing.F) {
	f.Add([]byte{10, 0, 20, 0, 30, 0, 40, 0}, []byte{5, 0, 25, 0, 30, 0, 40, 0}, uint8(0), uint8(4))
	f.Add([]byte{200, 0, 90, 0, 3, 0, 2, 0, 100, 0, 90, 0}, []byte{1, 0, 200, 0, 100, 0, 9, 0}, uint8(64), uint8(9))
	f.Fuzz(func(t *testing.T, a, b []byte, flags uint8, ns uint8) {
		bounds := []float64{10, 100, 1000, math.Inf(1)}
		steps := int(ns%12) + 1
		mk := func(raw []byte) *Histogram {
			vals := floatsFrom(raw)
			h := &Histogram{}
			for _, le := range bounds {
				h.Buckets = append(h.Buckets, Bucket{UpperBound: le})
			}
			for i := 0; i < steps; i++ {
				row := make([]float64, len(bounds))
				var cum float64
				for k := range bounds {
					if j := i*len(bounds) + k; len(vals) > 0 {
						cum += math.Abs(vals[j%len(vals)]) * float64(1+int(flags>>4)%8)
					}
					row[k] = cum
					h.Buckets[k].Count += cum
				}
				h.Steps = append(h.Steps, row)
			}
			return h
		}
		cfg := fuzzConfig(KindHistogram, flags)
		r := Judge(cfg, histInput(mk(a), mk(b)))
		checkResult(t, cfg, r)
		fired := 0
		for _, c := range r.Explanation.Components {
			if !(c.PValue >= 0 && c.PValue <= 1) || !(c.Weight > 0 && c.Weight <= 1) {
				t.Fatalf("component %+v", c)
			}
			if c.Fired {
				fired++
			}
		}
		if r.Explanation.Components != nil && r.Verdict == Fail && r.Classification != ClassNodataFailMetric && fired != 1 {
			t.Fatalf("failed with %d fired components: %s", fired, r.Explanation.Rule)
		}
	})
}

func FuzzRankSum(f *testing.F) {
	f.Add([]byte{1, 0, 2, 0, 3, 0}, []byte{4, 0, 5, 0}, uint8(0), uint8(0))
	f.Add([]byte{1, 0, 1, 0, 1, 0}, []byte{1, 0, 1, 0}, uint8(1), uint8(1))
	f.Add([]byte{0xff, 0x7f}, []byte{1, 0}, uint8(2), uint8(2))
	f.Fuzz(func(t *testing.T, a, b []byte, alt, method uint8) {
		x, y := floatsFrom(a), floatsFrom(b)
		opts := RankSumOptions{
			Alternative: []Alternative{TwoSided, Greater, Less}[alt%3],
			Method:      []Method{MethodAuto, MethodExact, MethodNormal}[method%3],
			ConfLevel:   []float64{0.95, 0.98, 0.5}[(alt/3)%3],
		}
		if len(x) > 1000 || len(y) > 1000 {
			return // keep each fuzz input fast
		}
		res, err := RankSum(x, y, opts)
		if err != nil {
			if !errors.Is(err, ErrNoData) && !errors.Is(err, ErrInvalidInput) {
				t.Fatalf("unexpected error %v", err)
			}
			return
		}
		mn := float64(len(x) * len(y))
		if !(res.PValue >= 0 && res.PValue <= 1) || res.W < 0 || res.W > mn || !(res.ConfLevel >= 0 && res.ConfLevel <= 1) {
			t.Fatalf("out of range: %+v", res)
		}
		if res.Lower != nil && *res.Lower > res.Estimate || res.Upper != nil && *res.Upper < res.Estimate {
			t.Fatalf("estimate %v outside [%v, %v]", res.Estimate, deref(res.Lower), deref(res.Upper))
		}
		if _, err := json.Marshal(res); err != nil {
			t.Fatal(err)
		}
	})
}

func FuzzParseConfig(f *testing.F) {
	f.Add("judge", "mann-whitney", "direction", "increase", "allowedIncrease", "1.1")
	f.Add("judge", "sequential", "margin", "0.005", "tau", "0.2")
	f.Add("judge", "error-rate", "alpha", "0.01", "outlierFactor", "3")
	f.Add("critical", "true", "weight", "150", "bogus", "x")
	f.Add("effectSize", "cles", "allowedDecrease", "0.2", "minPoints", "-4")
	f.Fuzz(func(t *testing.T, k1, v1, k2, v2, k3, v3 string) {
		kv := map[string]string{k1: v1, k2: v2, k3: v3}
		cfg, err := ParseConfig(kv)
		if err != nil {
			if !errors.Is(err, ErrUnknownKey) && !errors.Is(err, ErrInvalidValue) && !errors.Is(err, ErrNotApplicable) {
				t.Fatalf("error %v wraps no sentinel", err)
			}
			if !strings.Contains(err.Error(), `key "`) {
				t.Fatalf("error %q names no key", err)
			}
			return
		}
		if err := cfg.Validate(); err != nil {
			t.Fatalf("parsed config does not validate: %v", err)
		}
		back, err := ParseConfig(cfg.Map())
		if err != nil {
			t.Fatalf("Map round trip: %v", err)
		}
		if diff := cmp.Diff(cfg, back); diff != "" {
			t.Fatalf("Map round trip (-want +got):\n%s", diff)
		}
		if err := cfg.WithDefaults().Validate(); err != nil {
			t.Fatalf("defaults do not validate: %v", err)
		}
	})
}

func FuzzInputJSON(f *testing.F) {
	f.Add([]byte(`{"canary":{"samples":[1,"NaN","+Inf",2.5]},"baseline":{"samples":["3",4]}}`))
	f.Add([]byte(`{"canary":{"histogram":{"buckets":[{"le":"+Inf","count":3}]}}}`))
	f.Add([]byte(`{"canary":{"counts":{"requests":10,"errors":1}}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var in Input
		if err := json.Unmarshal(data, &in); err != nil {
			return
		}
		out, err := json.Marshal(in)
		if err != nil {
			// Only non-finite bucket counts or counts cannot be written back.
			return
		}
		var back Input
		if err := json.Unmarshal(out, &back); err != nil {
			t.Fatalf("re-decoding %s: %v", out, err)
		}
		again, err := json.Marshal(back)
		if err != nil || string(again) != string(out) {
			t.Fatalf("not stable: %s vs %s (%v)", out, again, err)
		}
		checkResult(t, Config{}, Judge(Config{}, in))
	})
}
