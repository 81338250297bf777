package main

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/sagegate/sagegate/internal/config"
	"github.com/sagegate/sagegate/internal/testutil"
)

func TestPprofListener(t *testing.T) {
	for _, bad := range []string{"0.0.0.0:6060", ":6060", "example.com:6060", "10.0.0.1:6060", "no-port"} {
		if ln, err := listenPprof(bad); err == nil {
			ln.Close()
			t.Errorf("--pprof %s was accepted", bad)
		}
	}
	ln, err := listenPprof("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var logs testutil.SyncBuffer
	done := make(chan struct{})
	go func() { servePprof(ctx, ln, newLogger(&logs, config.Log{Level: "info", Format: "text"})); close(done) }()
	defer func() { cancel(); <-done }()
	base := "http://" + ln.Addr().String()
	for path, want := range map[string]int{"/debug/pprof/heap?gc=1": 200, "/debug/pprof/goroutine": 200, "/debug/pprof/cmdline": 404} {
		resp, err := http.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != want || (want == 200 && len(body) == 0) {
			t.Errorf("GET %s: %s, %d bytes", path, resp.Status, len(body))
		}
	}
	if !strings.Contains(logs.String(), "pprof listening") {
		t.Errorf("logs: %s", logs.String())
	}
}
