package session

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/sagegate/sagegate/internal/problem"
	"github.com/sagegate/sagegate/internal/testutil"
)

// harness is a gateway (this package plus a /studio page) and a test
// provider, both on 127.0.0.1, and a browser-like client with a cookie jar.
type harness struct {
	t      *testing.T
	clock  *fakeClock
	idp    *testProvider
	ver    *testVerifier
	gw     *httptest.Server
	m      *Manager
	jar    *cookiejar.Jar
	client *http.Client
	// logs is written by the gateway's handlers while the test reads it.
	logs *testutil.SyncBuffer
	// hops records every redirect response the client followed.
	hops []*http.Response
}

func newHarness(t *testing.T, idpSetup func(*testProvider), mutate func(*Options)) *harness {
	t.Helper()
	h := &harness{t: t, clock: newClock(), logs: &testutil.SyncBuffer{}}
	h.idp = newTestProvider(t, h.clock)
	if idpSetup != nil {
		idpSetup(h.idp)
	}
	h.ver = &testVerifier{p: h.idp}
	mux := http.NewServeMux()
	h.gw = httptest.NewServer(mux)
	t.Cleanup(h.gw.Close)
	h.idp.redirectURI = h.gw.URL + CallbackPath

	opts := Options{
		Codec: testCodec(t),
		Login: LoginConfig{
			Issuer:                h.idp.issuer(),
			ClientID:              h.idp.clientID,
			PostLogoutRedirectURL: h.gw.URL + "/bye",
		},
		Verifier:   h.ver,
		PublicURL:  h.gw.URL,
		HTTPClient: h.idp.srv.Client(),
		Now:        h.clock.Now,
		Logger:     slog.New(slog.NewTextHandler(h.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		// Render as "status code" so tests can assert the exact problem.
		Render: func(w http.ResponseWriter, _ *http.Request, err error) {
			p := problem.From(err)
			w.WriteHeader(p.Status)
			_, _ = io.WriteString(w, p.Code+": "+p.Detail)
		},
	}
	if mutate != nil {
		mutate(&opts)
	}
	m, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	h.m = m
	m.Routes(mux)
	mux.HandleFunc("GET /studio", func(w http.ResponseWriter, r *http.Request) {
		p, ok := m.Principal(r)
		if !ok {
			http.Redirect(w, r, m.LoginURL(r.URL.RequestURI()), http.StatusFound)
			return
		}
		m.Touch(w, r)
		_, _ = io.WriteString(w, "hello "+p.Username)
	})

	h.jar, _ = cookiejar.New(nil)
	h.client = &http.Client{
		Jar: h.jar,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			h.hops = append(h.hops, req.Response)
			// Stop at the provider's logout page, which the test provider
			// does not serve.
			if strings.HasSuffix(req.URL.Path, "/end_session") {
				return http.ErrUseLastResponse
			}
			return nil
		},
	}
	return h
}

func (h *harness) get(target string) (*http.Response, string) {
	h.t.Helper()
	resp, err := h.client.Get(target)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp, string(body)
}

// noFollow performs one request with the jar but without following
// redirects.
func (h *harness) noFollow(req *http.Request) (*http.Response, string) {
	h.t.Helper()
	c := &http.Client{Jar: h.jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp, string(body)
}

func (h *harness) hop(pathSuffix string) *http.Response {
	h.t.Helper()
	for _, r := range h.hops {
		if strings.HasSuffix(r.Request.URL.Path, pathSuffix) {
			return r
		}
	}
	h.t.Fatalf("no redirect from %s among %d hops", pathSuffix, len(h.hops))
	return nil
}

// startLogin goes to the provider and back, stopping before the callback is
// delivered; it returns the callback URL and the login cookie issued.
func (h *harness) startLogin(rd string) (*url.URL, *http.Cookie) {
	h.t.Helper()
	req, _ := http.NewRequest("GET", h.gw.URL+"/auth/login?rd="+url.QueryEscape(rd), nil)
	resp, _ := h.noFollow(req)
	if resp.StatusCode != http.StatusFound {
		h.t.Fatalf("login: status %d", resp.StatusCode)
	}
	var login *http.Cookie
	for _, c := range resp.Cookies() {
		if strings.HasPrefix(c.Name, "sagegate_login_") && c.MaxAge > 0 {
			login = c
		}
	}
	if login == nil {
		h.t.Fatalf("login cookie not set: %v", resp.Cookies())
	}
	req, _ = http.NewRequest("GET", resp.Header.Get("Location"), nil)
	resp, body := h.noFollow(req)
	if resp.StatusCode != http.StatusFound {
		h.t.Fatalf("authorize: status %d: %s", resp.StatusCode, body)
	}
	cb, err := url.Parse(resp.Header.Get("Location"))
	if err != nil {
		h.t.Fatal(err)
	}
	return cb, login
}

func (h *harness) callback(u *url.URL) (*http.Response, string) {
	h.t.Helper()
	req, _ := http.NewRequest("GET", u.String(), nil)
	return h.noFollow(req)
}

func (h *harness) sessionCookie() *http.Cookie {
	u, _ := url.Parse(h.gw.URL)
	for _, c := range h.jar.Cookies(u) {
		if c.Name == "sagegate_session" {
			return c
		}
	}
	return nil
}

func TestLoginFlow(t *testing.T) {
	h := newHarness(t, nil, nil)

	resp, body := h.get(h.gw.URL + "/studio?target=risk")
	if resp.StatusCode != http.StatusOK || body != "hello alice" {
		t.Fatalf("after login: %d %q", resp.StatusCode, body)
	}
	if got := resp.Request.URL.RequestURI(); got != "/studio?target=risk" {
		t.Fatalf("landed on %q, want the page first asked for", got)
	}

	// The login redirect: a per-login cookie and a PKCE S256 request.
	login := h.hop(LoginPath)
	if login.StatusCode != http.StatusFound {
		t.Fatalf("login status %d", login.StatusCode)
	}
	var loginCookie *http.Cookie
	for _, c := range login.Cookies() {
		if strings.HasPrefix(c.Name, "sagegate_login_") {
			loginCookie = c
		}
	}
	if loginCookie == nil || !loginCookie.HttpOnly || loginCookie.SameSite != http.SameSiteLaxMode || loginCookie.MaxAge != int(loginTTL.Seconds()) {
		t.Fatalf("login cookie: %+v", loginCookie)
	}
	if q := h.idp.authorizeQueries(); len(q) != 1 || !strings.Contains(q[0], "code_challenge_method=S256") {
		t.Fatalf("authorize requests: %v", q)
	}

	// The callback: session cookie set with the right attributes, login
	// cookie cleared, 303 to the page first asked for.
	cb := h.hop(CallbackPath)
	if cb.StatusCode != http.StatusSeeOther || cb.Header.Get("Location") != "/studio?target=risk" {
		t.Fatalf("callback: %d Location=%q", cb.StatusCode, cb.Header.Get("Location"))
	}
	if cc := cb.Header.Get("Cache-Control"); cc != "no-store" {
		t.Fatalf("callback Cache-Control %q", cc)
	}
	sess := onlyCookie(t, cb.Cookies(), "sagegate_session")
	if !sess.HttpOnly || sess.Secure || sess.SameSite != http.SameSiteLaxMode || sess.Path != "/" || sess.Domain != "" || sess.MaxAge != 3600 {
		t.Fatalf("session cookie: %+v", sess)
	}
	if c := onlyCookie(t, cb.Cookies(), loginCookie.Name); c.MaxAge >= 0 {
		t.Fatalf("login cookie not cleared: %+v", c)
	}

	// The verifier got the id token, and Principal() reads the user back.
	if h.ver.lastRaw() != h.idp.idToken() {
		t.Fatal("verifier was not given the id token")
	}
	r := httptest.NewRequest("GET", "/", nil)
	r.AddCookie(&http.Cookie{Name: sess.Name, Value: sess.Value})
	p, ok := h.m.Principal(r)
	if !ok || p.Username != "alice" || p.Subject != "sub-alice" || p.Email != "alice@example.com" || strings.Join(p.Groups, ",") != "ml-team,lob-risk" || p.Issuer != h.idp.issuer() {
		t.Fatalf("Principal = %+v, %v", p, ok)
	}

	// Discovery was fetched once and is cached for the next login.
	h.get(h.gw.URL + "/auth/login?rd=/studio")
	if h.idp.discoveries() != 1 {
		t.Fatalf("discovery fetched %d times, want 1", h.idp.discoveries())
	}

	// Secrets never reach the logs.
	logs := h.logs.String()
	for name, secret := range map[string]string{"id token": h.idp.idToken(), "session cookie": sess.Value, "login cookie": loginCookie.Value} {
		if strings.Contains(logs, secret) {
			t.Errorf("%s appears in the logs", name)
		}
	}
	if !strings.Contains(logs, "username=alice") {
		t.Errorf("login not logged: %s", logs)
	}
}

func TestLoginVerifiesAccessTokenWhenConfigured(t *testing.T) {
	h := newHarness(t, nil, func(o *Options) { o.Login.VerifyToken = VerifyAccessToken })
	_, body := h.get(h.gw.URL + "/studio")
	if body != "hello alice-from-access" {
		t.Fatalf("body %q: the access token was not the one verified", body)
	}
}

func TestLoginRejectsOpenRedirect(t *testing.T) {
	for _, rd := range []string{"//evil.com", "/\\evil.com", "https://evil.com", "javascript:alert(1)"} {
		t.Run(rd, func(t *testing.T) {
			h := newHarness(t, nil, nil)
			cb, _ := h.startLogin(rd)
			resp, body := h.callback(cb)
			if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/" {
				t.Fatalf("callback: %d Location=%q %s", resp.StatusCode, resp.Header.Get("Location"), body)
			}
		})
	}
}

func TestCallbackBadState(t *testing.T) {
	h := newHarness(t, nil, nil)
	cb, _ := h.startLogin("/studio")
	st := cb.Query().Get("state")

	for name, bad := range map[string]string{
		"missing": "",
		// Same cookie-naming prefix, different state: the full state must be
		// compared, not just used to find the cookie.
		"same prefix": st[:loginIDLen] + strings.Repeat("A", len(st)-loginIDLen),
		"other":       "ABCDEFGHIJKLMNOPQRSTUVWXYZ",
		"not ours":    "../../x",
	} {
		if name == "same prefix" && bad == st {
			t.Fatal("test state collides")
		}
		u := *cb
		q := u.Query()
		q.Set("state", bad)
		u.RawQuery = q.Encode()
		resp, body := h.callback(&u)
		if resp.StatusCode != http.StatusBadRequest || !strings.HasPrefix(body, CodeLoginState) {
			t.Errorf("%s: %d %q", name, resp.StatusCode, body)
		}
		if h.sessionCookie() != nil {
			t.Fatalf("%s: session set", name)
		}
	}
}

func TestCallbackReplay(t *testing.T) {
	h := newHarness(t, nil, nil)
	cb, loginCookie := h.startLogin("/studio")
	if resp, body := h.callback(cb); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("first callback: %d %s", resp.StatusCode, body)
	}

	// Replayed by the same browser: the login cookie was used up.
	resp, body := h.callback(cb)
	if resp.StatusCode != http.StatusBadRequest || !strings.HasPrefix(body, CodeLoginState) {
		t.Fatalf("replay: %d %q", resp.StatusCode, body)
	}

	// Replayed with a copy of the old login cookie (from another browser):
	// the provider refuses the spent code and no session is issued.
	req, _ := http.NewRequest("GET", cb.String(), nil)
	req.AddCookie(&http.Cookie{Name: loginCookie.Name, Value: loginCookie.Value})
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest || !strings.HasPrefix(string(b), CodeLoginFailed) {
		t.Fatalf("replay with copied cookie: %d %q", resp.StatusCode, b)
	}
	for _, c := range resp.Cookies() {
		if c.Name == "sagegate_session" && c.MaxAge >= 0 {
			t.Fatal("replay issued a session")
		}
	}
	if strings.Contains(h.logs.String(), cb.Query().Get("code")) {
		t.Fatal("authorization code logged")
	}
}

func TestCallbackExpiredLogin(t *testing.T) {
	h := newHarness(t, nil, nil)
	cb, _ := h.startLogin("/studio")
	h.clock.Advance(loginTTL)
	// The jar drops the cookie on its own real clock only, so the gateway
	// must check the expiry sealed inside.
	resp, body := h.callback(cb)
	if resp.StatusCode != http.StatusBadRequest || !strings.HasPrefix(body, CodeLoginState) {
		t.Fatalf("expired login: %d %q", resp.StatusCode, body)
	}
}

func TestCallbackProviderError(t *testing.T) {
	for _, tt := range []struct {
		deny   string
		status int
	}{
		{"access_denied", http.StatusUnauthorized},
		{"server_error", http.StatusBadRequest},
		{"made_up<script>", http.StatusBadRequest},
	} {
		t.Run(tt.deny, func(t *testing.T) {
			h := newHarness(t, func(p *testProvider) { p.denyWith = url.QueryEscape(tt.deny) }, nil)
			cb, _ := h.startLogin("/studio")
			resp, body := h.callback(cb)
			if resp.StatusCode != tt.status || !strings.HasPrefix(body, CodeLoginDenied) {
				t.Fatalf("%d %q", resp.StatusCode, body)
			}
			if strings.Contains(body, "0800") || strings.Contains(body, "<script>") {
				t.Fatalf("provider-supplied text shown to the user: %q", body)
			}
		})
	}
}

func TestCallbackRejectsUnverifiedLogin(t *testing.T) {
	t.Run("nonce", func(t *testing.T) {
		h := newHarness(t, func(p *testProvider) { p.wrongNonce = true }, nil)
		cb, _ := h.startLogin("/studio")
		resp, body := h.callback(cb)
		if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(body, "nonce") {
			t.Fatalf("%d %q", resp.StatusCode, body)
		}
		if h.sessionCookie() != nil {
			t.Fatal("session set despite a wrong nonce")
		}
	})
	t.Run("verifier", func(t *testing.T) {
		h := newHarness(t, nil, nil)
		h.ver.reject = true
		cb, _ := h.startLogin("/studio")
		resp, body := h.callback(cb)
		if resp.StatusCode != http.StatusUnauthorized || !strings.HasPrefix(body, CodeLoginFailed) {
			t.Fatalf("%d %q", resp.StatusCode, body)
		}
		if h.sessionCookie() != nil {
			t.Fatal("session set despite verification failure")
		}
	})
}

func TestDiscovery(t *testing.T) {
	t.Run("failure is not cached", func(t *testing.T) {
		h := newHarness(t, func(p *testProvider) { p.failDiscovery = true }, nil)
		resp, body := h.get(h.gw.URL + "/studio")
		if resp.StatusCode != http.StatusServiceUnavailable || !strings.HasPrefix(body, CodeIDPUnavailable) {
			t.Fatalf("%d %q", resp.StatusCode, body)
		}
		h.idp.mu.Lock()
		h.idp.failDiscovery = false
		h.idp.mu.Unlock()
		if _, body := h.get(h.gw.URL + "/studio"); body != "hello alice" {
			t.Fatalf("after recovery: %q", body)
		}
	})
	t.Run("issuer mismatch", func(t *testing.T) {
		h := newHarness(t, func(p *testProvider) { p.wrongIssuer = true }, nil)
		resp, _ := h.get(h.gw.URL + "/studio")
		if resp.StatusCode != http.StatusServiceUnavailable {
			t.Fatalf("status %d", resp.StatusCode)
		}
		if !strings.Contains(h.logs.String(), "does not match configured issuer") {
			t.Fatalf("mismatch not explained in logs: %s", h.logs.String())
		}
	})
	t.Run("explicit endpoints skip discovery", func(t *testing.T) {
		h := newHarness(t, nil, func(o *Options) {
			o.Login.AuthURL = strings.TrimSuffix(o.Login.Issuer, "/") + "/authorize"
			o.Login.TokenURL = strings.TrimSuffix(o.Login.Issuer, "/") + "/token"
			o.Login.Issuer = ""
		})
		if _, body := h.get(h.gw.URL + "/studio"); body != "hello alice" {
			t.Fatalf("body %q", body)
		}
		if h.idp.discoveries() != 0 {
			t.Fatalf("discovery fetched %d times", h.idp.discoveries())
		}
	})
}

func TestPendingLoginsBounded(t *testing.T) {
	h := newHarness(t, nil, nil)
	n := 0
	for i := 0; i < 3*maxPendingLogins; i++ {
		h.startLogin("/studio")
		u, _ := url.Parse(h.gw.URL)
		n = 0
		for _, c := range h.jar.Cookies(u) {
			if strings.HasPrefix(c.Name, "sagegate_login_") {
				n++
			}
		}
		if n > maxPendingLogins {
			t.Fatalf("%d login cookies pending after %d logins", n, i+1)
		}
	}
	// The bound is reached, not dodged by a jar that kept no login cookie.
	if n != maxPendingLogins {
		t.Fatalf("%d login cookies pending after %d logins, want the bound %d", n, 3*maxPendingLogins, maxPendingLogins)
	}
	// Two tabs logging in at once both succeed.
	h2 := newHarness(t, nil, nil)
	cb1, _ := h2.startLogin("/one")
	cb2, _ := h2.startLogin("/two")
	for _, cb := range []*url.URL{cb1, cb2} {
		if resp, body := h2.callback(cb); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("parallel login: %d %q", resp.StatusCode, body)
		}
	}
}
