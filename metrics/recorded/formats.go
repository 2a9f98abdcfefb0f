package recorded

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/augurproj/augur/metrics"
)

// wantedFormat says what recorded data augur reads and how to produce it; it
// ends every "wrong format" error.
const wantedFormat = "augur reads OpenMetrics text with a timestamp on every sample, ending in \"# EOF\" " +
	"(written by `augur record -f CANARY --prometheus URL --start -30m --out FILE` or " +
	"`promtool tsdb dump-openmetrics DIR`), or a Prometheus range-query answer " +
	"(`curl URL/api/v1/query_range?query=...&start=...&end=...&step=15s > FILE`)"

// LoadFile reads recorded data from path in either format augur accepts: a
// Prometheus range-query JSON answer (/api/v1/query_range, as Prometheus's
// HTTP API returns it, or its "data" member alone), or OpenMetrics text (see
// ParseOpenMetrics). A file in neither format is an error that says what the
// file looks like and what augur wants instead. Errors name the file.
func LoadFile(path string) (*Store, error) {
	return LoadFileWith(path, LoadOptions{})
}

// maxJSONBytes bounds a range-query JSON answer, which is read whole.
const maxJSONBytes = 256 << 20

// LoadFileWith is LoadFile with options. OpenMetrics text (plain or gzip)
// is streamed (see LoadOpenMetrics); a JSON answer is read whole, up to
// maxJSONBytes. The file's first bytes tell the formats apart.
func LoadFileWith(path string, opts LoadOptions) (*Store, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("recorded data: %w", err)
	}
	head := make([]byte, 64<<10)
	n, err := io.ReadFull(f, head)
	f.Close()
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("recorded data: %w", err)
	}
	head = head[:n]
	if t := bytes.TrimSpace(head); len(t) > 0 && t[0] == '{' {
		fi, err := os.Stat(path)
		if err != nil {
			return nil, fmt.Errorf("recorded data: %w", err)
		}
		if fi.Size() > maxJSONBytes {
			return nil, fmt.Errorf("%s: a JSON answer of %d bytes is over the %d-byte limit: record OpenMetrics text with `augur record` instead", path, fi.Size(), maxJSONBytes)
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("recorded data: %w", err)
		}
		s, err := ParseQueryRange(bytes.TrimSpace(data))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		return s, nil
	}
	s, err := LoadOpenMetricsFileWith(path, opts)
	if err != nil {
		if len(head) < 2 || head[0] != 0x1f || head[1] != 0x8b {
			if looks := describeData(head); looks != "" {
				return nil, fmt.Errorf("%s: this looks like %s, not recorded data: %s (the parser said: %w)", path, looks, wantedFormat, errors.Unwrap(err))
			}
		}
		return nil, fmt.Errorf("%w (%s)", err, wantedFormat)
	}
	return s, nil
}

// Parse reads recorded data in either format LoadFile accepts.
func Parse(data []byte) (*Store, error) {
	if t := bytes.TrimSpace(data); len(t) > 0 && t[0] == '{' {
		return ParseQueryRange(t)
	}
	s, err := ParseOpenMetrics(data)
	if err != nil {
		if looks := describeData(data); looks != "" {
			return nil, fmt.Errorf("this looks like %s, not recorded data: %s (the parser said: %w)", looks, wantedFormat, err)
		}
		return nil, fmt.Errorf("%w (%s)", err, wantedFormat)
	}
	return s, nil
}

var (
	yamlKey      = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_.-]*:(\s|$)`)
	untimedLine  = regexp.MustCompile(`^[A-Za-z_:][A-Za-z0-9_:]*(\{.*\})?\s+\S+$`)
	timedLine    = regexp.MustCompile(`^[A-Za-z_:][A-Za-z0-9_:]*(\{.*\})?\s+\S+\s+\S+$`)
	omTypeLine   = regexp.MustCompile(`^# (TYPE|HELP|UNIT) `)
	promqlSeries = regexp.MustCompile(`^[A-Za-z_:][A-Za-z0-9_:]*(\{.*\})?\s+[-+0-9.e]+(x[0-9]+|[+-][0-9.e]+x[0-9]+)`)
)

// describeData guesses what a file that failed to parse as OpenMetrics is.
func describeData(data []byte) string {
	var lines []string
	for _, l := range strings.Split(string(data), "\n") {
		l = strings.TrimSpace(l)
		if l == "" || (strings.HasPrefix(l, "#") && !omTypeLine.MatchString(l) && l != "# EOF") {
			continue
		}
		lines = append(lines, l)
		if len(lines) == 20 {
			break
		}
	}
	if len(lines) == 0 {
		return "an empty file (or one holding only comments)"
	}
	first := lines[0]
	switch {
	case first == "---" || strings.HasPrefix(first, "apiVersion:") || strings.HasPrefix(first, "kind:") || yamlKey.MatchString(first):
		return "YAML (a Kubernetes manifest or a test file?)"
	case first[0] == '[':
		return "JSON, but not a Prometheus range-query answer (want an object with data.resultType \"matrix\")"
	case first[0] == '<':
		return "HTML or XML"
	}
	var samples, untimed, series int
	for _, l := range lines {
		switch {
		case strings.HasPrefix(l, "#"):
		case promqlSeries.MatchString(l):
			series++
		case timedLine.MatchString(l):
			samples++
		case untimedLine.MatchString(l):
			samples++
			untimed++
		}
	}
	switch {
	case series > 0:
		return "promtool's series notation (`metric{...} 1+2x10`), which `augur test` files take as input_series, not --data"
	case samples > 0 && untimed == samples:
		return "Prometheus text without timestamps (a /metrics scrape): one value per series, with no time to evaluate it at"
	}
	return ""
}

// queryRangeAnswer is Prometheus's /api/v1/query_range answer, or its data member.
type queryRangeAnswer struct {
	Status string          `json:"status"`
	Error  string          `json:"error"`
	Data   *queryRangeData `json:"data"`
	queryRangeData
}

type queryRangeData struct {
	ResultType string `json:"resultType"`
	Result     []struct {
		Metric map[string]string `json:"metric"`
		Values [][2]any          `json:"values"`
		Value  []any             `json:"value"`
	} `json:"result"`
}

// ParseQueryRange reads a Prometheus range-query answer ("resultType":
// "matrix"): every series of the result with its samples. An instant-query
// answer (a vector: one sample per series) is refused, since a replay needs
// each series over time.
func ParseQueryRange(data []byte) (*Store, error) {
	var a queryRangeAnswer
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := dec.Decode(&a); err != nil {
		return nil, fmt.Errorf("this looks like JSON, but not a Prometheus range-query answer (%w): %s", err, wantedFormat)
	}
	if a.Status == "error" {
		return nil, fmt.Errorf("this is a Prometheus error answer (%q), not data: %s", a.Error, wantedFormat)
	}
	d := &a.queryRangeData
	if a.Data != nil {
		d = a.Data
	}
	switch d.ResultType {
	case "matrix":
	case "vector", "scalar", "string":
		return nil, fmt.Errorf("this is a Prometheus instant-query answer (resultType %q: one sample per series, no time range); "+
			"ask /api/v1/query_range instead: %s", d.ResultType, wantedFormat)
	case "":
		return nil, fmt.Errorf("this looks like JSON, but not a Prometheus range-query answer (no data.resultType): %s", wantedFormat)
	default:
		return nil, fmt.Errorf("unknown resultType %q: %s", d.ResultType, wantedFormat)
	}
	series := make([]metrics.Series, 0, len(d.Result))
	for i, r := range d.Result {
		if len(r.Metric) == 0 {
			return nil, fmt.Errorf("data.result[%d]: the series has no labels (a query like sum(...) without by() loses its name; record the raw series with `augur record` instead)", i)
		}
		s := metrics.Series{Labels: r.Metric, Samples: make([]metrics.Sample, 0, len(r.Values))}
		for j, v := range r.Values {
			t, val, err := queryRangeSample(v)
			if err != nil {
				return nil, fmt.Errorf("data.result[%d].values[%d]: %w", i, j, err)
			}
			s.Samples = append(s.Samples, metrics.Sample{T: t, V: val})
		}
		series = append(series, s)
	}
	st, err := FromSeries(series)
	if err != nil {
		return nil, fmt.Errorf("range-query answer: %w", err)
	}
	return st, nil
}

// queryRangeSample reads one [unix seconds, "value"] pair.
func queryRangeSample(v [2]any) (time.Time, float64, error) {
	n, ok := v[0].(json.Number)
	if !ok {
		return time.Time{}, 0, fmt.Errorf("timestamp %v is not a number", v[0])
	}
	sec, err := strconv.ParseFloat(n.String(), 64)
	if err != nil || math.IsNaN(sec) || math.IsInf(sec, 0) {
		return time.Time{}, 0, fmt.Errorf("timestamp %s is not a number", n)
	}
	s, ok := v[1].(string)
	if !ok {
		return time.Time{}, 0, errors.New("value is not a string (Prometheus quotes sample values)")
	}
	val, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return time.Time{}, 0, fmt.Errorf("value %q: %w", s, err)
	}
	return time.UnixMilli(int64(math.Round(sec * 1000))).UTC(), val, nil
}
