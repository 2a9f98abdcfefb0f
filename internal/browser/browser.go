// Package browser drives a real, headless Chromium over the DevTools
// protocol to check augur's HTML reports: it opens a page from the file
// system with the network disabled and reports console errors, failed or
// off-machine requests, the size of every chart, and screenshots. It is a
// test helper (used by tests only) and needs nothing but the standard
// library and a `chromium` binary: the protocol runs over the pipe of
// --remote-debugging-pipe (NUL-separated JSON on file descriptors 3 and 4),
// so there is no websocket, no port and no extra Go module.
//
// It must not import any other augur package.
package browser

import (
	"bufio"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
)

// Flags are the Chromium flags every session uses: headless, no sandbox
// (containers), no GPU, and nothing that talks to the network by itself.
var Flags = []string{
	"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
	"--disable-background-networking", "--disable-component-update", "--disable-sync",
	"--disable-default-apps", "--disable-extensions", "--mute-audio", "--hide-scrollbars",
	"--remote-debugging-pipe",
}

// Find returns the Chromium binary: $AUGUR_CHROMIUM, else chromium or
// chromium-browser on $PATH.
func Find() (string, error) {
	if p := os.Getenv("AUGUR_CHROMIUM"); p != "" {
		return p, nil
	}
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p, nil
		}
	}
	return "", errors.New("no chromium on $PATH (apt-get install chromium, or set AUGUR_CHROMIUM)")
}

// Browser is one running Chromium with a fresh profile.
type Browser struct {
	cmd    *exec.Cmd
	w      io.WriteCloser
	mu     sync.Mutex
	nextID int
	calls  map[int]chan message
	events chan message
	done   chan struct{}
	stderr *strings.Builder
}

type message struct {
	ID        int             `json:"id,omitempty"`
	Method    string          `json:"method,omitempty"`
	Params    json.RawMessage `json:"params,omitempty"`
	Result    json.RawMessage `json:"result,omitempty"`
	Error     *cdpError       `json:"error,omitempty"`
	SessionID string          `json:"sessionId,omitempty"`
}

type cdpError struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
}

// Start launches Chromium with a fresh profile in profileDir.
func Start(ctx context.Context, bin, profileDir string) (*Browser, error) {
	toChrome, ours, err := os.Pipe() // chrome reads fd 3
	if err != nil {
		return nil, fmt.Errorf("browser pipe: %w", err)
	}
	theirs, fromChrome, err := os.Pipe() // chrome writes fd 4
	if err != nil {
		return nil, fmt.Errorf("browser pipe: %w", err)
	}
	args := append(append([]string{}, Flags...), "--user-data-dir="+profileDir, "about:blank")
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.ExtraFiles = []*os.File{toChrome, fromChrome}
	stderr := &strings.Builder{}
	cmd.Stderr = &limitedWriter{b: stderr, n: 64 << 10}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting %s: %w", bin, err)
	}
	_ = toChrome.Close()
	_ = fromChrome.Close()
	b := &Browser{cmd: cmd, w: ours, calls: map[int]chan message{}, events: make(chan message, 4096), done: make(chan struct{}), stderr: stderr}
	go b.read(theirs)
	return b, nil
}

type limitedWriter struct {
	mu sync.Mutex
	b  *strings.Builder
	n  int
}

func (l *limitedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if room := l.n - l.b.Len(); room > 0 {
		l.b.Write(p[:min(len(p), room)])
	}
	return len(p), nil
}

func (b *Browser) read(r io.ReadCloser) {
	defer close(b.done)
	defer r.Close()
	br := bufio.NewReaderSize(r, 1<<20)
	for {
		raw, err := br.ReadBytes(0)
		if err != nil {
			return
		}
		var m message
		if err := json.Unmarshal(raw[:len(raw)-1], &m); err != nil {
			continue
		}
		if m.ID != 0 {
			b.mu.Lock()
			ch := b.calls[m.ID]
			delete(b.calls, m.ID)
			b.mu.Unlock()
			if ch != nil {
				ch <- m
			}
			continue
		}
		select {
		case b.events <- m:
		default: // a flood of events: drop rather than block the reader
		}
	}
}

// Call sends one command (to the browser when session is "") and decodes its result.
func (b *Browser) Call(ctx context.Context, session, method string, params, result any) error {
	b.mu.Lock()
	b.nextID++
	id := b.nextID
	ch := make(chan message, 1)
	b.calls[id] = ch
	b.mu.Unlock()
	p, err := json.Marshal(params)
	if err != nil {
		return fmt.Errorf("%s: %w", method, err)
	}
	msg, err := json.Marshal(struct {
		ID        int             `json:"id"`
		Method    string          `json:"method"`
		Params    json.RawMessage `json:"params,omitempty"`
		SessionID string          `json:"sessionId,omitempty"`
	}{id, method, p, session})
	if err != nil {
		return fmt.Errorf("%s: %w", method, err)
	}
	if _, err := b.w.Write(append(msg, 0)); err != nil {
		return fmt.Errorf("%s: writing to the browser: %w", method, err)
	}
	select {
	case m := <-ch:
		if m.Error != nil {
			return fmt.Errorf("%s: %s (%d)", method, m.Error.Message, m.Error.Code)
		}
		if result != nil {
			if err := json.Unmarshal(m.Result, result); err != nil {
				return fmt.Errorf("%s: decoding the result: %w", method, err)
			}
		}
		return nil
	case <-b.done:
		return fmt.Errorf("%s: the browser exited: %s", method, b.stderr.String())
	case <-ctx.Done():
		return fmt.Errorf("%s: %w", method, ctx.Err())
	}
}

// Close ends the browser.
func (b *Browser) Close() error {
	_ = b.Call(context.Background(), "", "Browser.close", struct{}{}, nil)
	_ = b.w.Close()
	<-b.done
	return b.cmd.Wait()
}

// Chart is one chart's rendered size.
type Chart struct {
	ID     string  `json:"id"`
	Width  float64 `json:"width"`
	Height float64 `json:"height"`
}

// Result is what loading one page showed.
type Result struct {
	// Problems are console errors, exceptions, failed requests and
	// requests that left the file system.
	Problems []string
	// Requests are every URL the page asked for.
	Requests []string
	// Charts are the sizes of every svg.chart.
	Charts []Chart
	// Title is document.title.
	Title string
	// Light and Dark are full-page PNG screenshots in each colour scheme.
	Light, Dark []byte
	// PDF is the page printed (print CSS).
	PDF []byte
}

// Open loads url (a file:// URL) in a new tab with the network switched
// off and reports what happened.
func (b *Browser) Open(ctx context.Context, url string) (*Result, error) {
	var tgt struct {
		TargetID string `json:"targetId"`
	}
	if err := b.Call(ctx, "", "Target.createTarget", map[string]any{"url": "about:blank"}, &tgt); err != nil {
		return nil, err
	}
	var att struct {
		SessionID string `json:"sessionId"`
	}
	if err := b.Call(ctx, "", "Target.attachToTarget", map[string]any{"targetId": tgt.TargetID, "flatten": true}, &att); err != nil {
		return nil, err
	}
	s := att.SessionID
	for _, m := range []string{"Runtime.enable", "Log.enable", "Network.enable", "Page.enable"} {
		if err := b.Call(ctx, s, m, struct{}{}, nil); err != nil {
			return nil, err
		}
	}
	if err := b.Call(ctx, s, "Network.emulateNetworkConditions", map[string]any{
		"offline": true, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1}, nil); err != nil {
		return nil, err
	}
	if err := b.Call(ctx, s, "Emulation.setDeviceMetricsOverride", map[string]any{
		"width": 1200, "height": 900, "deviceScaleFactor": 1, "mobile": false}, nil); err != nil {
		return nil, err
	}
	res := &Result{}
	var nav struct {
		ErrorText string `json:"errorText"`
	}
	if err := b.Call(ctx, s, "Page.navigate", map[string]any{"url": url}, &nav); err != nil {
		return nil, err
	}
	if nav.ErrorText != "" {
		return nil, fmt.Errorf("opening %s: %s", url, nav.ErrorText)
	}
	if err := b.collect(ctx, s, res); err != nil {
		return nil, err
	}
	var ev struct {
		Result struct {
			Value string `json:"value"`
		} `json:"result"`
	}
	const probe = `JSON.stringify({title: document.title, charts: Array.from(document.querySelectorAll("svg.chart")).map(e => {const r = e.getBoundingClientRect(); return {id: e.id, width: r.width, height: r.height}})})`
	if err := b.Call(ctx, s, "Runtime.evaluate", map[string]any{"expression": probe, "returnByValue": true}, &ev); err != nil {
		return nil, err
	}
	var probed struct {
		Title  string  `json:"title"`
		Charts []Chart `json:"charts"`
	}
	if err := json.Unmarshal([]byte(ev.Result.Value), &probed); err != nil {
		return nil, fmt.Errorf("reading the page probe %q: %w", ev.Result.Value, err)
	}
	res.Title, res.Charts = probed.Title, probed.Charts
	var err error
	if res.Light, err = b.screenshot(ctx, s); err != nil {
		return nil, err
	}
	if err := b.Call(ctx, s, "Emulation.setEmulatedMedia", map[string]any{
		"features": []map[string]string{{"name": "prefers-color-scheme", "value": "dark"}}}, nil); err != nil {
		return nil, err
	}
	if res.Dark, err = b.screenshot(ctx, s); err != nil {
		return nil, err
	}
	var pdf struct {
		Data string `json:"data"`
	}
	if err := b.Call(ctx, s, "Page.printToPDF", map[string]any{"printBackground": false}, &pdf); err != nil {
		return nil, err
	}
	if res.PDF, err = base64.StdEncoding.DecodeString(pdf.Data); err != nil {
		return nil, fmt.Errorf("decoding the PDF: %w", err)
	}
	b.drain(s, res)
	_ = b.Call(ctx, "", "Target.closeTarget", map[string]any{"targetId": tgt.TargetID}, nil)
	return res, nil
}

// collect reads events until the page's load event.
func (b *Browser) collect(ctx context.Context, session string, res *Result) error {
	for {
		select {
		case m := <-b.events:
			if m.SessionID != session {
				continue
			}
			if m.Method == "Page.loadEventFired" {
				return nil
			}
			note(m, res)
		case <-b.done:
			return fmt.Errorf("the browser exited while loading: %s", b.stderr.String())
		case <-ctx.Done():
			return fmt.Errorf("waiting for the page to load: %w", ctx.Err())
		}
	}
}

// drain notes the events that arrived after the load event.
func (b *Browser) drain(session string, res *Result) {
	for {
		select {
		case m := <-b.events:
			if m.SessionID == session {
				note(m, res)
			}
		default:
			return
		}
	}
}

func note(m message, res *Result) {
	switch m.Method {
	case "Runtime.consoleAPICalled":
		var p struct {
			Type string `json:"type"`
			Args []struct {
				Value       any    `json:"value"`
				Description string `json:"description"`
			} `json:"args"`
		}
		if json.Unmarshal(m.Params, &p) == nil && (p.Type == "error" || p.Type == "assert" || p.Type == "warning") {
			res.Problems = append(res.Problems, fmt.Sprintf("console.%s: %v", p.Type, p.Args))
		}
	case "Runtime.exceptionThrown":
		res.Problems = append(res.Problems, "exception: "+string(m.Params))
	case "Log.entryAdded":
		var p struct {
			Entry struct {
				Level  string `json:"level"`
				Source string `json:"source"`
				Text   string `json:"text"`
				URL    string `json:"url"`
			} `json:"entry"`
		}
		if json.Unmarshal(m.Params, &p) == nil && (p.Entry.Level == "error" || p.Entry.Level == "warning") {
			res.Problems = append(res.Problems, fmt.Sprintf("log %s (%s): %s %s", p.Entry.Level, p.Entry.Source, p.Entry.Text, p.Entry.URL))
		}
	case "Network.requestWillBeSent":
		var p struct {
			Request struct {
				URL string `json:"url"`
			} `json:"request"`
		}
		if json.Unmarshal(m.Params, &p) == nil {
			res.Requests = append(res.Requests, p.Request.URL)
			if !strings.HasPrefix(p.Request.URL, "file:") && !strings.HasPrefix(p.Request.URL, "data:") {
				res.Problems = append(res.Problems, "request off the file system: "+p.Request.URL)
			}
		}
	case "Network.loadingFailed":
		res.Problems = append(res.Problems, "failed request: "+string(m.Params))
	}
}

func (b *Browser) screenshot(ctx context.Context, session string) ([]byte, error) {
	var lm struct {
		CSSContentSize struct {
			Width  float64 `json:"width"`
			Height float64 `json:"height"`
		} `json:"cssContentSize"`
	}
	if err := b.Call(ctx, session, "Page.getLayoutMetrics", struct{}{}, &lm); err != nil {
		return nil, err
	}
	var shot struct {
		Data string `json:"data"`
	}
	if err := b.Call(ctx, session, "Page.captureScreenshot", map[string]any{
		"format": "png", "captureBeyondViewport": true,
		"clip": map[string]any{"x": 0, "y": 0, "width": lm.CSSContentSize.Width, "height": lm.CSSContentSize.Height, "scale": 1},
	}, &shot); err != nil {
		return nil, err
	}
	png, err := base64.StdEncoding.DecodeString(shot.Data)
	if err != nil {
		return nil, fmt.Errorf("decoding the screenshot: %w", err)
	}
	return png, nil
}
