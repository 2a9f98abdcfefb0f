package argo

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestArgoSocketInRunDir checks that the plugin process's go-plugin socket
// lives in this run's PLUGIN_UNIX_SOCKET_DIR (set by TestMain), not in
// /tmp/plugin*, and is gone once the client kills the process: the tests
// leave no sockets behind.
func TestArgoSocketInRunDir(t *testing.T) {
	dir := os.Getenv("PLUGIN_UNIX_SOCKET_DIR")
	if dir == "" {
		t.Fatal("TestMain did not set PLUGIN_UNIX_SOCKET_DIR")
	}
	prov, client := argoClient(t, "argo-plugin", "--data", writeData(t))
	if e := prov.InitPlugin(); e.HasError() {
		t.Fatal(e)
	}
	rc := client.ReattachConfig()
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
	client.Kill()
	if _, err := os.Stat(addr); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("socket %s left behind after Kill (stat: %v)", addr, err)
	}
}
