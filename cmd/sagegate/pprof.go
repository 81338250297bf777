package main

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"runtime"
	"runtime/pprof"
	"strconv"
	"time"

	"github.com/sagegate/sagegate/internal/server"
)

// checkPprofAddr refuses a debug listener anywhere but on loopback:
// profiles show the process's internals, and a heap profile its memory.
func checkPprofAddr(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("--pprof: %w", err)
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return fmt.Errorf("--pprof %s: profiles are served on loopback only (e.g. 127.0.0.1:6060)", addr)
	}
	return nil
}

// listenPprof opens the debug listener of `serve --pprof`.
func listenPprof(addr string) (net.Listener, error) {
	if err := checkPprofAddr(addr); err != nil {
		return nil, err
	}
	return net.Listen("tcp", addr)
}

// servePprof serves the profiles `go tool pprof` reads until ctx ends:
// heap, allocs and goroutine snapshots, and a CPU profile of ?seconds=N
// (default 10, at most 30). Built on runtime/pprof rather than importing
// net/http/pprof, which registers itself on http.DefaultServeMux.
func servePprof(ctx context.Context, ln net.Listener, log *slog.Logger) {
	mux := http.NewServeMux()
	for _, name := range []string{"heap", "allocs", "goroutine"} {
		mux.HandleFunc("GET /debug/pprof/"+name, func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Query().Get("gc") == "1" {
				runtime.GC()
			}
			w.Header().Set("Content-Type", "application/octet-stream")
			if err := pprof.Lookup(name).WriteTo(w, 0); err != nil {
				log.Warn("pprof: writing profile", "profile", name, "err", err)
			}
		})
	}
	mux.HandleFunc("GET /debug/pprof/profile", func(w http.ResponseWriter, r *http.Request) {
		secs, err := strconv.Atoi(r.URL.Query().Get("seconds"))
		if err != nil || secs <= 0 {
			secs = 10
		}
		secs = min(secs, 30)
		w.Header().Set("Content-Type", "application/octet-stream")
		if err := pprof.StartCPUProfile(w); err != nil {
			http.Error(w, err.Error(), http.StatusConflict) // another profile is running
			return
		}
		select {
		case <-time.After(time.Duration(secs) * time.Second):
		case <-r.Context().Done():
		}
		pprof.StopCPUProfile()
	})
	log.Info("pprof listening", "addr", ln.Addr().String())
	if err := server.Serve(ctx, ln, mux, time.Second, log); err != nil {
		log.Error("pprof listener failed", "err", err)
	}
}
