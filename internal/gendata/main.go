package main

import (
	"bufio"
	"bytes"
	"flag"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"time"
)

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "gendata:", err)
		os.Exit(1)
	}
}

// defaultSeed is the seed of the committed datasets.
const defaultSeed = 20261101

func run(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("gendata", flag.ContinueOnError)
	fs.SetOutput(stdout)
	out := fs.String("out", filepath.Join("testdata", "podinfo"), "directory to write the .om files into (must exist)")
	seed := fs.Uint64("seed", defaultSeed, "random seed")
	dur := fs.Duration("duration", window, "length of the analysis window (counters start 2m earlier); the committed datasets use the default")
	pods := fs.Int("pods", 0, "pods per workload, each with its own series (pod label) and a share of the load; 0 writes one series set per workload without a pod label")
	only := fs.String("only", "", "write only this dataset file (e.g. healthy.om)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	cfg := config{seed: *seed, window: *dur, pods: *pods}
	if err := cfg.check(); err != nil {
		return err
	}
	wrote := false
	for _, ds := range datasets() {
		if *only != "" && ds.file != *only {
			continue
		}
		wrote = true
		path := filepath.Join(*out, ds.file)
		n, err := writeFile(path, func(w io.Writer) error { return renderTo(w, cfg.tallies(ds), cfg.scrapes()) })
		if err != nil {
			return fmt.Errorf("writing dataset: %w", err)
		}
		fmt.Fprintf(stdout, "wrote %s (%d bytes)\n", path, n)
	}
	if !wrote {
		return fmt.Errorf("-only %q: no such dataset", *only)
	}
	return nil
}

// maxWindow and maxPods bound the generated data (a week, 100 pods per workload).
const (
	maxWindow = 7 * 24 * time.Hour
	maxPods   = 100
)

// config is what one generation depends on.
type config struct {
	seed   uint64
	window time.Duration
	pods   int
}

func (c config) check() error {
	switch {
	case c.window < scrapeInterval || c.window > maxWindow:
		return fmt.Errorf("-duration %s: must be between %s and %s", c.window, scrapeInterval, maxWindow)
	case c.pods < 0 || c.pods > maxPods:
		return fmt.Errorf("-pods %d: must be between 0 and %d", c.pods, maxPods)
	}
	return nil
}

// writeFile writes path through a buffer filled by fill; it returns the size.
// The file is written beside path and renamed over it, so a reader (a test
// of another package running while goldens are rewritten) sees the old file
// or the new one, never a half-written one.
func writeFile(path string, fill func(io.Writer) error) (int64, error) {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return 0, err
	}
	tmp := f.Name()
	cw := &countWriter{w: f}
	bw := bufio.NewWriterSize(cw, 1<<20)
	err = fill(bw)
	if err == nil {
		err = bw.Flush()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(tmp, 0o644)
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
	}
	return cw.n, err
}

type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// The time grid. The analysis window is [analysisStart, analysisStart+window];
// counters start lead earlier so that the first rate([1m]) has data. Samples
// are scraped every scrapeInterval at scrapeOffset past each grid point, so
// no sample lies on a minute or half-minute boundary: Prometheus 2.x (closed
// range) and 3.x (left-open range) then give identical rate() results.
var analysisStart = time.Date(2026, 11, 1, 10, 0, 0, 0, time.UTC)

// climbTime is how long the not-found-climb canary's 404 share takes to reach 20%.
const climbTime = 6 * time.Minute

const (
	window         = 30 * time.Minute
	lead           = 2 * time.Minute
	scrapeInterval = 15 * time.Second
	scrapeOffset   = 7500 * time.Millisecond
	namespace      = "test"
	canary         = "podinfo"
	primary        = "podinfo-primary"
	// requestsPerMinute is the mean load on each workload: the canary's comes
	// from the flagger-loadtester, the primary's from real users through the
	// ingress gateway.
	requestsPerMinute = 450
	// warmup is how long the primary served traffic before the data starts;
	// its counters begin at what it accumulated.
	warmup = time.Hour
)

// scrapes returns the sample times.
func (c config) scrapes() []time.Time {
	var out []time.Time
	for t := analysisStart.Add(-lead + scrapeOffset); t.Before(analysisStart.Add(c.window)); t = t.Add(scrapeInterval) {
		out = append(out, t)
	}
	return out
}

// bucketBounds are Istio's default buckets for
// istio_request_duration_milliseconds; bucketLabels are their le values in
// the form Prometheus normalises them to.
var (
	bucketBounds = []float64{1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000, 60000, 300000, 600000, 1800000, 3600000, math.Inf(1)}
	bucketLabels = []string{"1.0", "5.0", "10.0", "25.0", "50.0", "100.0", "250.0", "500.0", "1000.0", "2500.0", "5000.0", "10000.0",
		"30000.0", "60000.0", "300000.0", "600000.0", "1.8e+06", "3.6e+06", "+Inf"}
)

// codes are the response codes every workload reports.
var codes = []string{"200", "404", "500"}

// behaviour is how one workload answers: shares of 404 and 500 responses
// (the 404 share may change over time) and a latency distribution.
type behaviour struct {
	notFound    func(since time.Duration) float64 // since: time since analysisStart
	serverError float64
	// Latency in ms: lognormal with median medianMs and log-sd sigma; with
	// probability slowShare a slow path adds uniform [slowMinMs, slowMaxMs).
	medianMs, sigma      float64
	slowShare            float64
	slowMinMs, slowMaxMs float64
	// loadSigma > 0 makes the load bursty: each scrape interval's mean
	// request count is multiplied by a lognormal factor with mean 1 and
	// log-sd loadSigma.
	loadSigma float64
}

func constant(v float64) func(time.Duration) float64 { return func(time.Duration) float64 { return v } }

// normal is how podinfo behaves: ~0.3% 404s, 0.05% 500s, median 18 ms,
// p99 ≈ 130 ms (histogram_quantile reports ≈ 180 ms).
var normal = behaviour{notFound: constant(0.003), serverError: 0.0005, medianMs: 18, sigma: 0.85}

// noisy is a noisier podinfo, the same on both sides of noisy-equal.om:
// bursty load (a lognormal factor with log-sd 0.25 per scrape interval), a
// wider latency spread (median 18 ms, log-sd 0.9), 2% of
// requests on a 100–250 ms slow path, 0.2% 500s.
var noisy = behaviour{notFound: constant(0.003), serverError: 0.002, medianMs: 18, sigma: 0.9,
	slowShare: 0.02, slowMinMs: 100, slowMaxMs: 250, loadSigma: 0.25}

// workload describes one destination workload in a dataset.
type workload struct {
	name     string
	pod      string // pod label; empty without -pods
	source   string // source_workload
	sourceNS string // source_workload_namespace
	start    int    // requests counted before the first sample
	share    int    // the load is divided among this many pods (0 or 1: all of it)
	b        behaviour
	// copyOf, when set, makes this workload serve exactly the requests the
	// named workload of the dataset serves (its counters start at 0).
	copyOf string
}

// dataset is one output file.
type dataset struct {
	file      string
	workloads []workload
}

func datasets() []dataset {
	prim := workload{name: primary, source: "istio-ingressgateway", sourceNS: "istio-system", start: int(warmup.Minutes() * requestsPerMinute), b: normal}
	can := func(b behaviour) workload {
		return workload{name: canary, source: "flagger-loadtester", sourceNS: namespace, b: b}
	}
	climb := normal
	// A regression that shows as traffic grows: the 404 share climbs from
	// 0.5% at the analysis start to 20% six minutes later, then stays.
	climb.notFound = func(since time.Duration) float64 {
		f := min(max(since.Seconds()/climbTime.Seconds(), 0), 1)
		return 0.005 + (0.20-0.005)*f
	}
	slow := normal
	slow.slowShare, slow.slowMinMs, slow.slowMaxMs = 0.06, 450, 900
	// Every request of the canary takes 10% longer: median 19.8 ms, p99 ≈
	// 143 ms, far inside a 500 ms threshold.
	regression := normal
	regression.medianMs *= 1.1
	twin := can(normal)
	twin.copyOf = primary
	noisyPrim := prim
	noisyPrim.b = noisy
	return []dataset{
		{file: "healthy.om", workloads: []workload{can(normal), prim}},
		{file: "not-found-climb.om", workloads: []workload{can(climb), prim}},
		{file: "slow.om", workloads: []workload{can(slow), prim}},
		{file: "no-traffic.om", workloads: []workload{prim}},
		{file: "latency-regression.om", workloads: []workload{can(regression), prim}},
		{file: "identical.om", workloads: []workload{twin, prim}},
		{file: "noisy-equal.om", workloads: []workload{can(noisy), noisyPrim}},
	}
}

// generate returns every dataset file by name for the committed window
// without pods. Each workload of each dataset draws from its own random
// stream, so datasets share their primary traffic.
func generate(seed uint64) map[string][]byte {
	cfg := config{seed: seed, window: window}
	out := map[string][]byte{}
	times := cfg.scrapes()
	for _, ds := range datasets() {
		var buf bytes.Buffer
		if err := renderTo(&buf, cfg.tallies(ds), times); err != nil {
			panic(err) // a bytes.Buffer does not fail
		}
		out[ds.file] = buf.Bytes()
	}
	return out
}

// expand returns the workloads of ds, each split into c.pods pods when
// c.pods > 0 (pod i of workload w is named w-7d4b9c8f5-<i> and draws from
// its own stream).
func (c config) expand(ds dataset) []workload {
	if c.pods == 0 {
		return ds.workloads
	}
	var out []workload
	for _, w := range ds.workloads {
		for i := range c.pods {
			p := w
			p.pod = fmt.Sprintf("%s-7d4b9c8f5-%d", w.name, i)
			p.start = w.start / c.pods
			p.share = c.pods
			if w.copyOf != "" {
				p.copyOf = fmt.Sprintf("%s-7d4b9c8f5-%d", w.copyOf, i)
			}
			out = append(out, p)
		}
	}
	return out
}

// key names a workload's tally: its pod, or its name without pods.
func (w workload) key() string {
	if w.pod != "" {
		return w.pod
	}
	return w.name
}

// tallies simulates every workload of ds.
func (c config) tallies(ds dataset) []*tally {
	times := c.scrapes()
	ws := c.expand(ds)
	byName := map[string]*tally{}
	for _, w := range ws {
		if w.copyOf != "" {
			continue
		}
		byName[w.key()] = simulate(w, times, newRNG(c.seed, w.key()))
	}
	series := make([]*tally, 0, len(ws))
	for _, w := range ws {
		t := byName[w.key()]
		if w.copyOf != "" {
			t = increments(byName[w.copyOf], w)
		}
		series = append(series, t)
	}
	return series
}

// increments returns a tally for w that counts exactly the requests src
// counts after its first sample: the same traffic, from zero.
func increments(src *tally, w workload) *tally {
	t := &tally{w: w, requests: map[string][]int{}, buckets: map[string][][]int{}, sums: map[string][]int{}}
	for _, c := range codes {
		for _, v := range src.requests[c] {
			t.requests[c] = append(t.requests[c], v-src.requests[c][0])
		}
		for _, v := range src.sums[c] {
			t.sums[c] = append(t.sums[c], v-src.sums[c][0])
		}
		for _, bs := range src.buckets[c] {
			row := make([]int, len(bs))
			for i, v := range bs {
				row[i] = v - src.buckets[c][0][i]
			}
			t.buckets[c] = append(t.buckets[c], row)
		}
	}
	return t
}

// tally holds one workload's cumulative counters at every sample time.
type tally struct {
	w workload
	// per code, per sample: requests, per-bucket cumulative counts, latency sum
	requests map[string][]int
	buckets  map[string][][]int // [code][sample][bucket]
	sums     map[string][]int
}

// simulate draws the requests a workload serves between consecutive scrapes.
func simulate(w workload, times []time.Time, r *rng) *tally {
	t := &tally{w: w, requests: map[string][]int{}, buckets: map[string][][]int{}, sums: map[string][]int{}}
	reqs := map[string]int{}
	sums := map[string]int{}
	buckets := map[string][]int{}
	for _, c := range codes {
		buckets[c] = make([]int, len(bucketBounds))
	}
	serve := func(since time.Duration) {
		code := "200"
		switch u := r.float(); {
		case u < w.b.serverError:
			code = "500"
		case u < w.b.serverError+w.b.notFound(since):
			code = "404"
		}
		ms := r.latency(w.b)
		reqs[code]++
		sums[code] += ms
		for i, le := range bucketBounds {
			if float64(ms) <= le {
				buckets[code][i]++
			}
		}
	}
	for range w.start {
		serve(-lead)
	}
	perScrape := requestsPerMinute * scrapeInterval.Minutes()
	if w.share > 1 {
		perScrape /= float64(w.share)
	}
	for i, at := range times {
		if i > 0 {
			lambda := perScrape
			if w.b.loadSigma > 0 {
				lambda *= math.Exp(w.b.loadSigma*r.normal() - w.b.loadSigma*w.b.loadSigma/2)
			}
			for range r.poisson(lambda) {
				serve(at.Sub(analysisStart))
			}
		}
		for _, c := range codes {
			t.requests[c] = append(t.requests[c], reqs[c])
			t.sums[c] = append(t.sums[c], sums[c])
			t.buckets[c] = append(t.buckets[c], slices.Clone(buckets[c]))
		}
	}
	return t
}

// rng is a PCG stream with hand-written derived distributions, so the output
// does not depend on how math/rand/v2 implements Float64 or NormFloat64.
type rng struct{ src *rand.PCG }

// newRNG seeds a stream per workload name.
func newRNG(seed uint64, name string) *rng {
	h := uint64(14695981039346656037) // FNV-1a of the name
	for i := 0; i < len(name); i++ {
		h ^= uint64(name[i])
		h *= 1099511628211
	}
	return &rng{src: rand.NewPCG(seed, h)}
}

// float returns a uniform value in [0, 1).
func (r *rng) float() float64 { return float64(r.src.Uint64()>>11) * 0x1p-53 }

// poisson draws a Poisson count with mean lambda by counting exponential
// inter-arrival times within one unit of time.
func (r *rng) poisson(lambda float64) int {
	n := 0
	for t := -math.Log(1-r.float()) / lambda; t < 1; t += -math.Log(1-r.float()) / lambda {
		n++
	}
	return n
}

// normal draws a standard normal value (Box–Muller).
func (r *rng) normal() float64 {
	u1, u2 := 1-r.float(), r.float()
	return math.Sqrt(-2*math.Log(u1)) * math.Cos(2*math.Pi*u2)
}

// latency draws one request's duration in whole milliseconds (at least 1).
func (r *rng) latency(b behaviour) int {
	ms := b.medianMs * math.Exp(b.sigma*r.normal())
	if b.slowShare > 0 && r.float() < b.slowShare {
		ms += b.slowMinMs + (b.slowMaxMs-b.slowMinMs)*r.float()
	}
	return max(1, int(math.Round(ms)))
}

// renderTo writes the OpenMetrics text: the counter family, then the histogram
// family, each series with all its samples in time order.
func renderTo(w io.Writer, ts []*tally, times []time.Time) error {
	buf := bufio.NewWriterSize(w, 64<<10)
	stamps := make([]string, len(times))
	for i, t := range times {
		stamps[i] = seconds(t)
	}
	line := func(name, labels string, v int, i int) {
		buf.WriteString(name)
		buf.WriteByte('{')
		buf.WriteString(labels)
		buf.WriteString("} ")
		buf.WriteString(strconv.Itoa(v))
		buf.WriteByte(' ')
		buf.WriteString(stamps[i])
		buf.WriteByte('\n')
	}
	buf.WriteString("# HELP istio_requests Total requests.\n# TYPE istio_requests counter\n")
	for _, t := range ts {
		for _, c := range codes {
			for i, v := range t.requests[c] {
				line("istio_requests_total", t.labels(c), v, i)
			}
		}
	}
	buf.WriteString("# HELP istio_request_duration_milliseconds Request duration in milliseconds.\n" +
		"# TYPE istio_request_duration_milliseconds histogram\n# UNIT istio_request_duration_milliseconds milliseconds\n")
	for _, t := range ts {
		for _, c := range codes {
			base := t.labels(c)
			for b, le := range bucketLabels {
				withLE := base + `,le="` + le + `"`
				for i, counts := range t.buckets[c] {
					line("istio_request_duration_milliseconds_bucket", withLE, counts[b], i)
				}
			}
			for i, v := range t.sums[c] {
				line("istio_request_duration_milliseconds_sum", base, v, i)
			}
			for i, v := range t.requests[c] {
				line("istio_request_duration_milliseconds_count", base, v, i)
			}
		}
	}
	buf.WriteString("# EOF\n")
	return buf.Flush()
}

// labels renders the Istio labels of a workload's series for a response code.
func (t *tally) labels(code string) string {
	s := `reporter="destination",source_workload="` + t.w.source + `",source_workload_namespace="` + t.w.sourceNS +
		`",destination_workload="` + t.w.name + `",destination_workload_namespace="` + namespace + `",response_code="` + code + `"`
	if t.w.pod != "" {
		s += `,pod="` + t.w.pod + `"`
	}
	return s
}

// seconds renders t as OpenMetrics seconds with at most millisecond precision.
func seconds(t time.Time) string {
	ms := t.UnixMilli()
	s := strconv.FormatInt(ms/1000, 10)
	if frac := ms % 1000; frac != 0 {
		f := strconv.FormatInt(1000+frac, 10)[1:] // three digits
		for f[len(f)-1] == '0' {
			f = f[:len(f)-1]
		}
		s += "." + f
	}
	return s
}
