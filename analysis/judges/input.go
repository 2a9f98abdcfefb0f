package judges

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
)

// Input is what a judge compares: one metric's data for the canary and for
// the baseline (the primary running at the same time).
type Input struct {
	// Metric is the metric's name, copied into the Result.
	Metric string `json:"metric,omitempty"`
	// Canary is the canary's data.
	Canary Data `json:"canary"`
	// Baseline is the baseline's (primary's) data, of the same kind.
	Baseline Data `json:"baseline"`
}

// Data is one side's data. Exactly one field is used, chosen by the judge:
// Samples for mann-whitney (and sequential on means), Counts for error-rate
// (and sequential on proportions), Histogram for histogram.
type Data struct {
	// Samples are the metric's values (one per step of a range query).
	Samples Series `json:"samples,omitempty"`
	// Counts are the summed request and error counts.
	Counts *Counts `json:"counts,omitempty"`
	// Histogram is a Prometheus histogram's cumulative bucket counts.
	Histogram *Histogram `json:"histogram,omitempty"`
}

// Counts are summed request and error counts over the analysis window. They
// may be fractional (Prometheus increase() extrapolates).
type Counts struct {
	// Requests is the number of requests.
	Requests float64 `json:"requests"`
	// Errors is the number of failed requests (Errors ≤ Requests).
	Errors float64 `json:"errors"`
	// Steps optionally splits the counts by step (scrape interval or range
	// query step), in time order, the same steps on both sides. With two or
	// more steps the error-rate and sequential judges treat each step as a
	// cluster: they compare the sides within each step and widen the test
	// by the dispersion between steps (see docs/judges.md).
	Steps []Counts `json:"steps,omitempty"`
}

// Histogram is one side's Prometheus histogram over the analysis window:
// cumulative bucket counts as the _bucket series expose them (typically
// sum by (le) (increase(x_bucket[window]))), and optionally the _sum.
type Histogram struct {
	// Buckets are cumulative counts by upper bound; the +Inf bucket is required.
	Buckets []Bucket `json:"buckets"`
	// Sum is the optional sum of all observations (the _sum series); it makes the mean exact.
	Sum *float64 `json:"sum,omitempty"`
	// Steps optionally splits the buckets by step, in time order, the same
	// steps on both sides: Steps[i][k] is step i's cumulative count of
	// Buckets[k]. With two or more steps the histogram judge compares the
	// sides within each step and widens the test by the dispersion between
	// steps (see docs/judges.md).
	Steps [][]float64 `json:"steps,omitempty"`
}

// Bucket is one cumulative histogram bucket. In JSON the bound is written
// as Prometheus writes the le label: {"le": "0.25", "count": 17}, with
// "+Inf" for the last bucket.
type Bucket struct {
	// UpperBound is the bucket's le; math.Inf(1) for the +Inf bucket.
	UpperBound float64
	// Count is the number of observations ≤ UpperBound.
	Count float64
}

type bucketJSON struct {
	LE    string  `json:"le"`
	Count float64 `json:"count"`
}

// MarshalJSON writes the bucket with its bound as a Prometheus le string.
func (b Bucket) MarshalJSON() ([]byte, error) {
	if !finite(b.Count) {
		return nil, fmt.Errorf("bucket le=%s: count %v: %w", formatLE(b.UpperBound), b.Count, ErrInvalidInput)
	}
	return json.Marshal(bucketJSON{LE: formatLE(b.UpperBound), Count: b.Count})
}

// UnmarshalJSON reads {"le": "<bound>", "count": <n>}.
func (b *Bucket) UnmarshalJSON(data []byte) error {
	var raw bucketJSON
	if err := json.Unmarshal(data, &raw); err != nil {
		return fmt.Errorf("bucket: %w", err)
	}
	le, err := parseFloatToken(raw.LE)
	if err != nil {
		return fmt.Errorf("bucket le %q: %w", raw.LE, err)
	}
	b.UpperBound, b.Count = le, raw.Count
	return nil
}

func formatLE(v float64) string {
	switch {
	case math.IsInf(v, 1):
		return "+Inf"
	case math.IsInf(v, -1):
		return "-Inf"
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}

// parseFloatToken parses a number the way Prometheus writes sample values:
// decimal, "NaN", "+Inf", "-Inf" (and "Inf").
func parseFloatToken(s string) (float64, error) {
	switch s {
	case "NaN":
		return math.NaN(), nil
	case "+Inf", "Inf":
		return math.Inf(1), nil
	case "-Inf":
		return math.Inf(-1), nil
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return 0, fmt.Errorf("%w: %w", ErrInvalidInput, err)
	}
	return v, nil
}

// Series is a list of sample values. It encodes to JSON like a []float64,
// except that NaN and ±Inf are written as the strings "NaN", "+Inf" and
// "-Inf" (as Prometheus does); decoding accepts numbers and such strings.
type Series []float64

// MarshalJSON writes the values, spelling non-finite ones as strings.
func (s Series) MarshalJSON() ([]byte, error) {
	if s == nil {
		return []byte("null"), nil
	}
	var buf bytes.Buffer
	buf.WriteByte('[')
	for i, v := range s {
		if i > 0 {
			buf.WriteByte(',')
		}
		if finite(v) {
			buf.Write(strconv.AppendFloat(nil, v, 'g', -1, 64))
			continue
		}
		buf.WriteByte('"')
		if math.IsNaN(v) {
			buf.WriteString("NaN")
		} else {
			buf.WriteString(formatLE(v))
		}
		buf.WriteByte('"')
	}
	buf.WriteByte(']')
	return buf.Bytes(), nil
}

// UnmarshalJSON reads numbers, numeric strings, "NaN", "+Inf" and "-Inf".
func (s *Series) UnmarshalJSON(data []byte) error {
	var raw []json.RawMessage
	if err := json.Unmarshal(data, &raw); err != nil {
		return fmt.Errorf("samples: %w", err)
	}
	if raw == nil {
		*s = nil
		return nil
	}
	out := make(Series, len(raw))
	for i, r := range raw {
		var v float64
		if err := json.Unmarshal(r, &v); err == nil {
			out[i] = v
			continue
		}
		var str string
		if err := json.Unmarshal(r, &str); err != nil {
			return fmt.Errorf("samples[%d]: %w: not a number or string", i, ErrInvalidInput)
		}
		f, err := parseFloatToken(str)
		if err != nil {
			return fmt.Errorf("samples[%d]: %w", i, err)
		}
		out[i] = f
	}
	*s = out
	return nil
}
