package identity

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestDiscover(t *testing.T) {
	var named string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/.well-known/openid-configuration" {
			http.NotFound(w, r)
			return
		}
		_, _ = w.Write([]byte(`{"issuer":"` + named + `","authorization_endpoint":"https://a","token_endpoint":"https://t","end_session_endpoint":"https://e","jwks_uri":"https://k"}`))
	}))
	t.Cleanup(srv.Close)

	named = srv.URL
	doc, err := Discover(context.Background(), srv.Client(), srv.URL)
	if err != nil || *doc != (Discovery{Issuer: srv.URL, AuthorizationEndpoint: "https://a", TokenEndpoint: "https://t", EndSessionEndpoint: "https://e", JWKSURI: "https://k"}) {
		t.Fatalf("%+v, %v", doc, err)
	}
	named = srv.URL + "/other"
	if doc, err := Discover(context.Background(), srv.Client(), srv.URL); err == nil || !strings.Contains(err.Error(), "does not match configured issuer") {
		t.Fatalf("another issuer's document: %+v, %v", doc, err)
	}
	if doc, err := Discover(context.Background(), srv.Client(), srv.URL+"/missing"); err == nil || !strings.Contains(err.Error(), "status 404") {
		t.Fatalf("no document: %+v, %v", doc, err)
	}
}

func TestErrorCode(t *testing.T) {
	for in, want := range map[string]string{
		"access_denied":  "access_denied",
		"login_required": "login_required",
		"<b>x":           "unknown error",
		"":               "unknown error",
	} {
		if got := ErrorCode(in); got != want {
			t.Errorf("ErrorCode(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestUnverifiedPayload(t *testing.T) {
	var c struct {
		Nonce string `json:"nonce"`
	}
	// {"nonce":"n-1"}, with and without padding.
	for _, jwt := range []string{"e30.eyJub25jZSI6Im4tMSJ9.sig", "e30.eyJub25jZSI6Im4tMSJ9==.sig"} {
		c.Nonce = ""
		if err := UnverifiedPayload(jwt, &c); err != nil || c.Nonce != "n-1" {
			t.Errorf("%s: %+v, %v", jwt, c, err)
		}
	}
	for _, jwt := range []string{"", "a.b", "a.b.c.d", "e30.!!!.sig", "e30.bm90IGpzb24.sig"} {
		if err := UnverifiedPayload(jwt, &c); err == nil {
			t.Errorf("%q: no error", jwt)
		}
	}
}
