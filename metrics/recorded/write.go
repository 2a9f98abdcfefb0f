package recorded

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/augurproj/augur/metrics"
)

// WriteOpenMetrics writes series as OpenMetrics text that ParseOpenMetrics
// and `promtool tsdb create-blocks-from openmetrics` read back as the same
// samples: one family per metric name (declared `# TYPE <name> unknown`,
// families and series in label order), every sample with its timestamp in
// seconds, and a final "# EOF". Every series needs a __name__ label; metric
// and label names must be classic Prometheus names, samples must strictly
// increase in time (at millisecond resolution), and staleness markers cannot
// be written (OpenMetrics has no way to express them). Labels with empty
// values and series without samples are left out.
func WriteOpenMetrics(w io.Writer, series []metrics.Series) error {
	type entry struct {
		lset labels.Labels
		in   int // index into series
	}
	families := map[string][]entry{}
	for i, s := range series {
		lset := labels.FromMap(s.Labels).WithoutEmpty()
		if err := checkWritable(lset, s.Samples); err != nil {
			return fmt.Errorf("writing OpenMetrics: series %d %s: %w", i, formatSeries(lset), err)
		}
		if len(s.Samples) == 0 {
			continue
		}
		name := lset.Get(labels.MetricName)
		families[name] = append(families[name], entry{lset, i})
	}
	names := make([]string, 0, len(families))
	for n := range families {
		names = append(names, n)
	}
	slices.Sort(names)

	bw := bufio.NewWriter(w)
	buf := make([]byte, 0, 256)
	for _, name := range names {
		fam := families[name]
		slices.SortFunc(fam, func(a, b entry) int { return labels.Compare(a.lset, b.lset) })
		for k := 1; k < len(fam); k++ {
			if labels.Equal(fam[k-1].lset, fam[k].lset) {
				return fmt.Errorf("writing OpenMetrics: series %d and %d have the same labels %s", fam[k-1].in, fam[k].in, formatSeries(fam[k].lset))
			}
		}
		buf = append(buf[:0], "# TYPE "...)
		buf = append(buf, name...)
		buf = append(buf, " unknown\n"...)
		if _, err := bw.Write(buf); err != nil {
			return fmt.Errorf("writing OpenMetrics: %w", err)
		}
		for _, e := range fam {
			prefix := appendSeries(nil, e.lset)
			for _, smp := range series[e.in].Samples {
				buf = append(buf[:0], prefix...)
				buf = append(buf, ' ')
				buf = appendValue(buf, smp.V)
				buf = append(buf, ' ')
				buf = append(buf, formatSeconds(smp.T.UnixMilli())...)
				buf = append(buf, '\n')
				if _, err := bw.Write(buf); err != nil {
					return fmt.Errorf("writing OpenMetrics: %w", err)
				}
			}
		}
	}
	if _, err := bw.WriteString("# EOF\n"); err != nil {
		return fmt.Errorf("writing OpenMetrics: %w", err)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("writing OpenMetrics: %w", err)
	}
	return nil
}

func checkWritable(lset labels.Labels, samples []metrics.Sample) error {
	name := lset.Get(labels.MetricName)
	if name == "" {
		return errors.New("no __name__ label")
	}
	if !validName(name, true) {
		return fmt.Errorf("metric name %q is not a classic Prometheus name", name)
	}
	var err error
	lset.Range(func(l labels.Label) {
		switch {
		case err != nil || l.Name == labels.MetricName:
		case !validName(l.Name, false):
			err = fmt.Errorf("label name %q is not a classic Prometheus name", l.Name)
		case !utf8.ValidString(l.Value):
			err = fmt.Errorf("label %s has a value that is not valid UTF-8", l.Name)
		}
	})
	if err != nil {
		return err
	}
	for j, smp := range samples {
		if IsStale(smp.V) {
			return fmt.Errorf("sample %d at %s is a staleness marker, which OpenMetrics cannot express", j, formatTime(smp.T.UnixMilli()))
		}
		if j > 0 && smp.T.UnixMilli() <= samples[j-1].T.UnixMilli() {
			return fmt.Errorf("sample %d: %w", j, &orderError{prev: samples[j-1].T.UnixMilli(), t: smp.T.UnixMilli()})
		}
	}
	return nil
}

// validName reports whether s matches [a-zA-Z_:][a-zA-Z0-9_:]* (metric names)
// or [a-zA-Z_][a-zA-Z0-9_]* (label names).
func validName(s string, metric bool) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		ok := c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (metric && c == ':') || (i > 0 && c >= '0' && c <= '9')
		if !ok {
			return false
		}
	}
	return true
}

// appendSeries appends name{a="b",c="d"} with OpenMetrics label escaping.
func appendSeries(buf []byte, lset labels.Labels) []byte {
	buf = append(buf, lset.Get(labels.MetricName)...)
	n := 0
	lset.Range(func(l labels.Label) {
		if l.Name == labels.MetricName {
			return
		}
		if n == 0 {
			buf = append(buf, '{')
		} else {
			buf = append(buf, ',')
		}
		n++
		buf = append(buf, l.Name...)
		buf = append(buf, `="`...)
		buf = append(buf, labelEscaper.Replace(l.Value)...)
		buf = append(buf, '"')
	})
	if n > 0 {
		buf = append(buf, '}')
	}
	return buf
}

var labelEscaper = strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`)

// appendValue appends v in a form OpenMetrics parsers read back exactly.
func appendValue(buf []byte, v float64) []byte {
	switch {
	case math.IsNaN(v):
		return append(buf, "NaN"...)
	case math.IsInf(v, 1):
		return append(buf, "+Inf"...)
	case math.IsInf(v, -1):
		return append(buf, "-Inf"...)
	}
	return strconv.AppendFloat(buf, v, 'g', -1, 64)
}
