package sandbox

import (
	"context"
	"errors"
	"net"
	"net/http"
	"strings"
	"testing"
)

func TestDemoTokenGivesDemoUsersTokensAndRefusesOthers(t *testing.T) {
	dev, _ := startDevWith(t, Options{})
	tok, err := DemoToken(context.Background(), http.DefaultClient, dev.URL, "user-lob-a")
	if err != nil || strings.Count(tok, ".") != 2 {
		t.Fatalf("token for a demo user: %q, %v (want a JWT)", tok, err)
	}

	_, err = DemoToken(context.Background(), http.DefaultClient, dev.URL, "nobody")
	var refused *TokenRefusedError
	if !errors.As(err, &refused) || refused.Code != "invalid_grant" || !strings.HasPrefix(refused.Status, "400") {
		t.Fatalf("token for an unknown user: %v, want a refusal with invalid_grant", err)
	}
	if !strings.HasPrefix(err.Error(), "refused: 400") {
		t.Errorf("refusal reads %q", err)
	}

	// Not the issuer at all: a refusal too, saying what answered.
	_, err = DemoToken(context.Background(), http.DefaultClient, dev.URL+"/no-such", "user-lob-a")
	if !errors.As(err, &refused) || refused.Code != "" {
		t.Fatalf("token from a wrong address: %v, want a refusal without an OAuth code", err)
	}
}

func TestDemoTokenUnreachableIsNotARefusal(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now
	_, err = DemoToken(context.Background(), http.DefaultClient, "http://"+addr, "user-lob-a")
	var refused *TokenRefusedError
	if err == nil || errors.As(err, &refused) {
		t.Fatalf("unreachable issuer: %v, want a transport error", err)
	}
}
