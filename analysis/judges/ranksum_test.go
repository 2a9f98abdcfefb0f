package judges

import (
	"encoding/json"
	"errors"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// R's documented example (?wilcox.test, "Two-sample test. Hollander &
// Wolfe (1973), 69f."): permeability constants of the human chorioamnion.
var (
	hwX = []float64{0.80, 0.83, 1.89, 1.04, 1.45, 1.38, 1.91, 1.64, 0.73, 1.46}
	hwY = []float64{1.15, 0.88, 0.90, 0.74, 1.21}
)

func TestRankSumPublishedR(t *testing.T) {
	tests := []struct {
		name   string
		opts   RankSumOptions
		wantW  float64
		wantP  float64
		tol    float64
		method Method
	}{
		{
			// R: wilcox.test(x, y, alternative = "g") → W = 35, p-value = 0.1272
			// (printed to 4 digits; the exact tail P(U ≥ 35) for m=10, n=5).
			name: "greater exact", opts: RankSumOptions{Alternative: Greater},
			wantW: 35, wantP: 0.1272, tol: 5e-5, method: MethodExact,
		},
		{
			// Two-sided doubles the smaller tail: 2 × 0.12721 = 0.2544.
			name: "two-sided exact", opts: RankSumOptions{},
			wantW: 35, wantP: 0.2544, tol: 1e-4, method: MethodExact,
		},
		{
			// R: wilcox.test(x, y, alternative = "greater", exact = FALSE,
			// correct = FALSE) → p-value = 0.1103 ("H&W large sample
			// approximation"). By hand: E[W] = mn/2 = 25, Var = mn(N+1)/12 =
			// 10·5·16/12 = 66.667, z = 10/8.165 = 1.2247, 1 − Φ(z) = 0.11034.
			name: "greater normal no correction", opts: RankSumOptions{Alternative: Greater, Method: MethodNormal, NoCorrection: true},
			wantW: 35, wantP: 0.11033568095998114, tol: 1e-12, method: MethodNormal,
		},
		{
			// With the continuity correction: z = 9.5/8.165 = 1.16351,
			// 1 − Φ(z) = 0.122312.
			name: "greater normal corrected", opts: RankSumOptions{Alternative: Greater, Method: MethodNormal},
			wantW: 35, wantP: 0.12231180256349172, tol: 1e-12, method: MethodNormal,
		},
		{
			// Less is the other tail: P(U ≤ 35) = 1 − P(U ≥ 36) ≈ 0.9. Checked
			// against enumeration below; here only that it is large.
			name: "less exact", opts: RankSumOptions{Alternative: Less},
			wantW: 35, wantP: 0.9, tol: 0.02, method: MethodExact,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := RankSum(hwX, hwY, tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			if got.W != tt.wantW || got.Method != tt.method {
				t.Errorf("W, method = %v, %v; want %v, %v", got.W, got.Method, tt.wantW, tt.method)
			}
			assertNear(t, "p-value", got.PValue, tt.wantP, tt.tol)
		})
	}
}

// The exact p-value is checked against a distribution built by
// enumerating every assignment of ranks, independently of wilcoxDist.
func TestRankSumExactMatchesEnumeration(t *testing.T) {
	dist := enumerateU(10, 5)
	// P(U ≥ 35) for the H&W example.
	var upper, lower float64
	for u, p := range dist {
		if u >= 35 {
			upper += p
		}
		if u <= 35 {
			lower += p
		}
	}
	for _, tt := range []struct {
		alt  Alternative
		want float64
	}{{Greater, upper}, {Less, lower}, {TwoSided, math.Min(1, 2*upper)}} {
		got, err := RankSum(hwX, hwY, RankSumOptions{Alternative: tt.alt})
		if err != nil {
			t.Fatal(err)
		}
		assertNear(t, string(tt.alt)+" p", got.PValue, tt.want, 1e-12)
	}
	assertNear(t, "enumerated P(U ≥ 35)", upper, 0.1272, 5e-5) // R's printed value

	for m := 1; m <= 7; m++ {
		for n := 1; n <= 7; n++ {
			want := enumerateU(m, n)
			got := wilcoxDist(m, n)
			if diff := cmp.Diff(want, got, cmpopts.EquateApprox(0, 1e-13)); diff != "" {
				t.Errorf("wilcoxDist(%d, %d) mismatch (-enumerated +got):\n%s", m, n, diff)
			}
		}
	}
}

// The estimate is the median of all pairwise differences and the exact
// interval takes order statistics at R's qwilcox quantiles; both are
// recomputed here from the full sorted list of differences.
func TestRankSumExactIntervalBruteForce(t *testing.T) {
	r := newRand(1)
	for _, size := range [][2]int{{3, 4}, {5, 5}, {7, 3}, {8, 8}, {6, 9}} {
		m, n := size[0], size[1]
		x, y := make([]float64, m), make([]float64, n)
		for i := range x {
			x[i] = math.Round(r.NormFloat64()*1e6+5e5) / 1e3 // distinct with probability ~1
		}
		for i := range y {
			y[i] = math.Round(r.NormFloat64()*1e6) / 1e3
		}
		diffs := allDiffs(x, y)
		dist := enumerateU(m, n)
		for _, conf := range []float64{0.8, 0.95} {
			got, err := RankSum(x, y, RankSumOptions{ConfLevel: conf})
			if err != nil {
				t.Fatal(err)
			}
			if got.Method != MethodExact {
				t.Fatalf("%dx%d: method %v, want exact", m, n, got.Method)
			}
			mn := m * n
			wantEst := diffs[mn/2]
			if mn%2 == 0 {
				wantEst = (diffs[mn/2-1] + diffs[mn/2]) / 2
			}
			assertNear(t, "estimate", got.Estimate, wantEst, 1e-12)
			// qu: smallest q with P(U ≤ q) ≥ α/2 (R's qwilcox), at least 1.
			alpha := 1 - conf
			qu, cum := 0, 0.0
			for q := range dist {
				cum += dist[q]
				if cum >= alpha/2-1e-14 {
					qu = q
					break
				}
			}
			qu = max(qu, 1)
			assertNear(t, "lower", deref(got.Lower), diffs[qu-1], 0)
			assertNear(t, "upper", deref(got.Upper), diffs[mn-qu], 0)
		}
	}
}

// The normal-approximation interval must sit exactly where R's root finder
// converges: a naive transcription of R's wdiff with bisection, on data
// with and without ties, for every alternative.
func TestRankSumNormalIntervalMatchesR(t *testing.T) {
	r := newRand(2)
	for trial := 0; trial < 40; trial++ {
		m, n := 1+r.IntN(30), 1+r.IntN(30)
		x, y := make([]float64, m), make([]float64, n)
		scale := []float64{1, 0.5, 1e-3}[trial%3] // coarse grids make ties
		for i := range x {
			x[i] = math.Round((r.NormFloat64()+0.4)*4/scale) * scale
		}
		for i := range y {
			y[i] = math.Round(r.NormFloat64()*4/scale) * scale
		}
		for _, alt := range []Alternative{TwoSided, Greater, Less} {
			for _, conf := range []float64{0.9, 0.98} {
				got, err := RankSum(x, y, RankSumOptions{Alternative: alt, ConfLevel: conf, Method: MethodNormal})
				if err != nil {
					t.Fatal(err)
				}
				alpha := 1 - conf
				tol := 1e-9 * (1 + math.Abs(slices_max(x)-slices_min(y)))
				switch alt {
				case TwoSided:
					assertNear(t, "two-sided lower", deref(got.Lower), rRoot(x, y, qnorm(1-alpha/2), alt, true), tol)
					assertNear(t, "two-sided upper", deref(got.Upper), rRoot(x, y, qnorm(alpha/2), alt, true), tol)
				case Greater:
					assertNear(t, "greater lower", deref(got.Lower), rRoot(x, y, qnorm(1-alpha), alt, true), tol)
					if got.Upper != nil {
						t.Errorf("greater: upper = %v, want unbounded", *got.Upper)
					}
				case Less:
					assertNear(t, "less upper", deref(got.Upper), rRoot(x, y, qnorm(alpha), alt, true), tol)
					if got.Lower != nil {
						t.Errorf("less: lower = %v, want unbounded", *got.Lower)
					}
				}
				wantEst := medianOf(allDiffs(x, y))
				assertNear(t, "estimate", got.Estimate, wantEst, 1e-12*(1+math.Abs(wantEst)))
			}
		}
		if t.Failed() {
			t.Fatalf("trial %d: x=%v y=%v", trial, x, y)
		}
	}
}

// R's own outputs on tied data, as published in Kayenta's tie-out tests.
// R's uniroot stops within 1e-4 of the pairwise difference where the
// statistic changes sign; augur returns that difference exactly.
func TestRankSumRTieOut(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("testdata", "r-tieout.json"))
	if err != nil {
		t.Fatal(err)
	}
	var file struct {
		Cases []struct {
			Name                   string
			ConfLevel              float64
			X, Y                   []float64
			Lower, Upper, Estimate float64
		}
	}
	if err := json.Unmarshal(raw, &file); err != nil {
		t.Fatal(err)
	}
	if len(file.Cases) == 0 {
		t.Fatal("no cases")
	}
	for _, c := range file.Cases {
		t.Run(c.Name, func(t *testing.T) {
			got, err := RankSum(c.X, c.Y, RankSumOptions{ConfLevel: c.ConfLevel})
			if err != nil {
				t.Fatal(err)
			}
			if got.Method != MethodNormal || !got.Ties {
				t.Errorf("method %v ties %v, want normal with ties", got.Method, got.Ties)
			}
			assertNear(t, "lower", deref(got.Lower), c.Lower, 1e-4)
			assertNear(t, "upper", deref(got.Upper), c.Upper, 1e-4)
			assertNear(t, "estimate", got.Estimate, c.Estimate, 1e-4)
		})
	}
}

func TestRankSumHandChecked(t *testing.T) {
	tests := []struct {
		name    string
		x, y    []float64
		opts    RankSumOptions
		want    RankSumResult
		wantErr error
	}{
		{
			// Kayenta MannWhitneySuite "returns expected values": control
			// {1,2,3,4}, experiment {10,20,30,40}, 95%. The 16 differences are
			// 6..9, 16..19, 26..29, 36..39; median (19+26)/2 = 22.5. σ₀ =
			// √(16/12·9) = 3.4641; just above D(1) the statistic is
			// (15−8−0.5)/3.4641 = 1.876 < 1.96, so the lower bound is D(1) = 6
			// and by symmetry the upper is D(16) = 39. W = 16 (every pair), no
			// ties; z = (16−8−0.5)/3.4641 = 2.1651, p = 2(1−Φ(2.1651)) = 0.030383.
			name: "kayenta suite", x: []float64{10, 20, 30, 40}, y: []float64{1, 2, 3, 4},
			opts: RankSumOptions{Method: MethodNormal},
			want: RankSumResult{W: 16, PValue: 0.030382821, Z: ptr(2.1650635), Method: MethodNormal,
				Estimate: 22.5, Lower: ptr(6.0), Upper: ptr(39.0), ConfLevel: 0.95},
		},
		{
			// Ties: x={1,2,2,3}, y={2,3,3,4}. Midranks: 1→1, the three 2s→3,
			// the three 3s→6, 4→8; x's rank sum 1+3+3+6 = 13, W = 13−10 = 3.
			// Ties Σ(t³−t) = 24+24 = 48; σ = √(16/12·(9−48/56)) = 3.295018;
			// z = (3−8+0.5)/σ = −1.365698, p = 2Φ(z) = 0.172034. The 16
			// differences x−y: from 1: −1,−2,−2,−3; from each 2: 0,−1,−1,−2;
			// from 3: 1,0,0,−1. Sorted: −3, −2×4, −1×6, 0×4, 1; the 8th and
			// 9th are both −1, so the estimate is −1.
			name: "ties", x: []float64{1, 2, 2, 3}, y: []float64{2, 3, 3, 4},
			want: RankSumResult{W: 3, PValue: 0.17203370892182296, Z: ptr(-1.365698202000489), Method: MethodNormal, Ties: true,
				Estimate: -1, ConfLevel: 0.95},
		},
		{
			// All values equal: every pair ties, W = mn/2 = 3, σ = 0: no
			// evidence, p = 1; all differences are 0, so the shift and its
			// interval are 0. With 3 and 2 values the interval cannot reach
			// 95%: σ₀ = √(6/12·(6 − 30/20)) = 1.5 and even with every pair
			// above, (6−3−0.5)/1.5 = 1.667 < 1.96, so both ends are clamped.
			name: "all equal", x: []float64{5, 5, 5}, y: []float64{5, 5},
			want: RankSumResult{W: 3, PValue: 1, Method: MethodNormal, Ties: true,
				Estimate: 0, Lower: ptr(0.0), Upper: ptr(0.0), ConfLevel: 0.95, LowerClamped: true, UpperClamped: true},
		},
		{
			// One point per side, exact: U ∈ {0, 1} each with probability ½;
			// W = 1 > mn/2 so p = min(1, 2·P(U ≥ 1)) = 1. qwilcox(0.025) = 0 is
			// raised to 1, so the interval is [D(1), D(1)] = [2, 2] with
			// achieved α = 2·P(U ≤ 0) = 1: confidence 0, clamped.
			name: "single point", x: []float64{3}, y: []float64{1},
			want: RankSumResult{W: 1, PValue: 1, Method: MethodExact, Estimate: 2, Lower: ptr(2.0), Upper: ptr(2.0),
				ConfLevel: 0, LowerClamped: true, UpperClamped: true},
		},
		{
			// mu shifts x before ranking: x−3 = {−2,−1,0}, y = {0,1,2}: W counts
			// pairs x−3 > y plus half ties: only 0 vs 0 ties → W = 0.5; ties
			// force the normal approximation: one tie pair, σ = √(9/12·(7 −
			// 6/30)) = 2.2583, z = (0.5 − 4.5 + 0.5)/σ = −1.549826, p =
			// 2Φ(z) = 0.121186. The estimate ignores mu: median
			// of x−y = {1−0,…} = median{−1,0,1,0,1,2,1,2,3} = 1.
			name: "mu", x: []float64{1, 2, 3}, y: []float64{0, 1, 2}, opts: RankSumOptions{Mu: 3},
			// 3×3 values cannot reach 95% either (σ₀ = 2.449,
			// (9−4.5−0.5)/2.449 = 1.633 < 1.96): both ends clamped.
			want: RankSumResult{W: 0.5, PValue: 0.12118327283746322, Z: ptr(-1.5498260496951668), Method: MethodNormal, Ties: true, Estimate: 1, ConfLevel: 0.95,
				LowerClamped: true, UpperClamped: true},
		},
		{name: "empty x", x: nil, y: []float64{1}, wantErr: ErrNoData},
		{name: "empty y", x: []float64{1}, y: []float64{}, wantErr: ErrNoData},
		{name: "NaN", x: []float64{1, math.NaN()}, y: []float64{1}, wantErr: ErrInvalidInput},
		{name: "Inf", x: []float64{1}, y: []float64{math.Inf(1)}, wantErr: ErrInvalidInput},
		{name: "bad level", x: []float64{1}, y: []float64{2}, opts: RankSumOptions{ConfLevel: 1}, wantErr: ErrInvalidValue},
		{name: "bad alternative", x: []float64{1}, y: []float64{2}, opts: RankSumOptions{Alternative: "up"}, wantErr: ErrInvalidValue},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := RankSum(tt.x, tt.y, tt.opts)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("error = %v, want %v", err, tt.wantErr)
			}
			if err != nil {
				return
			}
			var ignore []string
			if tt.want.Lower == nil && tt.want.Upper == nil {
				ignore = append(ignore, "Lower", "Upper") // covered by the brute-force tests
			}
			opts := cmp.Options{cmpopts.EquateApprox(0, 1e-7), cmpopts.IgnoreFields(RankSumResult{}, ignore...)}
			if diff := cmp.Diff(tt.want, got, opts); diff != "" {
				t.Errorf("RankSum mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func medianOf(sorted []float64) float64 { return medianSorted(sorted) }

func slices_max(v []float64) float64 {
	m := math.Inf(-1)
	for _, x := range v {
		m = math.Max(m, x)
	}
	return m
}

func slices_min(v []float64) float64 {
	m := math.Inf(1)
	for _, x := range v {
		m = math.Min(m, x)
	}
	return m
}
