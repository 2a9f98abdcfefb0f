package judges

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"testing"
)

// rClusters holds testdata/r-clusters.json, written by testdata/r-clusters.R.
type rClusters struct {
	PT []struct {
		T, DF, Upper float64
	} `json:"pt"`
	MantelHaenszel []struct {
		N1, X1, N0, X0 []float64
		Statistic      float64
	} `json:"mantelHaenszel"`
	MannWhitneySteps []struct {
		Canary, Baseline []float64
		U, Z             float64
	} `json:"mannWhitneySteps"`
}

func loadRClusters(t *testing.T) rClusters {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", "r-clusters.json"))
	if err != nil {
		t.Fatal(err)
	}
	var r rClusters
	if err := json.Unmarshal(raw, &r); err != nil {
		t.Fatal(err)
	}
	return r
}

func relClose(got, want, tol float64) bool {
	return math.Abs(got-want) <= tol*math.Max(1e-300, math.Abs(want)) || math.Abs(got-want) < 1e-300
}

func TestPtUpperMatchesR(t *testing.T) {
	r := loadRClusters(t)
	for _, c := range r.PT {
		if got := ptUpper(c.T, c.DF); !relClose(got, c.Upper, 1e-10) {
			t.Errorf("ptUpper(%v, %v) = %.15g, R %.15g", c.T, c.DF, got, c.Upper)
		}
	}
}

func TestMantelHaenszelMatchesR(t *testing.T) {
	r := loadRClusters(t)
	for i, c := range r.MantelHaenszel {
		var cs, bs []Counts
		for k := range c.N1 {
			cs = append(cs, Counts{Requests: c.N1[k], Errors: c.X1[k]})
			bs = append(bs, Counts{Requests: c.N0[k], Errors: c.X0[k]})
		}
		var S, V float64
		for _, s := range proportionStrata(cs, bs) {
			S += s.s
			V += s.v
		}
		if got := S * S / V; !relClose(got, c.Statistic, 1e-10) {
			t.Errorf("case %d: (ΣS)²/ΣV = %.15g, R mantelhaen.test %.15g", i, got, c.Statistic)
		}
	}
}

func TestStepMannWhitneyMatchesR(t *testing.T) {
	r := loadRClusters(t)
	var cs, bs [][]float64
	for i, c := range r.MannWhitneySteps {
		st := bucketStrata([][]float64{c.Canary}, [][]float64{c.Baseline})[0]
		n1, n0 := c.Canary[len(c.Canary)-1], c.Baseline[len(c.Baseline)-1]
		if got := st.s + n1*n0/2; !relClose(got, c.U, 1e-12) {
			t.Errorf("step %d: U = %v, R W %v", i, got, c.U)
		}
		if got := st.s / math.Sqrt(st.v); !relClose(got, c.Z, 1e-8) {
			t.Errorf("step %d: z = %.12g, R %.12g", i, got, c.Z)
		}
		cs, bs = append(cs, c.Canary), append(bs, c.Baseline)
	}
	// The combined test: dispersion and z from the same per-step numbers.
	z, p, d, ok := clusterTest(bucketStrata(cs, bs), Greater, "")
	if !ok || d.Steps != 5 || d.Estimate == nil || d.DF != 4 {
		t.Fatalf("clusterTest: ok %v, %+v", ok, d)
	}
	var S, V float64
	for _, c := range r.MannWhitneySteps {
		n1, n0 := c.Canary[len(c.Canary)-1], c.Baseline[len(c.Baseline)-1]
		s := c.U - n1*n0/2
		S += s
		V += (s / c.Z) * (s / c.Z)
	}
	beta := S / V
	var x2 float64
	for _, c := range r.MannWhitneySteps {
		n1, n0 := c.Canary[len(c.Canary)-1], c.Baseline[len(c.Baseline)-1]
		s := c.U - n1*n0/2
		v := (s / c.Z) * (s / c.Z)
		x2 += (s - beta*v) * (s - beta*v) / v
	}
	phi := x2 / 4
	if !relClose(*d.Estimate, phi, 1e-7) || !relClose(z, S/math.Sqrt(math.Max(1, phi)*V), 1e-7) {
		t.Errorf("dispersion %v z %v; from R's per-step statistics %v, %v", *d.Estimate, z, phi, S/math.Sqrt(math.Max(1, phi)*V))
	}
	if !relClose(p, ptUpper(z, 4), 1e-12) {
		t.Errorf("p %v, want the t(4) tail %v", p, ptUpper(z, 4))
	}
}

func TestClusterTestEdges(t *testing.T) {
	if _, p, d, ok := clusterTest(nil, Greater, ""); ok || p != 1 || d.Applied != 1 {
		t.Errorf("no strata: ok %v p %v %+v", ok, p, d)
	}
	// One informative step: no dispersion estimate, the normal reference.
	z, p, d, ok := clusterTest([]stratum{{s: 2, v: 1}, {}}, Greater, "")
	if !ok || d.Estimate != nil || d.DF != 0 || z != 2 || !relClose(p, pnormUpper(2), 1e-15) || !d.TooFew {
		t.Errorf("one step: z %v p %v %+v", z, p, d)
	}
	// Steps that agree less than chance: φ̂ < 1 is floored at 1.
	_, _, d, _ = clusterTest([]stratum{{s: 1, v: 1}, {s: 1, v: 1}, {s: 1, v: 1}, {s: 1, v: 1}, {s: 1, v: 1}}, Greater, "")
	if d.Estimate == nil || *d.Estimate != 0 || d.Applied != 1 || d.TooFew {
		t.Errorf("identical steps: %+v", d)
	}
	// Two-sided and Less mirror Greater.
	_, pg, _, _ := clusterTest([]stratum{{s: 3, v: 1}, {s: -1, v: 1}, {s: 2, v: 1}}, Greater, "")
	_, pl, _, _ := clusterTest([]stratum{{s: -3, v: 1}, {s: 1, v: 1}, {s: -2, v: 1}}, Less, "")
	_, p2, _, _ := clusterTest([]stratum{{s: 3, v: 1}, {s: -1, v: 1}, {s: 2, v: 1}}, TwoSided, "")
	if !relClose(pg, pl, 1e-15) || !relClose(p2, 2*pg, 1e-15) {
		t.Errorf("greater %v less %v two-sided %v", pg, pl, p2)
	}
}

// TestErrorRateReportsDispersion: a shared error burst in one step is
// absorbed by the stratification, and the explanation carries the numbers.
func TestErrorRateReportsDispersion(t *testing.T) {
	steps := func(errs ...float64) Counts {
		var c Counts
		for _, e := range errs {
			c.Steps = append(c.Steps, Counts{Requests: 1000, Errors: e})
			c.Requests += 1000
			c.Errors += e
		}
		return c
	}
	in := Input{Metric: "m",
		Canary:   Data{Counts: ptr(steps(2, 1, 60, 3, 2, 1))},
		Baseline: Data{Counts: ptr(steps(1, 2, 40, 2, 1, 2))}}
	c, err := ParseConfig(map[string]string{"judge": "error-rate"})
	if err != nil {
		t.Fatal(err)
	}
	r := Judge(c, in)
	d := r.Explanation.Dispersion
	if d == nil || d.Steps != 6 || d.Estimate == nil || d.DF != 5 {
		t.Fatalf("dispersion %+v", d)
	}
	if r.Verdict != Pass {
		t.Errorf("verdict %s: %s", r.Verdict, r.Explanation.Rule)
	}
	b, err := json.Marshal(r.Explanation)
	if err != nil {
		t.Fatal(err)
	}
	var back struct {
		Dispersion struct {
			Steps    int      `json:"steps"`
			Estimate *float64 `json:"estimate"`
			Applied  float64  `json:"applied"`
		} `json:"dispersion"`
	}
	if err := json.Unmarshal(b, &back); err != nil || back.Dispersion.Steps != 6 || back.Dispersion.Estimate == nil || back.Dispersion.Applied < 1 {
		t.Errorf("JSON %s: %+v %v", b, back, err)
	}
}

// TestClusterTestMinSteps: below MinClusterSteps informative steps no
// dispersion is estimated however wild the steps are (the test runs under
// independence and is marked TooFew); from MinClusterSteps on it is.
func TestClusterTestMinSteps(t *testing.T) {
	wild := []stratum{{s: 40, v: 1}, {s: -38, v: 1}, {s: 41, v: 1}, {s: -39, v: 1}, {s: 0, v: 0}}
	for k := 1; k < MinClusterSteps; k++ {
		z, p, d, ok := clusterTest(wild[:k], Greater, "")
		if !ok || !d.TooFew || d.Estimate != nil || d.Applied != 1 || d.DF != 0 || d.MinSteps != MinClusterSteps {
			t.Fatalf("%d steps: %+v", k, d)
		}
		var S, V float64
		for _, x := range wild[:k] {
			S, V = S+x.s, V+x.v
		}
		if z != S/math.Sqrt(V) || !relClose(p, pnormUpper(z), 1e-15) {
			t.Errorf("%d steps: z %v p %v, want the independence test", k, z, p)
		}
	}
	// The empty fifth stratum is not informative: still too few.
	if _, _, d, _ := clusterTest(wild, Greater, ""); !d.TooFew || d.Steps != 4 {
		t.Errorf("4 informative of 5: %+v", d)
	}
	five := append(wild[:4:4], stratum{s: 40, v: 1})
	_, _, d, _ := clusterTest(five, Greater, "")
	if d.TooFew || d.Estimate == nil || *d.Estimate < 100 || d.DF != 4 || d.Applied != *d.Estimate {
		t.Errorf("5 steps: %+v", d)
	}
}

// TestTooFewStepsNeverFail: a canary that errs in only a few steps of the
// window is significant under independence, but with fewer than
// MinClusterSteps informative steps the error-rate and sequential judges say
// too little data (inconclusive), not fail; with the same errors spread over
// enough steps they fail.
func TestTooFewStepsNeverFail(t *testing.T) {
	steps := func(n int, errs ...float64) *Counts {
		c := &Counts{}
		for i := 0; i < n; i++ {
			e := 0.0
			if i < len(errs) {
				e = errs[i]
			}
			c.Steps = append(c.Steps, Counts{Requests: 500, Errors: e})
			c.Requests += 500
			c.Errors += e
		}
		return c
	}
	for _, judge := range []string{"error-rate", "sequential"} {
		c, err := ParseConfig(map[string]string{"judge": judge})
		if err != nil {
			t.Fatal(err)
		}
		few := Judge(c, Input{Metric: "m", Canary: Data{Counts: steps(10, 30, 30)}, Baseline: Data{Counts: steps(10, 1, 1)}})
		if few.Verdict != Inconclusive || few.Explanation.Dispersion == nil || !few.Explanation.Dispersion.TooFew {
			t.Errorf("%s, 2 informative steps: %s %s: %s", judge, few.Verdict, few.Classification, few.Explanation.Rule)
		}
		many := Judge(c, Input{Metric: "m", Canary: Data{Counts: steps(10, 6, 7, 6, 5, 6, 7, 6, 5, 6, 6)}, Baseline: Data{Counts: steps(10, 1, 0, 1, 1, 0, 1, 1, 0, 1, 1)}})
		if many.Verdict != Fail {
			t.Errorf("%s, 10 informative steps: %s: %s", judge, many.Verdict, many.Explanation.Rule)
		}
		// No errors anywhere: nothing informative, and still a pass for
		// error-rate (not significant under independence).
		if judge == "error-rate" {
			if r := Judge(c, Input{Metric: "m", Canary: Data{Counts: steps(10)}, Baseline: Data{Counts: steps(10)}}); r.Verdict != Pass {
				t.Errorf("no errors: %s: %s", r.Verdict, r.Explanation.Rule)
			}
		}
	}
}

// TestTailTestMatchesR: the histogram judge's tail test against R
// (testdata/r-clusters.R, "tail"): the bound chosen, the informative steps,
// mantelhaen.test's statistic, the dispersion and the t(K − 1) p-value.
func TestTailTestMatchesR(t *testing.T) {
	var r struct {
		Tail []struct {
			Bounds           []float64
			Canary, Baseline [][]float64
			Le               float64
			Steps            int
			Statistic, Phi   float64
			P                float64
		} `json:"tail"`
	}
	raw, err := os.ReadFile(filepath.Join("testdata", "r-clusters.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, &r); err != nil || len(r.Tail) != 2 {
		t.Fatalf("%v, %d cases", err, len(r.Tail))
	}
	for i, c := range r.Tail {
		bounds := append(c.Bounds, math.Inf(1))
		window := func(steps [][]float64) *Histogram {
			h := &Histogram{Steps: steps}
			for k, b := range bounds {
				var sum float64
				for _, row := range steps {
					sum += row[k]
				}
				h.Buckets = append(h.Buckets, Bucket{UpperBound: b, Count: sum})
			}
			return h
		}
		ch, bh := window(c.Canary), window(c.Baseline)
		cb, _, _ := normalizeBuckets("canary", ch.Buckets)
		bb, _, _ := normalizeBuckets("baseline", bh.Buckets)
		comp, ok := tailTest(cb, bb, c.Canary, c.Baseline, Greater)
		if !ok || comp.Dispersion == nil || comp.Dispersion.Estimate == nil {
			t.Fatalf("case %d: ok %v %+v", i, ok, comp)
		}
		d := comp.Dispersion
		if comp.Tail.Le != formatLE(c.Le) || d.Steps != c.Steps || d.DF != c.Steps-1 {
			t.Errorf("case %d: le %s, %d steps; R le=%v, %d steps", i, comp.Tail.Le, d.Steps, c.Le, c.Steps)
		}
		z := comp.Statistic.Value
		if got := z * z * d.Applied; !relClose(got, c.Statistic, 1e-10) {
			t.Errorf("case %d: z²·φ = %.15g, R mantelhaen.test %.15g", i, got, c.Statistic)
		}
		if !relClose(*d.Estimate, c.Phi, 1e-10) || !relClose(comp.PValue, c.P, 1e-9) {
			t.Errorf("case %d: φ̂ %.15g p %.15g; R %.15g %.15g", i, *d.Estimate, comp.PValue, c.Phi, c.P)
		}
		res := Judge(Config{Judge: KindHistogram}, histInput(ch, bh))
		if len(res.Explanation.Components) != 2 {
			t.Fatalf("case %d: components %+v", i, res.Explanation.Components)
		}
		if tail := res.Explanation.Components[1]; tail.Name != "tail" || !relClose(tail.PValue, c.P, 1e-9) || tail.Weight != TailWeight {
			t.Errorf("case %d: tail component %+v", i, tail)
		}
		if want := c.P < TailWeight*DefaultAlpha; want != res.Explanation.Components[1].Fired {
			t.Errorf("case %d: tail fired %v, R's p %v: %s", i, res.Explanation.Components[1].Fired, c.P, res.Explanation.Rule)
		}
	}
}

// TestSequentialTooFewStepsPassIsNotEasier: with 2–4 informative steps the
// sequential judge still widens its non-inferiority test by their
// dispersion (floored at 1), so the steps never make a pass easier than the
// same counts pooled.
func TestSequentialTooFewStepsPassIsNotEasier(t *testing.T) {
	c, err := ParseConfig(map[string]string{"judge": "sequential", "margin": "0.01"})
	if err != nil {
		t.Fatal(err)
	}
	mk := func(errs ...float64) *Counts {
		out := &Counts{}
		for i := 0; i < 10; i++ {
			e := 0.0
			if i < len(errs) {
				e = errs[i]
			}
			out.Steps = append(out.Steps, Counts{Requests: 2000, Errors: e})
			out.Requests += 2000
			out.Errors += e
		}
		return out
	}
	canary, baseline := mk(0, 9, 0), mk(8, 0, 1)
	stepped := Judge(c, Input{Metric: "m", Canary: Data{Counts: canary}, Baseline: Data{Counts: baseline}})
	pooledIn := Input{Metric: "m", Canary: Data{Counts: &Counts{Requests: canary.Requests, Errors: canary.Errors}},
		Baseline: Data{Counts: &Counts{Requests: baseline.Requests, Errors: baseline.Errors}}}
	pooled := Judge(c, pooledIn)
	d := stepped.Explanation.Dispersion
	if d == nil || !d.TooFew || d.Steps != 3 || d.Applied <= 1 {
		t.Fatalf("dispersion %+v", d)
	}
	ns, np := *stepped.Explanation.Sequential.NonInferiorityEValue, *pooled.Explanation.Sequential.NonInferiorityEValue
	if !(ns < np) {
		t.Errorf("non-inferiority e-value %v with 3 dispersed steps, %v pooled: want smaller", ns, np)
	}
}
