package main

import (
	"context"
	"net"
	"net/http"
	"strings"
	"testing"

	"github.com/sagegate/sagegate/internal/sandbox"
)

func TestDevTokenSaysWhyThereIsNone(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	dev, err := sandbox.New(context.Background(), "http://"+addr, addr, sandbox.Options{})
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: dev.Handler}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })

	stdout, _, err := run(t, "dev", "token", "--addr", addr, "user-lob-a")
	if err != nil || strings.Count(strings.TrimSpace(stdout), ".") != 2 {
		t.Fatalf("dev token: %q, %v (want a JWT)", stdout, err)
	}
	_, _, err = run(t, "dev", "token", "--addr", addr, "nobody")
	if err == nil || !strings.Contains(err.Error(), `token for "nobody" refused: 400`) || !strings.Contains(err.Error(), "invalid_grant") {
		t.Errorf("unknown user: %v", err)
	}

	// Nothing listening: the hint is to start the sandbox.
	other, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	gone := other.Addr().String()
	other.Close()
	if _, _, err := run(t, "dev", "token", "--addr", gone, "user-lob-a"); err == nil || !strings.Contains(err.Error(), "is `sagegate dev` running on "+gone) {
		t.Errorf("no sandbox: %v", err)
	}
}
