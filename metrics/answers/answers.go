// Package answers records what metrics providers answered — each rendered
// query's value or error at each evaluation time — into a JSON file, and
// replays such a file as providers, so the providers whose data augur cannot
// hold as Prometheus series (datadog, newrelic, dynatrace, graphite,
// influxdb, keptn, externalmetrics …) can be replayed and tested offline.
//
// A replayed query is answered only from the recording: the answer recorded
// at the evaluation time, else the latest one before it within the
// recording's step; anything else is an error naming the query and the time.
// Nothing is interpolated and no provider is called.
//
// It imports only the standard library and package metrics; it must not
// import the engine, the analysis core, a transport or a backend.
package answers

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strconv"
	"sync"
	"time"

	"github.com/augurproj/augur/metrics"
)

// Format is the value of a recording's "format" field.
const Format = "augur.answers/v1"

// MaxFile bounds a recording's size.
const MaxFile = 64 << 20

// Error kinds of a recorded error.
const (
	KindNoValues       = "no-values"
	KindMultipleValues = "multiple-values"
	KindError          = "error"
)

// Answer is one query's answer at one evaluation time.
type Answer struct {
	Type    string    `json:"type"`
	Address string    `json:"address,omitempty"`
	Query   string    `json:"query"`
	At      time.Time `json:"at"`
	// Value is the number, as text (NaN and ±Inf included), when there was no error.
	Value string `json:"value,omitempty"`
	// Error is the provider's error text and ErrorKind its meaning.
	Error     string `json:"error,omitempty"`
	ErrorKind string `json:"errorKind,omitempty"`
}

// Recording is a file of answers.
type Recording struct {
	Format string `json:"format"`
	// Step is the time between two recorded evaluations: a replay at a time
	// between two of them is answered by the earlier one.
	Step    Duration `json:"step"`
	Answers []Answer `json:"answers"`
}

// Duration is a time.Duration written as text ("1m0s").
type Duration time.Duration

// MarshalJSON writes the duration as text.
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(time.Duration(d).String()) }

// UnmarshalJSON reads a duration written as text.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("a duration as text, like \"1m\": %w", err)
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return err
	}
	*d = Duration(v)
	return nil
}

// Recorder collects answers; it is safe for concurrent use.
type Recorder struct {
	mu   sync.Mutex
	rec  Recording
	seen map[key]bool
}

type key struct {
	typ, address, query string
	at                  int64
}

// NewRecorder returns an empty recorder for evaluations step apart.
func NewRecorder(step time.Duration) *Recorder {
	return &Recorder{rec: Recording{Format: Format, Step: Duration(step)}, seen: map[key]bool{}}
}

// Add records one answer (the first answer for a query and time wins).
func (r *Recorder) Add(cfg metrics.Config, query string, at time.Time, v float64, err error) {
	a := Answer{Type: cfg.Type, Address: cfg.Address, Query: query, At: at.UTC()}
	switch {
	case err == nil:
		a.Value = strconv.FormatFloat(v, 'g', -1, 64)
	case errors.Is(err, metrics.ErrNoValues):
		a.Error, a.ErrorKind = err.Error(), KindNoValues
	case errors.Is(err, metrics.ErrMultipleValues):
		a.Error, a.ErrorKind = err.Error(), KindMultipleValues
	default:
		a.Error, a.ErrorKind = err.Error(), KindError
	}
	k := key{a.Type, a.Address, a.Query, a.At.UnixNano()}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.seen[k] {
		return
	}
	r.seen[k] = true
	r.rec.Answers = append(r.rec.Answers, a)
}

// Len is the number of answers recorded.
func (r *Recorder) Len() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.rec.Answers)
}

// Write writes the recording as indented JSON, answers sorted by type,
// address, query and time.
func (r *Recorder) Write(w io.Writer) error {
	r.mu.Lock()
	rec := r.rec
	rec.Answers = append([]Answer(nil), r.rec.Answers...)
	r.mu.Unlock()
	sort.SliceStable(rec.Answers, func(i, j int) bool {
		a, b := rec.Answers[i], rec.Answers[j]
		if a.Type != b.Type {
			return a.Type < b.Type
		}
		if a.Address != b.Address {
			return a.Address < b.Address
		}
		if a.Query != b.Query {
			return a.Query < b.Query
		}
		return a.At.Before(b.At)
	})
	b, err := json.MarshalIndent(rec, "", "  ")
	if err != nil {
		return err
	}
	_, err = w.Write(append(b, '\n'))
	return err
}

// Wrap wraps p so that every answer it gives is recorded under cfg.
func (r *Recorder) Wrap(cfg metrics.Config, p metrics.Provider) metrics.Provider {
	return recording{r: r, cfg: cfg, p: p}
}

// WrapAt is Wrap for a live evaluation: a query for "now" (a zero time) is
// recorded at now, the evaluation's time.
func (r *Recorder) WrapAt(cfg metrics.Config, p metrics.Provider, now time.Time) metrics.Provider {
	return recording{r: r, cfg: cfg, p: p, now: now}
}

type recording struct {
	r   *Recorder
	cfg metrics.Config
	p   metrics.Provider
	now time.Time
}

func (w recording) Query(ctx context.Context, q string, at time.Time) (float64, error) {
	v, err := w.p.Query(ctx, q, at)
	if ctx.Err() == nil {
		t := at
		if t.IsZero() {
			t = w.now
		}
		if !t.IsZero() {
			w.r.Add(w.cfg, q, t, v, err)
		}
	}
	return v, err
}

// AppendTo returns a recorder that adds to the recording in path (an empty
// one when there is no such file), whose step must be step.
func AppendTo(path string, step time.Duration) (*Recorder, error) {
	r := NewRecorder(step)
	b, err := os.ReadFile(path)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return r, nil
	case err != nil:
		return nil, err
	case len(b) > MaxFile:
		return nil, fmt.Errorf("%s: larger than %d bytes", path, MaxFile)
	}
	if _, err := Load(b, path); err != nil {
		return nil, err
	}
	var rec Recording
	if err := json.Unmarshal(b, &rec); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if time.Duration(rec.Step) != step {
		return nil, fmt.Errorf("%s: recorded every %s, this evaluation's step is %s", path, time.Duration(rec.Step), step)
	}
	for _, a := range rec.Answers {
		r.seen[key{a.Type, a.Address, a.Query, a.At.UnixNano()}] = true
		r.rec.Answers = append(r.rec.Answers, a)
	}
	return r, nil
}

// Set is a loaded recording, indexed for replay.
type Set struct {
	file  string
	step  time.Duration
	types map[string]bool
	// series maps type, address and query to answers sorted by time.
	series map[key][]Answer
}

// LoadFile reads a recording.
func LoadFile(path string) (*Set, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, MaxFile+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if len(b) > MaxFile {
		return nil, fmt.Errorf("%s: larger than %d bytes", path, MaxFile)
	}
	return Load(b, path)
}

// Load reads a recording from b; name names it in errors.
func Load(b []byte, name string) (*Set, error) {
	var rec Recording
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&rec); err != nil {
		return nil, fmt.Errorf("%s: not an answers recording (augur record --answers-out writes one): %w", name, err)
	}
	if rec.Format != Format {
		return nil, fmt.Errorf("%s: format %q, want %q", name, rec.Format, Format)
	}
	if rec.Step <= 0 {
		return nil, fmt.Errorf("%s: step %s must be positive", name, time.Duration(rec.Step))
	}
	s := &Set{file: name, step: time.Duration(rec.Step), types: map[string]bool{}, series: map[key][]Answer{}}
	for i, a := range rec.Answers {
		where := fmt.Sprintf("%s: answers[%d]", name, i)
		if a.Type == "" || a.Query == "" || a.At.IsZero() {
			return nil, fmt.Errorf("%s: type, query and at are required", where)
		}
		switch {
		case a.Error == "" && a.ErrorKind == "":
			if _, err := strconv.ParseFloat(a.Value, 64); err != nil {
				return nil, fmt.Errorf("%s: value %q: %w", where, a.Value, err)
			}
		case a.Value != "":
			return nil, fmt.Errorf("%s: both a value and an error", where)
		case a.ErrorKind != KindNoValues && a.ErrorKind != KindMultipleValues && a.ErrorKind != KindError:
			return nil, fmt.Errorf("%s: errorKind %q, want %s, %s or %s", where, a.ErrorKind, KindNoValues, KindMultipleValues, KindError)
		}
		k := key{a.Type, a.Address, a.Query, 0}
		s.types[a.Type] = true
		s.series[k] = append(s.series[k], a)
	}
	for k, list := range s.series {
		sort.SliceStable(list, func(i, j int) bool { return list[i].At.Before(list[j].At) })
		for i := 1; i < len(list); i++ {
			if list[i].At.Equal(list[i-1].At) {
				return nil, fmt.Errorf("%s: two answers for %s query %q at %s", name, k.typ, k.query, list[i].At.Format(time.RFC3339Nano))
			}
		}
	}
	return s, nil
}

// Types lists the provider types the recording holds answers of, sorted.
func (s *Set) Types() []string {
	out := make([]string, 0, len(s.types))
	for t := range s.types {
		out = append(out, t)
	}
	sort.Strings(out)
	return out
}

// Register makes every type of the recording answer from it in r.
func (s *Set) Register(r *metrics.Registry) {
	for t := range s.types {
		r.Register(t, func(c metrics.Config) (metrics.Provider, error) {
			return replay{s: s, typ: c.Type, address: c.Address}, nil
		})
	}
}

type replay struct {
	s            *Set
	typ, address string
}

// ErrNotRecorded is wrapped by the error for a query or time the recording lacks.
var ErrNotRecorded = errors.New("not in the answers recording")

// recordedError is a recorded error: its text, and the sentinel of its kind.
type recordedError struct {
	text string
	kind error
}

func (e *recordedError) Error() string { return e.text }
func (e *recordedError) Unwrap() error { return e.kind }

func (p replay) Query(_ context.Context, q string, at time.Time) (float64, error) {
	list := p.s.series[key{p.typ, p.address, q, 0}]
	if len(list) == 0 {
		return 0, fmt.Errorf("%s query %q (address %q): %w %s", p.typ, q, p.address, ErrNotRecorded, p.s.file)
	}
	if at.IsZero() {
		return 0, fmt.Errorf("%s query %q: a replayed answer needs an evaluation time (recorded %s to %s)", p.typ, q,
			list[0].At.Format(time.RFC3339), list[len(list)-1].At.Format(time.RFC3339))
	}
	i := sort.Search(len(list), func(i int) bool { return list[i].At.After(at) }) - 1
	if i < 0 || at.Sub(list[i].At) >= p.s.step {
		return 0, fmt.Errorf("%s query %q at %s: %w %s (it holds %s to %s, every %s)", p.typ, q, at.UTC().Format(time.RFC3339Nano),
			ErrNotRecorded, p.s.file, list[0].At.Format(time.RFC3339), list[len(list)-1].At.Format(time.RFC3339), p.s.step)
	}
	a := list[i]
	switch a.ErrorKind {
	case "":
		v, _ := strconv.ParseFloat(a.Value, 64)
		return v, nil
	case KindNoValues:
		return 0, &recordedError{a.Error, metrics.ErrNoValues}
	case KindMultipleValues:
		return 0, &recordedError{a.Error, metrics.ErrMultipleValues}
	}
	return 0, &recordedError{a.Error, nil}
}
