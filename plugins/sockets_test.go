package plugins

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestSocketInRunDir checks that `augur plugin`'s go-plugin socket lives in
// this run's PLUGIN_UNIX_SOCKET_DIR (set by TestMain), not in /tmp/plugin*,
// and is gone once the client closes: the tests leave no sockets behind.
func TestSocketInRunDir(t *testing.T) {
	dir := os.Getenv("PLUGIN_UNIX_SOCKET_DIR")
	if dir == "" {
		t.Fatal("TestMain did not set PLUGIN_UNIX_SOCKET_DIR")
	}
	c := startPlugin(t, ClientOptions{Args: []string{"--data", writeData(t, t.TempDir(), podinfoSeries(1))}})
	rc := c.pc.ReattachConfig()
	if rc == nil || rc.Addr == nil {
		t.Fatal("no reattach config: the plugin process did not start")
	}
	addr := rc.Addr.String()
	if rc.Addr.Network() != "unix" {
		t.Fatalf("plugin listens on %s %s, want a unix socket", rc.Addr.Network(), addr)
	}
	if rel, err := filepath.Rel(dir, addr); err != nil || strings.HasPrefix(rel, "..") {
		t.Errorf("socket %s is outside the run's socket directory %s", addr, dir)
	}
	c.Close()
	if _, err := os.Stat(addr); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("socket %s left behind after Close (stat: %v)", addr, err)
	}
}
