package session

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

var tokenInForm = regexp.MustCompile(`name="csrf_token" value="([^"]+)"`)

// logoutForm logs in, opens the confirm page and returns the CSRF token in
// its form.
func logoutForm(t *testing.T, h *harness) string {
	t.Helper()
	if _, body := h.get(h.gw.URL + "/studio"); body != "hello alice" {
		t.Fatalf("login: %q", body)
	}
	resp, body := h.get(h.gw.URL + LogoutPath)
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, `method="post"`) {
		t.Fatalf("confirm page: %d %q", resp.StatusCode, body)
	}
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "frame-ancestors 'none'") {
		t.Fatalf("confirm page may be framed: CSP %q", csp)
	}
	m := tokenInForm.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no token in form: %s", body)
	}
	return m[1]
}

func (h *harness) postLogout(form url.Values, origin string) (*http.Response, string) {
	h.t.Helper()
	req, _ := http.NewRequest("POST", h.gw.URL+LogoutPath, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if origin != "" {
		req.Header.Set("Origin", origin)
	}
	return h.noFollow(req)
}

func TestLogout(t *testing.T) {
	h := newHarness(t, nil, nil)
	token := logoutForm(t, h)

	// Without the token, or from another origin, nothing happens.
	if resp, body := h.postLogout(url.Values{}, h.gw.URL); resp.StatusCode != http.StatusForbidden || !strings.HasPrefix(body, CodeCSRF) {
		t.Fatalf("logout without token: %d %q", resp.StatusCode, body)
	}
	if resp, _ := h.postLogout(url.Values{CSRFField: {token}}, "https://evil.example"); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("logout from a foreign origin: %d", resp.StatusCode)
	}
	if h.sessionCookie() == nil {
		t.Fatal("refused logout still ended the session")
	}

	resp, _ := h.postLogout(url.Values{CSRFField: {token}}, h.gw.URL)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("logout: status %d", resp.StatusCode)
	}
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	q := loc.Query()
	if got := loc.Scheme + "://" + loc.Host + loc.Path; got != h.idp.issuer()+"/end_session" {
		t.Fatalf("logout went to %q, want the end_session_endpoint", got)
	}
	if q.Get("id_token_hint") != h.idp.idToken() || q.Get("id_token_hint") == "" {
		t.Fatal("id_token_hint missing or not the id token from login")
	}
	if q.Get("post_logout_redirect_uri") != h.gw.URL+"/bye" || q.Get("client_id") != h.idp.clientID {
		t.Fatalf("logout query %v", q)
	}
	if c := onlyCookie(t, resp.Cookies(), "sagegate_session"); c.MaxAge >= 0 || c.Value != "" {
		t.Fatalf("session cookie not cleared: %+v", c)
	}
	if h.sessionCookie() != nil {
		t.Fatal("browser still holds the session")
	}
	// Back to square one: /studio wants a login again.
	req, _ := http.NewRequest("GET", h.gw.URL+"/studio", nil)
	if resp, _ := h.noFollow(req); resp.StatusCode != http.StatusFound || !strings.HasPrefix(resp.Header.Get("Location"), LoginPath) {
		t.Fatalf("after logout /studio: %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	if strings.Contains(h.logs.String(), token) {
		t.Fatal("csrf token logged")
	}
}

func TestLogoutWithoutEndSession(t *testing.T) {
	h := newHarness(t, func(p *testProvider) { p.noEndSession = true }, nil)
	token := logoutForm(t, h)
	resp, _ := h.postLogout(url.Values{CSRFField: {token}}, "")
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != h.gw.URL+"/bye" {
		t.Fatalf("logout: %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	if h.sessionCookie() != nil {
		t.Fatal("session not cleared")
	}
}

func TestLogoutConfiguredURLKeepsItsQuery(t *testing.T) {
	h := newHarness(t, nil, func(o *Options) {
		// Cognito style: its own logout endpoint and parameter.
		o.Login.LogoutURL = "https://auth.example.com/logout?logout_uri=https%3A%2F%2Fstudio.example.com%2F"
	})
	token := logoutForm(t, h)
	resp, _ := h.postLogout(url.Values{CSRFField: {token}}, h.gw.URL)
	loc, _ := url.Parse(resp.Header.Get("Location"))
	if loc.Host != "auth.example.com" || loc.Query().Get("logout_uri") != "https://studio.example.com/" || loc.Query().Get("client_id") != h.idp.clientID {
		t.Fatalf("logout Location %q", loc)
	}
}

func TestLogoutWithoutSession(t *testing.T) {
	h := newHarness(t, nil, func(o *Options) { o.Login.PostLogoutRedirectURL = "" })
	req, _ := http.NewRequest("GET", h.gw.URL+LogoutPath, nil)
	if resp, _ := h.noFollow(req); resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/" {
		t.Fatalf("GET logout without session: %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	if resp, _ := h.postLogout(url.Values{}, ""); resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/" {
		t.Fatalf("POST logout without session: %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	// A cookie that no longer opens is cleared, whichever way logout is asked.
	for _, method := range []string{http.MethodGet, http.MethodPost} {
		req, _ := http.NewRequest(method, h.gw.URL+LogoutPath, nil)
		req.AddCookie(&http.Cookie{Name: h.m.cookies.sessionName, Value: "dead"})
		resp, _ := h.noFollow(req)
		cleared := false
		for _, c := range resp.Cookies() {
			cleared = cleared || (c.Name == h.m.cookies.sessionName && c.MaxAge < 0)
		}
		if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/" || !cleared {
			t.Errorf("%s logout with a dead cookie: %d %q, cookies %v", method, resp.StatusCode, resp.Header.Get("Location"), resp.Header.Values("Set-Cookie"))
		}
	}
}
