package devidp

import (
	"net/url"
	"strings"
	"testing"
)

func TestRedirectMatches(t *testing.T) {
	tests := []struct {
		registered, requested string
		want                  bool
	}{
		{"https://app.test/cb", "https://app.test/cb", true},
		{"https://app.test/cb", "https://app.test/cb/", false},
		{"https://app.test/cb", "https://APP.test/cb", false},
		{"https://app.test/cb", "https://app.test:444/cb", false}, // ports are free only on loopback
		{"https://127.0.0.1/cb", "https://127.0.0.1:8443/cb", false},
		{"http://127.0.0.1/cb", "http://127.0.0.1:50000/cb", true},
		{"http://127.0.0.1:8080/cb", "http://127.0.0.1:9090/cb", true},
		{"http://127.0.0.1:8080/cb", "http://127.0.0.1/cb", true},
		{"http://127.0.0.1/cb", "http://127.0.0.1:50000/cb2", false},
		{"http://127.0.0.1/cb", "http://127.0.0.1:50000/cb?x=1", false},
		{"http://127.0.0.1/cb", "http://127.0.0.1:50000/cb#frag", false},
		{"http://127.0.0.1/cb", "http://user@127.0.0.1:50000/cb", false},
		{"http://127.0.0.1/cb", "http://127.0.0.2:50000/cb", false},
		{"http://127.0.0.1/cb", "http://localhost:50000/cb", false},
		{"http://127.0.0.1/cb", "https://127.0.0.1:50000/cb", false},
		{"http://127.0.0.1/cb", "http://127.0.0.1.evil.test:50000/cb", false},
		{"http://[::1]/cb", "http://[::1]:1234/cb", true},
		{"http://localhost/cb", "http://localhost:1234/cb", true},
		{"http://example.test/cb", "http://example.test:1234/cb", false},
	}
	for _, tt := range tests {
		if got := redirectMatches(tt.registered, tt.requested); got != tt.want {
			t.Errorf("redirectMatches(%q, %q) = %v, want %v", tt.registered, tt.requested, got, tt.want)
		}
	}
}

// Codes, tokens and passwords must never reach the logs.
func TestLogsHoldNoSecrets(t *testing.T) {
	e := newEnv(t, nil)
	verifier, challenge := pkce()
	loc := e.login(t, authParams(challenge), "bob", bobPass)
	code := loc.Query().Get("code")
	_, out := e.tokenCall(t, exchangeForm(code, webReturn, verifier, webClient))
	_, again := e.tokenCall(t, exchangeForm(code, webReturn, verifier, webClient)) // replay: a warning
	_, bad := e.tokenCall(t, url.Values{"grant_type": {"password"}, "client_id": {cliClient},
		"username": {"bob"}, "password": {"wrong-" + bobPass}})
	minted, err := e.iss.Mint("bob", cliClient)
	if err != nil {
		t.Fatal(err)
	}
	if again["error"] == nil || bad["error"] == nil {
		t.Fatalf("expected failures: %v %v", again, bad)
	}

	logs := e.logs.String()
	for _, want := range []string{"authorization code issued", "tokens issued", "login failed", "replayed"} {
		if !strings.Contains(logs, want) {
			t.Errorf("logs lack %q:\n%s", want, logs)
		}
	}
	secrets := map[string]string{
		"code": code, "verifier": verifier, "password": bobPass, "minted token": minted,
		"access token": out["access_token"].(string), "id token": out["id_token"].(string),
		"refresh token": out["refresh_token"].(string),
	}
	for name, s := range secrets {
		if strings.Contains(logs, s) {
			t.Errorf("logs contain the %s", name)
		}
	}
}
