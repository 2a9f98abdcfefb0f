package cli

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"errors"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/spf13/cobra"
	"sigs.k8s.io/yaml"

	"github.com/augurproj/augur/analysis"
)

func TestParseByteSize(t *testing.T) {
	tests := []struct {
		in   string
		want int64
		err  bool
	}{
		{"1048576", 1 << 20, false},
		{"1MiB", 1 << 20, false},
		{"512KiB", 512 << 10, false},
		{"2Mi", 2 << 20, false},
		{"1GiB", 1 << 30, false},
		{"10kB", 10000, false},
		{"3 MB", 3000000, false},
		{"100B", 100, false},
		{"0", 0, true},
		{"-1", 0, true},
		{"1.5MiB", 0, true},
		{"2GiB", 0, true},
		{"lots", 0, true},
		{"", 0, true},
		{"MiB", 0, true},
	}
	for _, tc := range tests {
		got, err := parseByteSize(tc.in)
		if (err != nil) != tc.err || got != tc.want {
			t.Errorf("parseByteSize(%q) = %d, %v; want %d, error %v", tc.in, got, err, tc.want, tc.err)
		}
	}
}

// FuzzParseByteSize: a size is rejected or is positive, at most 1GiB, and
// a plain number of bytes reads back as itself.
func FuzzParseByteSize(f *testing.F) {
	for _, s := range []string{"1MiB", "512KiB", "1048576", "1GiB", "1.5M", "-3", "9999999999999999999KiB", " 7 B"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := parseByteSize(s)
		if err != nil {
			if n != 0 {
				t.Fatalf("error with a size: %d", n)
			}
			return
		}
		if n <= 0 || n > maxMaxBody {
			t.Fatalf("parseByteSize(%q) = %d", s, n)
		}
		if plain, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64); err == nil && plain != n {
			t.Fatalf("parseByteSize(%q) = %d, not the number itself", s, n)
		}
	})
}

func TestServeFlagErrors(t *testing.T) {
	dir := t.TempDir()
	empty := filepath.Join(dir, "empty")
	if err := os.WriteFile(empty, []byte(" \n"), 0o600); err != nil {
		t.Fatal(err)
	}
	data := podinfo + "/healthy.om"
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"--token", "a", "--token-file", empty}, "--token and --token-file are exclusive"},
		{[]string{"--token-file", empty}, "empty"},
		{[]string{"--token-file", filepath.Join(dir, "missing")}, "--token-file: open"},
		{[]string{"--max-body", "0"}, "--max-body \"0\": want a positive number"},
		{[]string{"--max-body", "2GiB"}, "at most 1GiB"},
		{[]string{"--log-format", "xml"}, "--log-format \"xml\": want json or text"},
		{[]string{"--log-level", "loud"}, "--log-level \"loud\""},
		{[]string{"--tls-cert", "c.pem"}, "--tls-cert and --tls-key go together"},
		{[]string{"--tls-cert", filepath.Join(dir, "c.pem"), "--tls-key", filepath.Join(dir, "k.pem"), "--data", data}, "TLS certificate"},
		{[]string{"--request-timeout", "0s"}, "--request-timeout must be positive"},
		{[]string{"--data", filepath.Join(dir, "missing.om")}, "--data"},
		{[]string{"--data", data, "--prometheus", "http://127.0.0.1:9"}, "exclusive"},
		{[]string{"--data", data, "--listen", "127.0.0.1:99999"}, "--listen"},
		{[]string{"--data", data, "-f", filepath.Join(dir, "nothing.yaml")}, "nothing.yaml"},
		{[]string{"--data", data, "extra"}, "unknown command"},
	}
	for _, tc := range tests {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			code, _, stderr := run(t, "", append([]string{"serve"}, tc.args...)...)
			if code != ExitBadInput || !strings.Contains(stderr, tc.want) {
				t.Errorf("exit %d, stderr %q; want exit %d with %q", code, stderr, ExitBadInput, tc.want)
			}
		})
	}
}

// lockedBuffer collects a server's logs.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// startServe runs `augur serve args...` in-process on a loopback port and
// returns its base URL (scheme from the args) and a stop function that
// returns the exit code.
func startServe(t *testing.T, args ...string) (url string, logs *lockedBuffer, stop func() int) {
	t.Helper()
	logs = &lockedBuffer{}
	ios := &IOStreams{In: strings.NewReader(""), Out: io.Discard, ErrOut: logs}
	addrc := make(chan net.Addr, 1)
	cmd := NewCmdServe(ios, func(cmd *cobra.Command, o *ServeOptions) error {
		o.Listening = func(a net.Addr) { addrc <- a }
		return serveRun(cmd, o)
	})
	cmd.SetArgs(append([]string{"--listen", "127.0.0.1:0"}, args...))
	cmd.SetOut(io.Discard)
	cmd.SetErr(io.Discard)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	go func() {
		err := cmd.ExecuteContext(ctx)
		var ee *ExitError
		switch {
		case err == nil:
			done <- ExitOK
		case errors.As(err, &ee):
			t.Logf("serve: %v", err)
			done <- ee.Code
		default:
			t.Logf("serve: %v", err)
			done <- ExitBadInput
		}
	}()
	scheme := "http://"
	for _, a := range args {
		if a == "--tls-cert" {
			scheme = "https://"
		}
	}
	select {
	case a := <-addrc:
		url = scheme + a.String()
	case code := <-done:
		t.Fatalf("serve exited with %d before listening:\n%s", code, logs)
	case <-time.After(30 * time.Second):
		t.Fatal("serve did not start listening")
	}
	var once sync.Once
	code := -1
	stop = func() int {
		once.Do(func() {
			cancel()
			select {
			case code = <-done:
			case <-time.After(30 * time.Second):
				t.Error("serve did not stop")
			}
		})
		return code
	}
	t.Cleanup(func() { stop() })
	return url, logs, stop
}

// podinfoDecide is a decide request body for testdata/podinfo's Canary
// (as the JSON Flagger's API returns), its webhooks pointed at hookURL.
func podinfoDecide(t *testing.T, hookURL, webhooksMode string, weight int) string {
	t.Helper()
	b, err := os.ReadFile(podinfo + "/canary.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if hookURL != "" {
		b = bytes.ReplaceAll(b, []byte("http://flagger-loadtester.test/"), []byte(hookURL))
	}
	j, err := yaml.YAMLToJSON(b)
	if err != nil {
		t.Fatal(err)
	}
	body := map[string]any{"canary": json.RawMessage(j), "status": map[string]any{"phase": "Progressing", "canaryWeight": weight}}
	if webhooksMode != "" {
		body["webhooks"] = webhooksMode
	}
	out, err := json.Marshal(body)
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}

func post(t *testing.T, client *http.Client, url, body string, header map[string]string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b)
}

// TestServeInProcess runs the serve command with files, recorded data and
// a token file, and drives every endpoint family once.
func TestServeInProcess(t *testing.T) {
	dir := t.TempDir()
	tokenFile := filepath.Join(dir, "token")
	if err := os.WriteFile(tokenFile, []byte("tok3n\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	url, logs, stop := startServe(t, "--data", podinfo+"/healthy.om", "-f", podinfo, "--token-file", tokenFile,
		"--log-format", "text", "--max-body", "64KiB")
	client := &http.Client{Timeout: 30 * time.Second}
	auth := map[string]string{"Authorization": "Bearer tok3n"}

	code, body := post(t, client, url+"/v1/decide", podinfoDecide(t, "", "pass", 10), auth)
	if code != 200 || !strings.Contains(body, `"action":"advance"`) || !strings.Contains(body, `"canaryWeight":20`) {
		t.Errorf("decide: %d %s", code, body)
	}
	if code, _ := post(t, client, url+"/v1/decide", podinfoDecide(t, "", "pass", 10), nil); code != 401 {
		t.Errorf("decide without token: %d", code)
	}
	check := `{"name":"podinfo","namespace":"test","phase":"Progressing","checksum":"x","metadata":{"token":"tok3n"}}`
	if code, body := post(t, client, url+"/flagger/v1/check", check, nil); code != 200 || !strings.HasPrefix(body, "passed: request-success-rate = 100") {
		t.Errorf("check of the loaded canary: %d %s", code, body)
	}
	tmpl := `{"name":"podinfo","namespace":"test","metadata":{"token":"tok3n","template":"istio-system/not-found-percentage","max":"1"}}`
	if code, body := post(t, client, url+"/flagger/v1/check", tmpl, nil); code != 200 {
		t.Errorf("check with the loaded template: %d %s", code, body)
	}
	big := `{"name":"podinfo","metadata":{"query":"` + strings.Repeat("x", 70<<10) + `"}}`
	if code, _ := post(t, client, url+"/flagger/v1/check", big, nil); code != 413 {
		t.Errorf("--max-body 64KiB: %d for 70KiB", code)
	}
	resp, err := client.Get(url + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	rb, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(rb), "recorded data") {
		t.Errorf("readyz: %d %s", resp.StatusCode, rb)
	}
	if code := stop(); code != ExitOK {
		t.Errorf("exit %d after shutdown", code)
	}
	l := logs.String()
	for _, want := range []string{"msg=listening", "auth=true", "canaries=1 templates=1", "msg=request", `route="POST /v1/decide"`, `msg="shut down"`} {
		if !strings.Contains(l, want) {
			t.Errorf("logs lack %q:\n%s", want, l)
		}
	}
	if strings.Contains(l, "tok3n") {
		t.Error("logs show the token")
	}
}

// TestServeProbesLiveProvider: with --prometheus pointing at nothing,
// /readyz answers 503 with the reason, and a check fails with 403.
func TestServeProbesLiveProvider(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := "http://" + ln.Addr().String()
	ln.Close()
	url, _, _ := startServe(t, "--prometheus", dead, "--query-timeout", "2s")
	resp, err := http.Get(url + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 503 || !strings.Contains(string(b), "metrics provider prometheus "+dead+" unreachable") {
		t.Errorf("readyz: %d %s", resp.StatusCode, b)
	}
	code, body := post(t, http.DefaultClient, url+"/flagger/v1/check",
		`{"name":"podinfo","namespace":"test","metadata":{"query":"up","min":"1"}}`, nil)
	if code != 403 || !strings.Contains(body, "query has no value (query)") {
		t.Errorf("check: %d %s", code, body)
	}
}

// buildAugur builds the augur binary into a temporary directory.
func buildAugur(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := filepath.Join(t.TempDir(), "augur")
	cmd := exec.Command("go", "build", "-o", bin, "../../cmd/augur")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// TestServeBinary starts the real binary on a free loopback port, posts a
// decide request, and sends SIGTERM while a slow request is in flight: the
// request completes and the process exits 0.
func TestServeBinary(t *testing.T) {
	bin := buildAugur(t)
	hookCalled := make(chan struct{}, 1)
	slowHook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case hookCalled <- struct{}{}:
		default:
		}
		time.Sleep(time.Second)
		w.WriteHeader(http.StatusOK)
	}))
	defer slowHook.Close()

	home := t.TempDir()
	cmd := exec.Command(bin, "serve", "--listen", "127.0.0.1:0", "--data", podinfo+"/healthy.om", "-f", podinfo, "--log-format", "json")
	cmd.Env = []string{"HOME=" + home, "PATH=" + os.Getenv("PATH")}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cmd.Process.Kill() }()

	var logMu sync.Mutex
	var logLines []map[string]any
	addrc := make(chan string, 1)
	readDone := make(chan struct{})
	go func() {
		defer close(readDone)
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			var rec map[string]any
			if json.Unmarshal(sc.Bytes(), &rec) != nil {
				t.Errorf("log line is not JSON: %s", sc.Text())
				continue
			}
			logMu.Lock()
			logLines = append(logLines, rec)
			logMu.Unlock()
			if rec["msg"] == "listening" {
				addrc <- rec["addr"].(string)
			}
		}
	}()
	var url string
	select {
	case a := <-addrc:
		url = "http://" + a
	case <-time.After(30 * time.Second):
		t.Fatal("the binary did not log its address")
	}
	client := &http.Client{Timeout: 30 * time.Second}

	code, body := post(t, client, url+"/v1/decide", podinfoDecide(t, "", "pass", 10), nil)
	var d analysis.Decision
	if err := json.Unmarshal([]byte(body), &d); err != nil || code != 200 {
		t.Fatalf("decide: %d %s", code, body)
	}
	if d.Action != analysis.ActionAdvance || d.Status.CanaryWeight != 20 || len(d.Checks) != 3 {
		t.Errorf("decide: %+v", d)
	}

	// A decide whose rollout webhook takes a second; SIGTERM meanwhile.
	type result struct {
		code int
		body string
	}
	inflight := make(chan result, 1)
	go func() {
		c, b := post(t, client, url+"/v1/decide", podinfoDecide(t, slowHook.URL+"/", "", 10), nil)
		inflight <- result{c, b}
	}()
	select {
	case <-hookCalled:
	case <-time.After(30 * time.Second):
		t.Fatal("the rollout webhook was not called")
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	r := <-inflight
	if r.code != 200 || !strings.Contains(r.body, `"action":"advance"`) {
		t.Errorf("in-flight decide after SIGTERM: %d %s", r.code, r.body)
	}
	if err := cmd.Wait(); err != nil {
		t.Errorf("exit after SIGTERM: %v", err)
	}
	<-readDone
	logMu.Lock()
	defer logMu.Unlock()
	var msgs []string
	for _, rec := range logLines {
		msgs = append(msgs, rec["msg"].(string))
	}
	joined := strings.Join(msgs, ",")
	if !strings.Contains(joined, "shutting down") || !strings.HasSuffix(joined, "shut down") {
		t.Errorf("log messages: %s", joined)
	}
}

// selfSigned writes a self-signed certificate for 127.0.0.1 and returns a
// pool that trusts it.
func selfSigned(t *testing.T, certFile, keyFile string) *x509.CertPool {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "augur-test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, BasicConstraintsValid: true, IsCA: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kb, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), 0o600); err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return pool
}

// TestServeTLS: --tls-cert and --tls-key make the command serve HTTPS.
func TestServeTLS(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "tls.crt"), filepath.Join(dir, "tls.key")
	pool := selfSigned(t, certFile, keyFile)
	url, logs, _ := startServe(t, "--data", podinfo+"/healthy.om", "-f", podinfo, "--tls-cert", certFile, "--tls-key", keyFile)
	if !strings.HasPrefix(url, "https://") {
		t.Fatalf("url %s", url)
	}
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}, Timeout: 30 * time.Second}
	defer client.CloseIdleConnections()
	code, body := post(t, client, url+"/v1/decide", podinfoDecide(t, "", "pass", 10), nil)
	if code != 200 || !strings.Contains(body, `"action":"advance"`) {
		t.Errorf("decide over HTTPS: %d %s", code, body)
	}
	if !strings.Contains(logs.String(), `"url":"https://127.0.0.1:`) {
		t.Errorf("the listening log line does not give the https URL:\n%s", logs)
	}
}
