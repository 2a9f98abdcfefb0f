package server

import (
	"crypto/tls"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"
)

// certReloader serves a certificate from files and re-reads them when their
// modification times change, so that a rotated certificate (cert-manager,
// a mounted Secret) is used without a restart.
type certReloader struct {
	certFile, keyFile string
	log               *slog.Logger

	mu      sync.Mutex
	cert    *tls.Certificate
	certMod time.Time
	keyMod  time.Time
}

func newCertReloader(certFile, keyFile string, log *slog.Logger) (*certReloader, error) {
	c := &certReloader{certFile: certFile, keyFile: keyFile, log: log}
	if err := c.load(); err != nil {
		return nil, err
	}
	return c, nil
}

func modTime(path string) (time.Time, error) {
	st, err := os.Stat(path)
	if err != nil {
		return time.Time{}, err
	}
	return st.ModTime(), nil
}

// load reads both files; the caller holds mu or is the constructor.
func (c *certReloader) load() error {
	cm, err := modTime(c.certFile)
	if err != nil {
		return fmt.Errorf("TLS certificate: %w", err)
	}
	km, err := modTime(c.keyFile)
	if err != nil {
		return fmt.Errorf("TLS key: %w", err)
	}
	cert, err := tls.LoadX509KeyPair(c.certFile, c.keyFile)
	if err != nil {
		return fmt.Errorf("TLS certificate %s and key %s: %w", c.certFile, c.keyFile, err)
	}
	c.cert, c.certMod, c.keyMod = &cert, cm, km
	return nil
}

// get implements tls.Config.GetCertificate. A rotation that cannot be read
// (half-written files) keeps the previous certificate.
func (c *certReloader) get(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	cm, err1 := modTime(c.certFile)
	km, err2 := modTime(c.keyFile)
	if err1 == nil && err2 == nil && (!cm.Equal(c.certMod) || !km.Equal(c.keyMod)) {
		if err := c.load(); err != nil {
			// Not again until the files change once more.
			c.certMod, c.keyMod = cm, km
			c.log.Warn("TLS certificate changed but cannot be loaded; keeping the previous one", "error", err.Error())
		} else {
			c.log.Info("TLS certificate reloaded", "cert", c.certFile)
		}
	}
	return c.cert, nil
}
