package metricstest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"io"
	"log"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"
)

// TLS fault modes for TLSFaultServer.
const (
	// TLSSelfSigned is a server whose certificate is valid for 127.0.0.1
	// and in date, but self-signed: no client trusts it.
	TLSSelfSigned = "tls-self-signed"
	// TLSExpired is a server whose certificate for 127.0.0.1 expired a day
	// ago.
	TLSExpired = "tls-expired"
)

// TLSFaultModes lists the TLS fault modes.
var TLSFaultModes = []string{TLSSelfSigned, TLSExpired}

// TLSFaultServer starts an HTTPS loopback server with h behind a
// certificate that fails verification as mode says, and counts the
// requests that got past the handshake (there should be none). Handshake
// errors are not logged. It is closed when the test ends.
func TLSFaultServer(t testing.TB, mode string, h http.Handler) (*httptest.Server, *atomic.Int64) {
	t.Helper()
	now := time.Now()
	notBefore, notAfter := now.Add(-time.Hour), now.Add(time.Hour)
	switch mode {
	case TLSSelfSigned:
	case TLSExpired:
		notBefore, notAfter = now.Add(-48*time.Hour), now.Add(-24*time.Hour)
	default:
		t.Fatalf("metricstest: unknown TLS fault mode %q", mode)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(now.UnixNano()),
		Subject:               pkix.Name{CommonName: "augur " + mode},
		NotBefore:             notBefore,
		NotAfter:              notAfter,
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
		DNSNames:              []string{"localhost"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	var reached atomic.Int64
	ts := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		reached.Add(1)
		h.ServeHTTP(w, r)
	}))
	ts.Config.ErrorLog = log.New(io.Discard, "", 0)
	ts.TLS = &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}}
	ts.StartTLS()
	t.Cleanup(ts.Close)
	return ts, &reached
}
