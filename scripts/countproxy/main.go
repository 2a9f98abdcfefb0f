// Command countproxy is a loopback reverse proxy that counts the requests it
// forwards, for scripts/range-replay-bench.sh: countproxy TARGET_URL OUT
// listens on a free 127.0.0.1 port, writes its address to OUT.addr and, on
// SIGTERM or SIGINT, the request count to OUT.
package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"os/signal"
	"strconv"
	"sync/atomic"
	"syscall"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "countproxy:", err)
		os.Exit(1)
	}
}

func run() error {
	if len(os.Args) != 3 {
		return fmt.Errorf("usage: countproxy TARGET_URL OUT")
	}
	target, err := url.Parse(os.Args[1])
	if err != nil {
		return err
	}
	out := os.Args[2]
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	ln, err := (&net.ListenConfig{}).Listen(ctx, "tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	var n atomic.Int64
	rp := httputil.NewSingleHostReverseProxy(target)
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		rp.ServeHTTP(w, r)
	})}
	go func() { _ = srv.Serve(ln) }()
	if err := os.WriteFile(out+".addr", []byte(ln.Addr().String()), 0o600); err != nil {
		return err
	}
	<-ctx.Done()
	_ = srv.Close()
	return os.WriteFile(out, []byte(strconv.FormatInt(n.Load(), 10)), 0o600)
}
