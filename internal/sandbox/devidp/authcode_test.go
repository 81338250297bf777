package devidp

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"
)

func exchangeForm(code, redirectURI, verifier, clientID string) url.Values {
	return url.Values{
		"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {redirectURI},
		"code_verifier": {verifier}, "client_id": {clientID},
	}
}

// TestAuthorizationCodeFlow drives the flow as a CLI would: a callback
// server on a loopback port the client registered without a port, a browser
// that follows the redirect, then the code exchange.
func TestAuthorizationCodeFlow(t *testing.T) {
	e := newEnv(t, nil)
	got := make(chan url.Values, 1)
	callback := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/callback" {
			got <- r.URL.Query()
		}
		_, _ = io.WriteString(w, "you may close this window")
	}))
	defer callback.Close()
	redirectURI := callback.URL + "/callback" // http://127.0.0.1:<port>/callback

	verifier, challenge := pkce()
	params := authParams(challenge)
	params.Set("client_id", cliClient)
	params.Set("redirect_uri", redirectURI)

	form := e.loginForm(t, e.base+"/authorize?"+params.Encode(), "alice", "demo")
	browser := &http.Client{Jar: e.client.Jar} // follows redirects like a browser
	resp, err := browser.PostForm(e.base+"/authorize", form)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.Request.URL.Host != strings.TrimPrefix(callback.URL, "http://") {
		t.Fatalf("browser ended at %s, want the callback server", resp.Request.URL.Redacted())
	}
	var q url.Values
	select {
	case q = <-got:
	default:
		t.Fatal("callback server was not called")
	}
	if q.Get("state") != "st-123" || q.Get("iss") != e.base || q.Get("code") == "" {
		t.Fatalf("callback query = %v", q)
	}

	status, out := e.tokenCall(t, exchangeForm(q.Get("code"), redirectURI, verifier, cliClient))
	if status != http.StatusOK {
		t.Fatalf("exchange = %d %v", status, out)
	}
	id := e.verifyJWT(t, out["id_token"].(string))
	for k, want := range map[string]any{
		"iss": e.base, "aud": cliClient, "sub": SubjectFor("alice"), "nonce": "n-456",
		"preferred_username": "alice", "email": "alice@example.test", "name": "Alice Analyst",
		"auth_time": float64(e.clock.Now().Unix()),
	} {
		if id[k] != want {
			t.Errorf("id token %s = %v, want %v", k, id[k], want)
		}
	}
	at := e.verifyJWT(t, out["access_token"].(string))
	if at["aud"] != "sagegate" || at["client_id"] != cliClient || at["token_use"] != "access" || at["nonce"] != nil {
		t.Errorf("access token claims = %v", at)
	}

	// A second exchange of the same code is refused, and revokes the
	// refresh token the first one produced.
	status, again := e.tokenCall(t, exchangeForm(q.Get("code"), redirectURI, verifier, cliClient))
	if status != http.StatusBadRequest || again["error"] != "invalid_grant" {
		t.Errorf("code reuse = %d %v, want 400 invalid_grant", status, again)
	}
	status, refreshed := e.tokenCall(t, url.Values{
		"grant_type": {"refresh_token"}, "refresh_token": {out["refresh_token"].(string)}, "client_id": {cliClient},
	})
	if status != http.StatusBadRequest || refreshed["error"] != "invalid_grant" {
		t.Errorf("refresh after code reuse = %d %v, want 400 invalid_grant", status, refreshed)
	}
}

func TestCodeExchangeRejections(t *testing.T) {
	otherVerifier, _ := pkce()
	tests := []struct {
		name    string
		advance time.Duration
		change  func(form url.Values)
		status  int
		errCode string
	}{
		{name: "valid at 60 s", advance: 60 * time.Second, change: func(url.Values) {}, status: http.StatusOK},
		{name: "expired after 60 s", advance: 61 * time.Second, change: func(url.Values) {}, status: http.StatusBadRequest, errCode: "invalid_grant"},
		{name: "wrong verifier", change: func(f url.Values) { f.Set("code_verifier", otherVerifier) }, status: http.StatusBadRequest, errCode: "invalid_grant"},
		{name: "missing verifier", change: func(f url.Values) { f.Del("code_verifier") }, status: http.StatusBadRequest, errCode: "invalid_request"},
		{name: "malformed verifier", change: func(f url.Values) { f.Set("code_verifier", "short") }, status: http.StatusBadRequest, errCode: "invalid_request"},
		{name: "redirect_uri differs", change: func(f url.Values) { f.Set("redirect_uri", webReturn+"/other") }, status: http.StatusBadRequest, errCode: "invalid_grant"},
		{name: "other client", change: func(f url.Values) { f.Set("client_id", cliClient) }, status: http.StatusBadRequest, errCode: "invalid_grant"},
		{name: "unknown code", change: func(f url.Values) { f.Set("code", "not-a-code") }, status: http.StatusBadRequest, errCode: "invalid_grant"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, nil)
			verifier, challenge := pkce()
			loc := e.login(t, authParams(challenge), "alice", "demo")
			e.clock.Advance(tt.advance)
			form := exchangeForm(loc.Query().Get("code"), webReturn, verifier, webClient)
			tt.change(form)
			status, out := e.tokenCall(t, form)
			if status != tt.status || (tt.errCode != "" && out["error"] != tt.errCode) {
				t.Fatalf("exchange = %d %v, want %d %s", status, out, tt.status, tt.errCode)
			}
			if tt.errCode == "invalid_grant" && tt.name != "unknown code" {
				// A failed exchange spends the code: it cannot be retried
				// to guess the verifier.
				status, out = e.tokenCall(t, exchangeForm(loc.Query().Get("code"), webReturn, verifier, webClient))
				if status != http.StatusBadRequest || out["error"] != "invalid_grant" {
					t.Errorf("retry with the right values = %d %v, want invalid_grant", status, out)
				}
			}
		})
	}
}

// TestAuthorizeRefusesWithoutRedirect covers requests whose client or
// redirect URI cannot be trusted: the issuer must answer with a page and
// never redirect to the URI it was given.
func TestAuthorizeRefusesWithoutRedirect(t *testing.T) {
	const evil = "https://evil.example.test/steal"
	_, challenge := pkce()
	tests := []struct {
		name   string
		change func(url.Values)
	}{
		{"unknown client", func(p url.Values) { p.Set("client_id", "nobody"); p.Set("redirect_uri", evil) }},
		{"no client", func(p url.Values) { p.Del("client_id") }},
		{"no redirect_uri", func(p url.Values) { p.Del("redirect_uri") }},
		{"unregistered redirect_uri", func(p url.Values) { p.Set("redirect_uri", evil) }},
		{"registered URI with extra path", func(p url.Values) { p.Set("redirect_uri", webReturn+"/../x") }},
		{"non-loopback URI on another port", func(p url.Values) { p.Set("redirect_uri", "https://app.example.test:8443/auth/callback") }},
		{"loopback URI with another path", func(p url.Values) {
			p.Set("client_id", cliClient)
			p.Set("redirect_uri", "http://127.0.0.1:5555/evil")
		}},
		{"loopback URI with another host", func(p url.Values) {
			p.Set("client_id", cliClient)
			p.Set("redirect_uri", "http://localhost:5555/callback")
		}},
		{"repeated redirect_uri", func(p url.Values) { p.Add("redirect_uri", evil) }},
	}
	e := newEnv(t, nil)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := authParams(challenge)
			tt.change(p)
			for _, method := range []string{http.MethodGet, http.MethodPost} {
				var resp *http.Response
				var body string
				if method == http.MethodGet {
					resp, body = e.get(t, e.base+"/authorize?"+p.Encode())
				} else {
					resp, body = e.postForm(t, e.base+"/authorize", p)
				}
				if resp.StatusCode != http.StatusBadRequest || resp.Header.Get("Location") != "" {
					t.Errorf("%s: status %d Location %q, want 400 and no redirect", method, resp.StatusCode, resp.Header.Get("Location"))
				}
				if !strings.Contains(body, "Sign-in request rejected") || strings.Contains(body, "evil.example") {
					t.Errorf("%s: page does not explain the refusal or links to the URI:\n%s", method, body)
				}
			}
		})
	}
}

// TestAuthorizeErrorRedirects covers errors after the redirect URI checked
// out: those go back to the client as OAuth errors with state and iss.
func TestAuthorizeErrorRedirects(t *testing.T) {
	_, challenge := pkce()
	tests := []struct {
		name    string
		change  func(url.Values)
		errCode string
	}{
		{"plain PKCE", func(p url.Values) { p.Set("code_challenge_method", "plain") }, "invalid_request"},
		{"no challenge method means plain", func(p url.Values) { p.Del("code_challenge_method") }, "invalid_request"},
		{"no PKCE", func(p url.Values) { p.Del("code_challenge"); p.Del("code_challenge_method") }, "invalid_request"},
		{"challenge not a digest", func(p url.Values) { p.Set("code_challenge", "abc") }, "invalid_request"},
		{"implicit flow", func(p url.Values) { p.Set("response_type", "token") }, "unsupported_response_type"},
	}
	e := newEnv(t, nil)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := authParams(challenge)
			tt.change(p)
			resp, body := e.get(t, e.base+"/authorize?"+p.Encode())
			if resp.StatusCode != http.StatusFound {
				t.Fatalf("status %d, want 302:\n%s", resp.StatusCode, body)
			}
			loc, err := url.Parse(resp.Header.Get("Location"))
			if err != nil {
				t.Fatal(err)
			}
			q := loc.Query()
			if loc.Scheme+"://"+loc.Host+loc.Path != webReturn || q.Get("error") != tt.errCode ||
				q.Get("state") != "st-123" || q.Get("iss") != e.base || q.Get("code") != "" {
				t.Errorf("redirect = %s", loc)
			}
		})
	}
}

func TestLoopbackRedirectAnyPort(t *testing.T) {
	e := newEnv(t, func(o *Options) {
		o.Clients = append(o.Clients,
			Client{ID: "v6", RedirectURIs: []string{"http://[::1]:1/cb"}},
			Client{ID: "named", RedirectURIs: []string{"http://localhost/cb?x=1"}})
	})
	tests := []struct{ client, redirect string }{
		{cliClient, "http://127.0.0.1:49152/callback"},
		{cliClient, "http://127.0.0.1/callback"},
		{"v6", "http://[::1]:61000/cb"},
		{"named", "http://localhost:8000/cb?x=1"},
	}
	for _, tt := range tests {
		t.Run(tt.redirect, func(t *testing.T) {
			verifier, challenge := pkce()
			p := authParams(challenge)
			p.Set("client_id", tt.client)
			p.Set("redirect_uri", tt.redirect)
			loc := e.login(t, p, "bob", bobPass)
			want, _ := url.Parse(tt.redirect)
			if loc.Host != want.Host || loc.Path != want.Path {
				t.Fatalf("redirected to %s, want %s", loc.Redacted(), tt.redirect)
			}
			status, out := e.tokenCall(t, exchangeForm(loc.Query().Get("code"), tt.redirect, verifier, tt.client))
			if status != http.StatusOK {
				t.Errorf("exchange = %d %v", status, out)
			}
		})
	}
}
