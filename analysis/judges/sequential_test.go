package judges

import (
	"errors"
	"math"
	"strings"
	"testing"
)

func TestMixtureLogE(t *testing.T) {
	// Λ = 2(1+s)^(−½)·exp(z²s/(2(1+s)))·Φ(z√(s/(1+s))).
	// z = 0, s = 1: 2·(1/√2)·1·½ = 1/√2, log = −½·ln 2 = −0.3465736.
	assertNear(t, "log Λ(0, 1)", mixtureLogE(0, 1), -0.5*math.Ln2, 1e-15)
	// z = 3, s = 3: (2/2)·exp(9·¾/2)·Φ(3·√¾) = e^3.375·Φ(2.598076) = 29.0873.
	assertNear(t, "Λ(3, 3)", math.Exp(mixtureLogE(3, 3)), 29.087298334313992, 1e-9)
	// z = −2, s = 10: evidence against; Λ = 0.1050053.
	assertNear(t, "Λ(−2, 10)", math.Exp(mixtureLogE(-2, 10)), 0.10500527169037507, 1e-12)
	// Far in the lower tail exp(z²r/2)·Φ(z√r) → φ(z√r)·e^(z²r/2)/|z√r| =
	// 1/(|z|√(2πr)): Λ(−60, 100) = 2/√101/(60·√(2π·100/101)) = 1.327e−3,
	// log −6.6248; computed through the Mills-ratio expansion, not 0·∞.
	assertNear(t, "log Λ(−60, 100)", mixtureLogE(-60, 100), math.Log(2/math.Sqrt(101)/(60*math.Sqrt(2*math.Pi*100/101))), 1e-3)
}

// Under the null the standardized estimate at any single look is N(0, 1)
// and the mixture is a martingale with mean 1: ∫ Λ(z, s) φ(z) dz = 1 for
// every s. Checked by quadrature, independently of the closed form's
// derivation.
func TestMixtureHasMeanOne(t *testing.T) {
	for _, s := range []float64{0.01, 1, 25, 1e4} {
		// Λ·φ decays like exp(−z²/(2(1+s))): integrate over ±12 of its scale.
		width := 12 * math.Sqrt(1+s)
		h := width / 2e5
		var integral float64
		for z := -width; z <= width; z += h {
			integral += math.Exp(mixtureLogE(z, s)-z*z/2) / math.Sqrt(2*math.Pi) * h
		}
		assertNear(t, "E[Λ] at s="+g(s), integral, 1, 1e-6)
	}
}

// simulateRollouts runs A/B rollouts with `looks` looks, each adding
// perLook requests per side at the given error rates, and reports the
// fraction of rollouts that ever failed under the sequential judge and under
// a naive fixed-sample z-test repeated at every look, and the fraction the
// sequential judge passed (non-inferiority shown before any failure).
func simulateRollouts(seed uint64, rollouts, looks, perLook int, canaryRate, baseRate float64, cfg Config) (seqFail, naiveFail, seqPass float64) {
	r := newRand(seed)
	var nSeq, nNaive, nPass int
	for range rollouts {
		var c, b Counts
		seqDone, naiveDone := false, false
		for range looks {
			c.Requests += float64(perLook)
			b.Requests += float64(perLook)
			c.Errors += binomial(r, perLook, canaryRate)
			b.Errors += binomial(r, perLook, baseRate)
			in := Input{Canary: Data{Counts: &c}, Baseline: Data{Counts: &b}}
			if !seqDone {
				switch Judge(cfg, in).Verdict {
				case Fail:
					nSeq++
					seqDone = true
				case Pass:
					nPass++
					seqDone = true
				}
			}
			if !naiveDone {
				if p, err := TwoProportions(c, b, ProportionOptions{}); err == nil && p.PValue < cfg.Alpha {
					nNaive++
					naiveDone = true
				}
			}
		}
	}
	n := float64(rollouts)
	return float64(nSeq) / n, float64(nNaive) / n, float64(nPass) / n
}

// A/A: 500 rollouts × 30 looks (200 requests per side per look, 1% errors
// on both sides). The sequential judge may be evaluated at every look and
// still fail at most alpha of the rollouts; the naive z-test evaluated at
// every look fails far more — which shows the simulation can tell them apart.
func TestSequentialAAFalseAlarms(t *testing.T) {
	rollouts := 500
	if testing.Short() {
		rollouts = 150
	}
	cfg := Config{Judge: KindSequential, Alpha: 0.05}
	seqFail, naiveFail, _ := simulateRollouts(21, rollouts, 30, 200, 0.01, 0.01, cfg)
	t.Logf("A/A, %d rollouts × 30 looks: sequential ever failed %.3f, naive repeated z-test %.3f", rollouts, seqFail, naiveFail)
	if seqFail > cfg.Alpha {
		t.Errorf("sequential judge failed %.3f of A/A rollouts, want ≤ alpha %.2f", seqFail, cfg.Alpha)
	}
	if naiveFail <= cfg.Alpha {
		t.Errorf("naive repeated z-test failed only %.3f of A/A rollouts; expected it to exceed alpha %.2f", naiveFail, cfg.Alpha)
	}
}

// A doubled error rate (1% → 2%, 200 requests per side per look) is
// caught within 30 looks in most rollouts; with a margin of half a
// percentage point and 500 requests per side per look, an A/A rollout is
// usually passed before the 30th look.
func TestSequentialPowerAndEarlyPass(t *testing.T) {
	rollouts := 200
	if testing.Short() {
		rollouts = 80
	}
	cfg := Config{Judge: KindSequential, Alpha: 0.05, Margin: 0.005}
	seqFail, _, _ := simulateRollouts(22, rollouts, 30, 200, 0.02, 0.01, cfg)
	_, _, aaPass := simulateRollouts(23, rollouts, 30, 500, 0.01, 0.01, cfg)
	// At the boundary of the non-inferiority null (the canary exactly one
	// margin worse) passing is the error, and must stay below alpha.
	_, _, edgePass := simulateRollouts(24, rollouts, 30, 500, 0.015, 0.01, cfg)
	t.Logf("sequential: 1%%→2%% caught in %.3f of rollouts; A/A passed (margin 0.005) in %.3f; a canary worse by the margin passed in %.3f",
		seqFail, aaPass, edgePass)
	if edgePass > cfg.Alpha {
		t.Errorf("a canary worse by exactly the margin passed in %.3f of rollouts, want ≤ alpha %.2f", edgePass, cfg.Alpha)
	}
	if seqFail < 0.9 {
		t.Errorf("doubled error rate caught in %.3f of rollouts, want ≥ 0.9", seqFail)
	}
	if aaPass < 0.8 {
		t.Errorf("A/A passed in %.3f of rollouts, want ≥ 0.8", aaPass)
	}
}

// The same guarantee on means (samples), with skewed (exponential) data.
func TestSequentialMeansAAFalseAlarms(t *testing.T) {
	rollouts := 300
	if testing.Short() {
		rollouts = 100
	}
	r := newRand(31)
	cfg := Config{Judge: KindSequential, Alpha: 0.05}
	failed := 0
	for range rollouts {
		var c, b []float64
		for range 30 {
			for range 10 {
				c = append(c, 100*r.ExpFloat64())
				b = append(b, 100*r.ExpFloat64())
			}
			if Judge(cfg, samples(c, b)).Verdict == Fail {
				failed++
				break
			}
		}
	}
	frac := float64(failed) / float64(rollouts)
	t.Logf("A/A means, %d rollouts × 30 looks: ever failed %.3f", rollouts, frac)
	if frac > cfg.Alpha {
		t.Errorf("ever failed %.3f > alpha %.2f", frac, cfg.Alpha)
	}
}

func TestJudgeSequential(t *testing.T) {
	sq := Config{Judge: KindSequential}
	tests := []struct {
		name      string
		cfg       Config
		in        Input
		wantClass Classification
		wantVeto  bool
		ruleHas   string
	}{
		{name: "regression", cfg: sq, in: counts(20000, 400, 20000, 200), wantClass: ClassHigh, ruleHas: "a regression is shown"},
		{name: "regression critical", cfg: Config{Judge: KindSequential, Critical: true}, in: counts(20000, 400, 20000, 200), wantClass: ClassHigh, wantVeto: true},
		{name: "non-inferior", cfg: Config{Judge: KindSequential, Margin: 0.005}, in: counts(20000, 200, 20000, 200), wantClass: ClassPass, ruleHas: "non-inferiority"},
		{name: "no margin keeps looking", cfg: sq, in: counts(20000, 200, 20000, 200), wantClass: ClassUndecided, ruleHas: "continue"},
		{name: "decrease direction", cfg: Config{Judge: KindSequential, Direction: DirectionDecrease}, in: counts(20000, 200, 20000, 400), wantClass: ClassLow},
		{name: "either", cfg: Config{Judge: KindSequential, Direction: DirectionEither}, in: counts(20000, 400, 20000, 200), wantClass: ClassHigh},
		{name: "too few requests", cfg: sq, in: counts(50, 0, 50, 0), wantClass: ClassUndecided, ruleHas: "fewer than minRequests"},
		{name: "no canary traffic", cfg: sq, in: counts(0, 0, 500, 1), wantClass: ClassNodata},
		{name: "no canary traffic critical", cfg: Config{Judge: KindSequential, Critical: true}, in: counts(0, 0, 500, 1), wantClass: ClassNodata, wantVeto: true},
		{name: "means regression", cfg: sq, in: samples(shifted(seq(1, 1, 40), 20), seq(1, 1, 40)), wantClass: ClassHigh},
		{name: "means too few", cfg: sq, in: samples(seq(1, 1, 10), seq(1, 1, 10)), wantClass: ClassUndecided, ruleHas: "fewer than minPoints 20"},
		{name: "means no variance", cfg: sq, in: samples(repeat(3, 30), repeat(3, 30)), wantClass: ClassUndecided, ruleHas: "no variance"},
		{name: "histogram given", cfg: sq, in: histInput(hist([]float64{inf}, []float64{1}), hist([]float64{inf}, []float64{1})), wantClass: ClassError},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Judge(tt.cfg, tt.in)
			if got.Classification != tt.wantClass || got.Veto != tt.wantVeto {
				t.Errorf("classification, veto = %v, %v; want %v, %v\nrule: %s", got.Classification, got.Veto, tt.wantClass, tt.wantVeto, got.Explanation.Rule)
			}
			if !strings.Contains(got.Explanation.Rule, tt.ruleHas) {
				t.Errorf("rule %q does not mention %q", got.Explanation.Rule, tt.ruleHas)
			}
		})
	}
}

func TestSequentialOptionsInvalid(t *testing.T) {
	for _, o := range []SequentialOptions{{Alpha: 0.9}, {Margin: -1}, {Tau: -1}, {Alternative: "sideways"}} {
		if _, err := SequentialProportions(Counts{Requests: 10}, Counts{Requests: 10}, o); !errors.Is(err, ErrInvalidValue) {
			t.Errorf("%+v: err = %v, want ErrInvalidValue", o, err)
		}
	}
	if _, err := SequentialMeans([]float64{1}, []float64{1, 2}, SequentialOptions{}); !errors.Is(err, ErrNoData) {
		t.Errorf("one sample: err = %v", err)
	}
	if _, err := SequentialMeans([]float64{1, math.NaN()}, []float64{1, 2}, SequentialOptions{}); !errors.Is(err, ErrInvalidInput) {
		t.Errorf("NaN sample: err = %v", err)
	}
}
