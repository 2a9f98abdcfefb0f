// Package splunk is the Splunk Observability Cloud (SignalFx) metrics
// provider of Flagger's MetricTemplate type "splunk": the query is a
// SignalFlow program, run once over the ten metric intervals before the
// evaluation time through SignalFlow's websocket API, and read as the
// newest value of the one returned time series, as Flagger v1.44.0 reads
// it (with signalfx's signalflow client).
//
// It speaks the SignalFlow protocol itself over gorilla/websocket (JSON
// text messages, binary data messages) and package httpapi for IsOnline;
// it must not import a SignalFx SDK, the engine or the analysis core.
package splunk

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/gorilla/websocket"

	"github.com/augurproj/augur/metrics"
	"github.com/augurproj/augur/metrics/httpapi"
	"github.com/augurproj/augur/redact"
)

// Type is the MetricTemplate provider type.
const Type = "splunk"

// Flagger's paths, secret key, header and window multiplier.
const (
	signalFlowPath = "/v2/signalflow"
	validationPath = "/v2/metric?limit=1"
	TokenKey       = "sf_token_key"
	tokenHeader    = "X-SF-Token"
	windowFactor   = 10
	// channel is the name the SignalFlow client gives its first computation.
	channel = "ch-1"
	// maxMessage caps one websocket message; maxPoints caps the points
	// kept from one computation.
	maxMessage = httpapi.MaxBody
	maxPoints  = 1 << 20
)

// Provider runs SignalFlow programs against one realm.
type Provider struct {
	stream   *url.URL // wss://stream.<realm>.signalfx.com/v2/signalflow/connect
	validate *url.URL // https://api.<realm>.signalfx.com/v2/metric?limit=1
	token    string
	timeout  time.Duration
	window   time.Duration
	dialer   *websocket.Dialer
	client   *httpapi.Client
	secrets  *redact.Set // the token: never in an error text
}

var _ metrics.Provider = (*Provider)(nil)

// Register adds the "splunk" constructor to r.
func Register(r *metrics.Registry) {
	r.Register(Type, func(cfg metrics.Config) (metrics.Provider, error) { return New(cfg) })
}

// New builds a provider. The address is required and is turned into the
// stream and API endpoints as Flagger turns it: "http"→"ws" and
// "api"→"stream" (first occurrences) for the stream; "ws"→"http" and
// "stream"→"api" for the API, so either endpoint may be given.
func New(cfg metrics.Config) (*Provider, error) {
	if cfg.Address == "" {
		return nil, errors.New("splunk endpoint is not set")
	}
	token, ok := cfg.Credentials[TokenKey]
	if !ok {
		return nil, fmt.Errorf("splunk credentials does not contain %s", TokenKey)
	}
	streamAddr := strings.Replace(strings.Replace(cfg.Address+signalFlowPath, "http", "ws", 1), "api", "stream", 1)
	stream, err := url.Parse(streamAddr)
	if err != nil || stream.Scheme != "ws" && stream.Scheme != "wss" || stream.Host == "" {
		return nil, fmt.Errorf("splunk address %s is not a valid URL (want https://api.<realm>.signalfx.com or wss://stream.<realm>.signalfx.com)",
			httpapi.RedactAddress(cfg.Address))
	}
	stream.Path += "/connect"
	stream.RawPath = ""
	validate, err := url.Parse(strings.Replace(strings.Replace(cfg.Address+validationPath, "ws", "http", 1), "stream", "api", 1))
	if err != nil {
		return nil, fmt.Errorf("splunk address %s is not a valid URL", httpapi.RedactAddress(cfg.Address))
	}
	timeout := cfg.Timeout
	if timeout <= 0 {
		timeout = httpapi.DefaultTimeout
	}
	d := *websocket.DefaultDialer
	d.Proxy = http.ProxyFromEnvironment
	if cfg.InsecureSkipVerify {
		d.TLSClientConfig = insecureTLS()
	}
	h := httpapi.Header(cfg.Headers)
	h.Set(tokenHeader, token)
	secrets := redact.New(nil)
	secrets.Add(token)
	return &Provider{secrets: secrets,
		stream: stream, validate: validate, token: token, timeout: timeout,
		window: windowFactor * httpapi.Interval(cfg.Interval), dialer: &d,
		client: httpapi.New(httpapi.Options{Timeout: cfg.Timeout, Insecure: cfg.InsecureSkipVerify,
			Header: h, Secrets: []string{token}, OnlyOK: true}),
	}, nil
}

// StreamURL is the websocket URL queries connect to.
func (p *Provider) StreamURL() *url.URL { u := *p.stream; return &u }

// executeRequest is SignalFlow's execute message, field for field (and in
// the order) the signalflow client writes it.
type executeRequest struct {
	Type       string `json:"type"`
	Program    string `json:"program"`
	Channel    string `json:"channel"`
	Start      int64  `json:"start"`
	Stop       int64  `json:"stop"`
	Resolution int64  `json:"resolution"`
	MaxDelay   int64  `json:"maxDelay"`
	Immediate  bool   `json:"immediate"`
	Timezone   string `json:"timezone"`
}

// Execute is the execute message a query at `at` sends: the program over
// [at-10×interval, at] in Unix milliseconds, immediate (the computation
// ends once the window is computed).
func (p *Provider) Execute(query string, at time.Time) []byte {
	stop := httpapi.Now(at).UnixMilli()
	b, _ := json.Marshal(executeRequest{Type: "execute", Program: query, Channel: channel,
		Start: stop - p.window.Milliseconds(), Stop: stop, Immediate: true})
	return b
}

// Query runs the program and returns the newest value of its one time
// series. No value (or NaN) is metrics.ErrNoValues; values of several time
// series are metrics.ErrMultipleValues, as in Flagger. A SignalFlow error,
// an aborted computation, a connection lost before the end of the channel
// or a data message that does not parse is an error.
func (p *Provider) Query(ctx context.Context, query string, at time.Time) (float64, error) {
	ctx, cancel := context.WithTimeout(ctx, p.timeout)
	defer cancel()
	pts, err := p.run(ctx, p.Execute(query, at))
	if err != nil {
		return 0, p.scrub(fmt.Errorf("splunk query %q: %w", query, err))
	}
	if len(pts) == 0 {
		return 0, fmt.Errorf("splunk query %q: %w", query, metrics.ErrNoValues)
	}
	first := pts[0].tsid
	for _, pt := range pts {
		if pt.tsid != first {
			return 0, fmt.Errorf("splunk query %q: several time series: %w", query, metrics.ErrMultipleValues)
		}
	}
	v := pts[len(pts)-1].value
	if math.IsNaN(v) {
		return 0, fmt.Errorf("splunk query %q: NaN: %w", query, metrics.ErrNoValues)
	}
	return v, nil
}

// run connects, authenticates, executes and reads the channel to its end.
func (p *Provider) run(ctx context.Context, execute []byte) ([]point, error) {
	conn, resp, err := p.dialer.DialContext(ctx, p.stream.String(), nil)
	if resp != nil && resp.Body != nil {
		_ = resp.Body.Close()
	}
	if err != nil {
		if resp != nil {
			return nil, fmt.Errorf("connecting to %s: %w (HTTP %s)", p.stream.Redacted(), err, resp.Status)
		}
		return nil, p.ctxErr(ctx, fmt.Errorf("connecting to %s: %w", p.stream.Redacted(), err))
	}
	defer conn.Close()
	conn.SetReadLimit(maxMessage)
	// The deadline bounds every read and write; cancelling ctx closes the
	// connection so a blocked read returns.
	if d, ok := ctx.Deadline(); ok {
		_ = conn.SetReadDeadline(d)
		_ = conn.SetWriteDeadline(d)
	}
	stop := context.AfterFunc(ctx, func() { _ = conn.Close() })
	defer stop()
	auth, _ := json.Marshal(struct {
		Type  string `json:"type"`
		Token string `json:"token"`
	}{"authenticate", p.token})
	for _, m := range [][]byte{auth, execute} {
		if err := conn.WriteMessage(websocket.TextMessage, m); err != nil {
			return nil, p.ctxErr(ctx, fmt.Errorf("sending to SignalFlow: %w", err))
		}
	}
	var pts []point
	for {
		typ, msg, err := conn.ReadMessage()
		if err != nil {
			return nil, p.ctxErr(ctx, fmt.Errorf("reading SignalFlow answer before the end of the channel: %w", err))
		}
		if typ == websocket.BinaryMessage {
			ch, got, err := parseData(msg)
			if err != nil {
				return nil, err
			}
			if ch == channel {
				if len(pts)+len(got) > maxPoints {
					return nil, fmt.Errorf("SignalFlow answer has more than %d points", maxPoints)
				}
				pts = append(pts, got...)
			}
			continue
		}
		done, err := control(msg)
		if err != nil || done {
			return pts, err
		}
	}
}

// ctxErr prefers the context's error (a timeout) over the connection's;
// the connection's deadline is the context's.
func (p *Provider) ctxErr(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return fmt.Errorf("%w (%w)", ctx.Err(), err)
	}
	if errors.Is(err, os.ErrDeadlineExceeded) {
		return fmt.Errorf("%w (%w)", context.DeadlineExceeded, err)
	}
	return err
}

// textMessage is the part of SignalFlow's JSON messages augur reads.
type textMessage struct {
	Type      string `json:"type"`
	Channel   string `json:"channel"`
	Event     string `json:"event"`
	Error     any    `json:"error"`
	ErrorType string `json:"errorType"`
	Message   string `json:"message"`
	AbortInfo any    `json:"abortInfo"`
}

// control reads one text message: done at the end of augur's channel, an
// error for a SignalFlow error or an aborted computation.
func control(msg []byte) (done bool, err error) {
	var m textMessage
	if err := json.Unmarshal(msg, &m); err != nil {
		return false, fmt.Errorf("SignalFlow sent a text message that is not JSON: %w", err)
	}
	if m.Channel != "" && m.Channel != channel {
		return false, nil
	}
	switch {
	case m.Type == "error":
		code := fmt.Sprint(m.Error)
		if m.ErrorType != "" {
			code += " (" + m.ErrorType + ")"
		}
		return false, fmt.Errorf("SignalFlow error %s: %s", code, m.Message)
	case m.Type == "control-message" && m.Event == "END_OF_CHANNEL":
		return true, nil
	case m.Type == "control-message" && m.Event == "CHANNEL_ABORT":
		info, _ := json.Marshal(m.AbortInfo)
		return false, fmt.Errorf("SignalFlow aborted the computation: %s", info)
	}
	return false, nil
}

// IsOnline checks the token against the metrics API (GET
// /v2/metric?limit=1 with X-SF-Token), as Flagger does: only 200 is online.
func (p *Provider) IsOnline(ctx context.Context) error {
	if _, err := p.client.Get(ctx, p.validate); err != nil {
		return fmt.Errorf("splunk: %w", err)
	}
	return nil
}

// scrub rewrites err's text without the token, keeping its chain for
// errors.Is and errors.As.
func (p *Provider) scrub(err error) error { return p.secrets.Error(err) }
