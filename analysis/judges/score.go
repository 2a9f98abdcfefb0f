package judges

import (
	"errors"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
)

// ScoreConfig holds the summary score thresholds (Kayenta's
// scoreThresholds). Nil means the default.
type ScoreConfig struct {
	// Pass is the score (0–100) at or above which the analysis passes; default 95.
	Pass *float64 `json:"pass,omitempty"`
	// Marginal is the score at or above which a non-passing analysis is
	// marginal (inconclusive) rather than failed; default 75.
	Marginal *float64 `json:"marginal,omitempty"`
}

// Score-threshold keys for ParseScoreConfig.
const (
	KeyPass     = "pass"
	KeyMarginal = "marginal"
)

// ParseScoreConfig reads the keys pass and marginal.
func ParseScoreConfig(kv map[string]string) (ScoreConfig, error) {
	var s ScoreConfig
	var errs []error
	keys := make([]string, 0, len(kv))
	for k := range kv {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		v := kv[k]
		if k != KeyPass && k != KeyMarginal {
			errs = append(errs, fmt.Errorf("key %q: %w (known keys: [%s %s])", k, ErrUnknownKey, KeyMarginal, KeyPass))
			continue
		}
		f, err := strconv.ParseFloat(v, 64)
		if err != nil {
			errs = append(errs, fmt.Errorf("key %q: value %q: %w: %w", k, v, ErrInvalidValue, err))
			continue
		}
		if k == KeyPass {
			s.Pass = &f
		} else {
			s.Marginal = &f
		}
	}
	if len(errs) > 0 {
		return ScoreConfig{}, errors.Join(errs...)
	}
	if err := s.Validate(); err != nil {
		return ScoreConfig{}, err
	}
	return s, nil
}

// thresholds returns the effective pass and marginal scores.
func (s ScoreConfig) thresholds() (pass, marginal float64) {
	pass, marginal = DefaultPassScore, DefaultMarginalScore
	if s.Pass != nil {
		pass = *s.Pass
	}
	if s.Marginal != nil {
		marginal = *s.Marginal
	}
	return pass, marginal
}

// Validate checks 0 ≤ marginal ≤ pass ≤ 100.
func (s ScoreConfig) Validate() error {
	pass, marginal := s.thresholds()
	var errs []error
	if !finite(pass) || pass < 0 || pass > 100 {
		errs = append(errs, fmt.Errorf("key %q: value %v: want a score in [0, 100]: %w", KeyPass, pass, ErrInvalidValue))
	}
	if !finite(marginal) || marginal < 0 || marginal > 100 {
		errs = append(errs, fmt.Errorf("key %q: value %v: want a score in [0, 100]: %w", KeyMarginal, marginal, ErrInvalidValue))
	} else if marginal > pass {
		errs = append(errs, fmt.Errorf("key %q: value %v: above pass %v: %w", KeyMarginal, marginal, pass, ErrInvalidValue))
	}
	return errors.Join(errs...)
}

// ScoreClass is Kayenta's summary classification.
type ScoreClass string

// Summary classifications.
const (
	// ScorePass: score ≥ pass.
	ScorePass ScoreClass = "Pass"
	// ScoreMarginal: marginal ≤ score < pass (verdict inconclusive).
	ScoreMarginal ScoreClass = "Marginal"
	// ScoreFail: score < marginal, a veto, or too many metrics without data.
	ScoreFail ScoreClass = "Fail"
	// ScoreNone: nothing could be scored, or a critical metric is undecided (augur's addition).
	ScoreNone ScoreClass = "Inconclusive"
)

// Summary is the verdict over all metrics of an analysis.
type Summary struct {
	// Verdict: pass (ScorePass), fail (ScoreFail) or inconclusive.
	Verdict Verdict `json:"verdict"`
	// Classification is Kayenta's Pass/Marginal/Fail, or Inconclusive.
	Classification ScoreClass `json:"classification"`
	// Score is the weighted score 0–100 rounded to two decimals (nil when
	// nothing could be scored). Vetoes and the Nodata rule set it to 0.
	Score *float64 `json:"score"`
	// Pass is the pass threshold used.
	Pass float64 `json:"pass"`
	// Marginal is the marginal threshold used.
	Marginal float64 `json:"marginal"`
	// Groups are the group scores, by name.
	Groups []GroupScore `json:"groups"`
	// Vetoes names the critical metrics that failed the analysis.
	Vetoes []string `json:"vetoes,omitempty"`
	// Rule is a sentence saying which rule decided.
	Rule string `json:"rule"`
}

// GroupScore is one group's share of passing metrics.
type GroupScore struct {
	// Name is the group's name.
	Name string `json:"name"`
	// Score is 100·passed/(passed+failed); nil when no metric could be scored.
	Score *float64 `json:"score"`
	// Weight is the group's weight before normalisation.
	Weight float64 `json:"weight"`
	// Passed counts the group's metrics classified Pass.
	Passed int `json:"passed"`
	// Failed counts High, Low and NodataFailMetric.
	Failed int `json:"failed"`
	// Excluded counts Nodata, Error and Undecided, which neither help nor hurt.
	Excluded int `json:"excluded"`
}

// Score combines metric results the way Kayenta's WeightedSumScorer and
// ThresholdScoreClassifier do, with its gaps fixed:
//
//  1. Any veto — a critical metric that failed, has no data or errored —
//     fails the analysis with score 0 (Kayenta drops a critical metric
//     whose classification errored, and passes one with nanStrategy
//     replace and no data at all).
//  2. When half or more of the metrics have no data (Nodata or Error), the
//     analysis fails with score 0 (Kayenta's 50% NODATA rule; Kayenta does
//     not count errors).
//  3. A critical metric still Undecided (sequential) makes the summary
//     inconclusive.
//  4. Each group scores 100·Pass/(Pass+High+Low+NodataFailMetric); Nodata,
//     Error and Undecided are excluded. A group with nothing scored is
//     left out (Kayenta credits it 100).
//  5. Groups without a configured weight share 100 minus the configured
//     weights equally (never below 0); the summary is the weighted mean over
//     the groups with a score, so the weights need not sum to 100 (Kayenta
//     sums score·weight/100, which caps the score when they do not, and
//     gives negative weight when configured weights exceed 100).
//  6. The score, rounded to two decimals, is Pass at ≥ pass, Marginal
//     (inconclusive) at ≥ marginal, else Fail.
//
// Metrics without a group form the group "default". Metrics of one group
// that configure different weights are an error.
func Score(cfg ScoreConfig, results []Result) (Summary, error) {
	if err := cfg.Validate(); err != nil {
		return Summary{}, err
	}
	pass, marginal := cfg.thresholds()
	sum := Summary{Pass: pass, Marginal: marginal, Groups: []GroupScore{}}

	type group struct {
		GroupScore
		weight *float64
	}
	groups := map[string]*group{}
	var names, vetoes, undecided []string
	noData := 0
	for i, r := range results {
		name := r.Group
		if name == "" {
			name = "default"
		}
		gr := groups[name]
		if gr == nil {
			gr = &group{GroupScore: GroupScore{Name: name}}
			groups[name] = gr
			names = append(names, name)
		}
		if r.Weight != nil {
			if !finite(*r.Weight) || *r.Weight < 0 || *r.Weight > 100 {
				return Summary{}, fmt.Errorf("result %d (metric %q): weight %v: want [0, 100]: %w", i, r.Metric, *r.Weight, ErrInvalidValue)
			}
			if gr.weight != nil && *gr.weight != *r.Weight {
				return Summary{}, fmt.Errorf("group %q: metric %q has weight %v but another metric of the group has %v: %w",
					name, r.Metric, *r.Weight, *gr.weight, ErrInvalidValue)
			}
			gr.weight = r.Weight
		}
		label := metricLabel(r)
		if r.Veto {
			vetoes = append(vetoes, label)
		}
		switch r.Classification {
		case ClassPass:
			gr.Passed++
		case ClassHigh, ClassLow, ClassNodataFailMetric:
			gr.Failed++
		case ClassUndecided:
			gr.Excluded++
			if r.Critical {
				undecided = append(undecided, label)
			}
		default: // Nodata, Error, and anything unknown.
			gr.Excluded++
			noData++
		}
	}
	sort.Strings(names)

	// Weights: configured ones as given, the rest share what is left.
	var configured float64
	unweighted := 0
	for _, gr := range groups {
		if gr.weight != nil {
			configured += *gr.weight
		} else {
			unweighted++
		}
	}
	share := 0.0
	if unweighted > 0 {
		share = math.Max(0, (100-configured)/float64(unweighted))
	}
	var wsum, total float64
	for _, name := range names {
		gr := groups[name]
		gr.Weight = share
		if gr.weight != nil {
			gr.Weight = *gr.weight
		}
		if n := gr.Passed + gr.Failed; n > 0 {
			s := 100 * float64(gr.Passed) / float64(n)
			gr.Score = &s
			wsum += gr.Weight
			total += gr.Weight * s
		}
		sum.Groups = append(sum.Groups, gr.GroupScore)
	}

	switch {
	case len(results) == 0:
		sum.Classification, sum.Rule = ScoreNone, "Inconclusive: there are no metric results to score."
	case len(vetoes) > 0:
		sum.Classification, sum.Score, sum.Vetoes = ScoreFail, ptr(0.0), vetoes
		sum.Rule = fmt.Sprintf("Fail: critical metric %s failed, which fails the analysis (score 0).", strings.Join(vetoes, ", "))
	case 100*float64(noData)/float64(len(results)) >= KayentaNodataThreshold:
		sum.Classification, sum.Score = ScoreFail, ptr(0.0)
		sum.Rule = fmt.Sprintf("Fail: %d of %d metrics have no data or errored, at least %s%% (score 0).", noData, len(results), g(KayentaNodataThreshold))
	case len(undecided) > 0:
		sum.Classification = ScoreNone
		sum.Rule = fmt.Sprintf("Inconclusive: critical metric %s has not decided yet.", strings.Join(undecided, ", "))
	case wsum == 0:
		sum.Classification = ScoreNone
		sum.Rule = "Inconclusive: no group with a positive weight has a scored metric."
	default:
		score := math.Round(total/wsum*100) / 100
		sum.Score = &score
		switch {
		case score >= pass:
			sum.Classification = ScorePass
			sum.Rule = fmt.Sprintf("Pass: the score %s is at least pass %s.", g(score), g(pass))
		case score >= marginal:
			sum.Classification = ScoreMarginal
			sum.Rule = fmt.Sprintf("Marginal: the score %s is below pass %s but at least marginal %s.", g(score), g(pass), g(marginal))
		default:
			sum.Classification = ScoreFail
			sum.Rule = fmt.Sprintf("Fail: the score %s is below marginal %s.", g(score), g(marginal))
		}
	}
	switch sum.Classification {
	case ScorePass:
		sum.Verdict = Pass
	case ScoreFail:
		sum.Verdict = Fail
	default:
		sum.Verdict = Inconclusive
	}
	return sum, nil
}

// metricLabel names a result in summary rules.
func metricLabel(r Result) string {
	if r.Metric != "" {
		return strconv.Quote(r.Metric)
	}
	return "(unnamed)"
}
