package judges

import (
	"errors"
	"fmt"
	"sort"
	"strconv"
)

// Kind names a judge.
type Kind string

// The judges.
const (
	// KindMannWhitney compares samples with Kayenta's NetflixACAJudge
	// classifier: a 98% Hodges–Lehmann interval against a ±25% tolerance band.
	KindMannWhitney Kind = "mann-whitney"
	// KindErrorRate tests two proportions on summed request and error counts.
	KindErrorRate Kind = "error-rate"
	// KindHistogram runs a rank test on histogram bucket counts (latency).
	KindHistogram Kind = "histogram"
	// KindSequential is the always-valid mixture SPRT on counts or samples,
	// safe to evaluate at every tick.
	KindSequential Kind = "sequential"
)

// String returns the judge's name.
func (k Kind) String() string { return string(k) }

// Direction says which change of the canary counts as a regression.
type Direction string

// Directions (Kayenta's names).
const (
	// DirectionIncrease: only a higher canary fails (latency, errors).
	DirectionIncrease Direction = "increase"
	// DirectionDecrease: only a lower canary fails (throughput, success rate).
	DirectionDecrease Direction = "decrease"
	// DirectionEither: a change either way fails.
	DirectionEither Direction = "either"
)

// String returns the direction's name.
func (d Direction) String() string { return string(d) }

// EffectMeasure is Kayenta's effect-size measure.
type EffectMeasure string

// Effect-size measures.
const (
	// EffectMeanRatio is mean(canary)/mean(baseline); undefined when either mean is zero.
	EffectMeanRatio EffectMeasure = "meanRatio"
	// EffectCLES is the common-language effect size P(canary > baseline) + ½·P(tie).
	EffectCLES EffectMeasure = "cles"
)

// String returns the measure's name.
func (e EffectMeasure) String() string { return string(e) }

// NaNStrategy says what happens to NaN (and ±Inf) samples.
type NaNStrategy string

// NaN strategies (Kayenta's names).
const (
	// NaNRemove drops non-finite samples.
	NaNRemove NaNStrategy = "remove"
	// NaNReplace replaces non-finite samples with 0 (for counts where no data means none).
	NaNReplace NaNStrategy = "replace"
)

// String returns the strategy's name.
func (s NaNStrategy) String() string { return string(s) }

// Defaults. Kayenta's constants are marked.
const (
	// DefaultAlpha is the significance level of the error-rate, histogram and sequential judges.
	DefaultAlpha = 0.05
	// KayentaConfidence is NetflixACAJudge's fixed confidence level (Kayenta).
	KayentaConfidence = 0.98
	// KayentaTolerance is the fraction of |estimate| the interval must clear (Kayenta).
	KayentaTolerance = 0.25
	// DefaultOutlierFactor is the IQR factor of Kayenta's outlier filter (Kayenta).
	DefaultOutlierFactor = 3.0
	// KayentaNodataThreshold is the share of Nodata metrics (percent) at which Kayenta fails the canary.
	KayentaNodataThreshold = 50.0
	// DefaultMinPoints is the mann-whitney judge's minimum samples per side.
	DefaultMinPoints = 5
	// DefaultSequentialMinPoints is the sequential judge's minimum samples per side (means).
	DefaultSequentialMinPoints = 20
	// DefaultMinRequests is the minimum requests (or observations) per side for count and histogram data.
	DefaultMinRequests = 100
	// DefaultTau is the sequential mixture's standard deviation on the standardized effect.
	DefaultTau = 0.1
	// DefaultPassScore and DefaultMarginalScore are the scorer's thresholds (Kayenta's usual values).
	DefaultPassScore     = 95.0
	DefaultMarginalScore = 75.0
)

// Config configures one metric's judge. Every field has a JSON tag and a
// flat-map key of the same name (see ParseConfig), so it can come from an
// HTTP request or from a Flagger webhook's metadata. Zero values and nil
// pointers mean "default"; WithDefaults fills them in.
type Config struct {
	// Judge is the judge to run; default mann-whitney.
	Judge Kind `json:"judge,omitempty"`
	// Direction is which change fails; default either for mann-whitney, increase otherwise.
	Direction Direction `json:"direction,omitempty"`
	// EffectSize is the effect measure (mann-whitney, histogram); default meanRatio.
	EffectSize EffectMeasure `json:"effectSize,omitempty"`
	// AllowedIncrease is the effect a High must reach (default 1.0 for ratios, 0.5 for cles).
	// For error-rate it is the allowed rate ratio canary/baseline.
	AllowedIncrease *float64 `json:"allowedIncrease,omitempty"`
	// AllowedDecrease is the effect a Low must fall to (defaults as AllowedIncrease).
	AllowedDecrease *float64 `json:"allowedDecrease,omitempty"`
	// CriticalIncrease is the effect a critical metric's High must reach to
	// veto the analysis (mann-whitney, histogram); defaults as AllowedIncrease.
	CriticalIncrease *float64 `json:"criticalIncrease,omitempty"`
	// CriticalDecrease is the effect a critical metric's Low must fall to.
	CriticalDecrease *float64 `json:"criticalDecrease,omitempty"`
	// NaNStrategy handles non-finite samples; default remove.
	NaNStrategy NaNStrategy `json:"nanStrategy,omitempty"`
	// OutlierFactor is the IQR factor of the outlier filter (mann-whitney); default 3, 0 disables.
	OutlierFactor *float64 `json:"outlierFactor,omitempty"`
	// Critical makes a failing (or data-less, or erroring) metric veto the analysis.
	Critical bool `json:"critical,omitempty"`
	// MustHaveData turns Nodata into NodataFailMetric (a failure).
	MustHaveData bool `json:"mustHaveData,omitempty"`
	// MinPoints is the minimum samples per side (mann-whitney 5, sequential 20).
	MinPoints int `json:"minPoints,omitempty"`
	// MinRequests is the minimum requests or observations per side (counts, histograms); default 100.
	MinRequests float64 `json:"minRequests,omitempty"`
	// Alpha is the significance level (error-rate, histogram, sequential); default 0.05.
	Alpha float64 `json:"alpha,omitempty"`
	// Margin is the sequential judge's non-inferiority margin in the metric's
	// units (an error-rate difference such as 0.005, or milliseconds); default 0.
	Margin float64 `json:"margin,omitempty"`
	// Tau is the sequential mixture's standard deviation on the standardized effect; default 0.1.
	Tau float64 `json:"tau,omitempty"`
	// Weight is the weight (0–100) of the metric's group in the score.
	Weight *float64 `json:"weight,omitempty"`
	// Group is the scoring group; default "default".
	Group string `json:"group,omitempty"`
}

// Flat-map keys, equal to the JSON names.
const (
	KeyJudge            = "judge"
	KeyDirection        = "direction"
	KeyEffectSize       = "effectSize"
	KeyAllowedIncrease  = "allowedIncrease"
	KeyAllowedDecrease  = "allowedDecrease"
	KeyCriticalIncrease = "criticalIncrease"
	KeyCriticalDecrease = "criticalDecrease"
	KeyNaNStrategy      = "nanStrategy"
	KeyOutlierFactor    = "outlierFactor"
	KeyCritical         = "critical"
	KeyMustHaveData     = "mustHaveData"
	KeyMinPoints        = "minPoints"
	KeyMinRequests      = "minRequests"
	KeyAlpha            = "alpha"
	KeyMargin           = "margin"
	KeyTau              = "tau"
	KeyWeight           = "weight"
	KeyGroup            = "group"
)

// ConfigKeys returns every key ParseConfig accepts, sorted.
func ConfigKeys() []string {
	keys := []string{
		KeyJudge, KeyDirection, KeyEffectSize, KeyAllowedIncrease, KeyAllowedDecrease,
		KeyCriticalIncrease, KeyCriticalDecrease, KeyNaNStrategy, KeyOutlierFactor,
		KeyCritical, KeyMustHaveData, KeyMinPoints, KeyMinRequests, KeyAlpha,
		KeyMargin, KeyTau, KeyWeight, KeyGroup,
	}
	sort.Strings(keys)
	return keys
}

// appliesTo reports whether a judge uses key. judge, critical,
// mustHaveData, weight and group apply to every judge.
func appliesTo(judge Kind, key string) bool {
	switch key {
	case KeyJudge, KeyCritical, KeyMustHaveData, KeyWeight, KeyGroup:
		return true
	case KeyDirection:
		return true
	case KeyEffectSize, KeyCriticalIncrease, KeyCriticalDecrease:
		return judge == KindMannWhitney || judge == KindHistogram
	case KeyAllowedIncrease, KeyAllowedDecrease:
		return judge != KindSequential
	case KeyNaNStrategy, KeyMinPoints:
		return judge == KindMannWhitney || judge == KindSequential
	case KeyOutlierFactor:
		return judge == KindMannWhitney
	case KeyMinRequests, KeyAlpha:
		return judge != KindMannWhitney
	case KeyMargin, KeyTau:
		return judge == KindSequential
	}
	return false
}

// ParseConfig reads a Config from flat string keys, as found in a Flagger
// webhook's metadata: judge, direction, effectSize, allowedIncrease,
// allowedDecrease, criticalIncrease, criticalDecrease, nanStrategy,
// outlierFactor, critical, mustHaveData, minPoints, minRequests, alpha,
// margin, tau, weight and group. Unknown keys, unparsable or out-of-range
// values and keys the chosen judge does not use are errors that name the
// key; all of them are reported together. Callers that share the metadata
// with other consumers should pass only the keys listed by ConfigKeys.
func ParseConfig(kv map[string]string) (Config, error) {
	var c Config
	var errs []error
	keys := make([]string, 0, len(kv))
	for k := range kv {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if err := c.setKey(k, kv[k]); err != nil {
			errs = append(errs, err)
		}
	}
	if len(errs) > 0 {
		return Config{}, errors.Join(errs...)
	}
	if err := c.Validate(); err != nil {
		return Config{}, err
	}
	return c, nil
}

func (c *Config) setKey(key, v string) error {
	bad := func(err error) error {
		if err != nil {
			return fmt.Errorf("key %q: value %q: %w: %w", key, v, ErrInvalidValue, err)
		}
		return fmt.Errorf("key %q: value %q: %w", key, v, ErrInvalidValue)
	}
	float := func() (*float64, error) {
		f, err := strconv.ParseFloat(v, 64)
		if err != nil {
			return nil, bad(err)
		}
		if !finite(f) {
			return nil, bad(nil)
		}
		return &f, nil
	}
	var err error
	switch key {
	case KeyJudge:
		c.Judge = Kind(v)
	case KeyDirection:
		c.Direction = Direction(v)
	case KeyEffectSize:
		c.EffectSize = EffectMeasure(v)
	case KeyNaNStrategy:
		c.NaNStrategy = NaNStrategy(v)
	case KeyGroup:
		c.Group = v
	case KeyAllowedIncrease:
		c.AllowedIncrease, err = float()
	case KeyAllowedDecrease:
		c.AllowedDecrease, err = float()
	case KeyCriticalIncrease:
		c.CriticalIncrease, err = float()
	case KeyCriticalDecrease:
		c.CriticalDecrease, err = float()
	case KeyOutlierFactor:
		c.OutlierFactor, err = float()
	case KeyWeight:
		c.Weight, err = float()
	case KeyAlpha, KeyMargin, KeyTau, KeyMinRequests:
		var f *float64
		if f, err = float(); err == nil {
			switch key {
			case KeyAlpha:
				c.Alpha = *f
			case KeyMargin:
				c.Margin = *f
			case KeyTau:
				c.Tau = *f
			case KeyMinRequests:
				c.MinRequests = *f
			}
		}
	case KeyMinPoints:
		var n int
		if n, err = strconv.Atoi(v); err != nil {
			return bad(err)
		}
		c.MinPoints = n
	case KeyCritical, KeyMustHaveData:
		var b bool
		if b, err = strconv.ParseBool(v); err != nil {
			return bad(err)
		}
		if key == KeyCritical {
			c.Critical = b
		} else {
			c.MustHaveData = b
		}
	default:
		return fmt.Errorf("key %q: %w (known keys: %v)", key, ErrUnknownKey, ConfigKeys())
	}
	return err
}

// Validate checks names, ranges and that every key set applies to the
// judge. All problems are reported together, each naming its key.
func (c Config) Validate() error {
	var errs []error
	bad := func(key string, v any, why string) {
		errs = append(errs, fmt.Errorf("key %q: value %v: %s: %w", key, v, why, ErrInvalidValue))
	}
	judge := c.judge()
	ok := judge == KindMannWhitney || judge == KindErrorRate || judge == KindHistogram || judge == KindSequential
	if !ok {
		bad(KeyJudge, strconv.Quote(string(c.Judge)), "want mann-whitney, error-rate, histogram or sequential")
	}
	check := func(key string, isSet bool) bool {
		if isSet && ok && !appliesTo(judge, key) {
			errs = append(errs, fmt.Errorf("key %q: %w %q", key, ErrNotApplicable, judge))
			return false
		}
		return isSet
	}
	if check(KeyDirection, c.Direction != "") {
		switch c.Direction {
		case DirectionIncrease, DirectionDecrease, DirectionEither:
		default:
			bad(KeyDirection, strconv.Quote(string(c.Direction)), "want increase, decrease or either")
		}
	}
	if check(KeyEffectSize, c.EffectSize != "") {
		switch c.EffectSize {
		case EffectMeanRatio, EffectCLES:
		default:
			bad(KeyEffectSize, strconv.Quote(string(c.EffectSize)), "want meanRatio or cles")
		}
	}
	if check(KeyNaNStrategy, c.NaNStrategy != "") {
		switch c.NaNStrategy {
		case NaNRemove, NaNReplace:
		default:
			bad(KeyNaNStrategy, strconv.Quote(string(c.NaNStrategy)), "want remove or replace")
		}
	}
	for _, f := range []struct {
		key string
		v   *float64
	}{
		{KeyAllowedIncrease, c.AllowedIncrease}, {KeyAllowedDecrease, c.AllowedDecrease},
		{KeyCriticalIncrease, c.CriticalIncrease}, {KeyCriticalDecrease, c.CriticalDecrease},
	} {
		if check(f.key, f.v != nil) {
			switch {
			case !finite(*f.v) || *f.v < 0:
				bad(f.key, *f.v, "want a finite number ≥ 0")
			case c.EffectSize == EffectCLES && *f.v > 1:
				bad(f.key, *f.v, "a cles threshold is a probability in [0, 1]")
			}
		}
	}
	if check(KeyOutlierFactor, c.OutlierFactor != nil) && (!finite(*c.OutlierFactor) || *c.OutlierFactor < 0) {
		bad(KeyOutlierFactor, *c.OutlierFactor, "want a finite number ≥ 0 (0 disables the filter)")
	}
	if check(KeyMinPoints, c.MinPoints != 0) && c.MinPoints < 1 {
		bad(KeyMinPoints, c.MinPoints, "want an integer ≥ 1")
	}
	if check(KeyMinRequests, c.MinRequests != 0) && (!finite(c.MinRequests) || c.MinRequests < 0) {
		bad(KeyMinRequests, c.MinRequests, "want a finite number ≥ 0")
	}
	if check(KeyAlpha, c.Alpha != 0) && !(c.Alpha > 0 && c.Alpha <= 0.5) {
		bad(KeyAlpha, c.Alpha, "want a level in (0, 0.5]")
	}
	if check(KeyMargin, c.Margin != 0) && (!finite(c.Margin) || c.Margin < 0) {
		bad(KeyMargin, c.Margin, "want a finite number ≥ 0")
	}
	if check(KeyTau, c.Tau != 0) && (!finite(c.Tau) || c.Tau <= 0) {
		bad(KeyTau, c.Tau, "want a finite number > 0")
	}
	if c.Weight != nil && (!finite(*c.Weight) || *c.Weight < 0 || *c.Weight > 100) {
		bad(KeyWeight, *c.Weight, "want a weight in [0, 100]")
	}
	return errors.Join(errs...)
}

func (c Config) judge() Kind {
	if c.Judge == "" {
		return KindMannWhitney
	}
	return c.Judge
}

// WithDefaults returns c with every default filled in (Weight stays nil:
// the scorer shares the unassigned weight among such groups).
func (c Config) WithDefaults() Config {
	c.Judge = c.judge()
	if c.Direction == "" {
		c.Direction = DirectionIncrease
		if c.Judge == KindMannWhitney {
			c.Direction = DirectionEither // Kayenta's default.
		}
	}
	usesEffect := c.Judge == KindMannWhitney || c.Judge == KindHistogram
	if c.EffectSize == "" && usesEffect {
		c.EffectSize = EffectMeanRatio
	}
	neutral := 1.0
	if c.EffectSize == EffectCLES {
		neutral = 0.5
	}
	if usesEffect || c.Judge == KindErrorRate {
		if c.AllowedIncrease == nil {
			c.AllowedIncrease = ptr(neutral)
		}
		if c.AllowedDecrease == nil {
			c.AllowedDecrease = ptr(neutral)
		}
	}
	if usesEffect {
		if c.CriticalIncrease == nil {
			c.CriticalIncrease = ptr(neutral)
		}
		if c.CriticalDecrease == nil {
			c.CriticalDecrease = ptr(neutral)
		}
	}
	if c.NaNStrategy == "" && (c.Judge == KindMannWhitney || c.Judge == KindSequential) {
		c.NaNStrategy = NaNRemove
	}
	if c.OutlierFactor == nil && c.Judge == KindMannWhitney {
		c.OutlierFactor = ptr(DefaultOutlierFactor)
	}
	if c.MinPoints == 0 {
		switch c.Judge {
		case KindMannWhitney:
			c.MinPoints = DefaultMinPoints
		case KindSequential:
			c.MinPoints = DefaultSequentialMinPoints
		}
	}
	if c.MinRequests == 0 && c.Judge != KindMannWhitney {
		c.MinRequests = DefaultMinRequests
	}
	if c.Alpha == 0 && c.Judge != KindMannWhitney {
		c.Alpha = DefaultAlpha
	}
	if c.Tau == 0 && c.Judge == KindSequential {
		c.Tau = DefaultTau
	}
	if c.Group == "" {
		c.Group = "default"
	}
	return c
}

// Map returns the flat-map form of c: ParseConfig(c.Map()) gives c back for
// a valid c. Only set fields appear.
func (c Config) Map() map[string]string {
	m := map[string]string{}
	str := func(k, v string) {
		if v != "" {
			m[k] = v
		}
	}
	flt := func(k string, v *float64) {
		if v != nil {
			m[k] = strconv.FormatFloat(*v, 'g', -1, 64)
		}
	}
	nz := func(k string, v float64) {
		if v != 0 {
			flt(k, &v)
		}
	}
	str(KeyJudge, string(c.Judge))
	str(KeyDirection, string(c.Direction))
	str(KeyEffectSize, string(c.EffectSize))
	str(KeyNaNStrategy, string(c.NaNStrategy))
	str(KeyGroup, c.Group)
	flt(KeyAllowedIncrease, c.AllowedIncrease)
	flt(KeyAllowedDecrease, c.AllowedDecrease)
	flt(KeyCriticalIncrease, c.CriticalIncrease)
	flt(KeyCriticalDecrease, c.CriticalDecrease)
	flt(KeyOutlierFactor, c.OutlierFactor)
	flt(KeyWeight, c.Weight)
	nz(KeyAlpha, c.Alpha)
	nz(KeyMargin, c.Margin)
	nz(KeyTau, c.Tau)
	nz(KeyMinRequests, c.MinRequests)
	if c.MinPoints != 0 {
		m[KeyMinPoints] = strconv.Itoa(c.MinPoints)
	}
	if c.Critical {
		m[KeyCritical] = "true"
	}
	if c.MustHaveData {
		m[KeyMustHaveData] = "true"
	}
	return m
}
