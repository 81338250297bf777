package devidp

import (
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"
	"time"
)

func TestLoginPage(t *testing.T) {
	e := newEnv(t, nil)
	_, challenge := pkce()
	p := authParams(challenge)
	p.Set("login_hint", "bob")
	resp, page := e.get(t, e.base+"/authorize?"+p.Encode())
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d", resp.StatusCode)
	}
	h := resp.Header
	if !strings.Contains(h.Get("Content-Security-Policy"), "frame-ancestors 'none'") ||
		h.Get("X-Frame-Options") != "DENY" || h.Get("Cache-Control") != "no-store" {
		t.Errorf("security headers = %v", h)
	}
	var cookie *http.Cookie
	for _, c := range resp.Cookies() {
		if c.Name == loginCookie {
			cookie = c
		}
	}
	if cookie == nil || !cookie.HttpOnly || cookie.SameSite != http.SameSiteLaxMode || cookie.Path != issuerPath+"/authorize" {
		t.Errorf("login cookie = %+v", cookie)
	}
	for _, want := range []string{
		`<html lang="en">`,
		`name="viewport"`,
		`<label for="password">Password</label>`,
		`<legend>Demo user</legend>`,
		`id="user-0" value="alice">`,
		`id="user-1" value="bob" checked>`, // login_hint preselects
		`<label for="user-0">Alice Analyst`,
		`groups: lob-risk, admins`,
		`value="demo"`,
		`action="` + issuerPath + `/authorize"`,
		`<strong>` + webClient + `</strong>`,
	} {
		if !strings.Contains(page, want) {
			t.Errorf("login page lacks %q", want)
		}
	}
	for _, banned := range []string{"<script", "src=", "<link", "url(", "@import"} {
		if strings.Contains(page, banned) {
			t.Errorf("login page contains %q: no scripts or external assets allowed", banned)
		}
	}
	fields := formFields(t, page)
	for k := range authParams(challenge) {
		if fields.Get(k) != p.Get(k) {
			t.Errorf("hidden %s = %q, want %q", k, fields.Get(k), p.Get(k))
		}
	}
}

// TestLoginFormRefusals checks the CSRF and replay protection of the form:
// a submission only works with this browser's cookie, unchanged parameters
// and an unspent, unexpired form token.
func TestLoginFormRefusals(t *testing.T) {
	// set tampers with one form field and submits from the same browser.
	set := func(field, value string) func(*testing.T, *env, url.Values) *http.Client {
		return func(_ *testing.T, e *env, f url.Values) *http.Client {
			f.Set(field, value)
			return e.client
		}
	}
	_, otherChallenge := pkce()
	tests := []struct {
		name   string
		tamper func(t *testing.T, e *env, form url.Values) *http.Client
		want   string
	}{
		{"wrong password", set("password", "nope"), "Wrong user name or password."},
		{"unknown user", set("username", "mallory"), "Wrong user name or password."},
		{"changed state", set("state", "attacker"), "expired or was already used"},
		{"changed PKCE challenge", set("code_challenge", otherChallenge), "expired or was already used"},
		{"forged token", set("form_token", "abc.99999999999.def"), "expired or was already used"},
		{"another browser (no cookie)", func(t *testing.T, _ *env, _ url.Values) *http.Client {
			jar, err := cookiejar.New(nil)
			if err != nil {
				t.Fatal(err)
			}
			return &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		}, "expired or was already used"},
		{"expired form", func(_ *testing.T, e *env, _ url.Values) *http.Client {
			e.clock.Advance(loginFormTTL + time.Second)
			return e.client
		}, "expired or was already used"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, nil)
			_, challenge := pkce()
			form := e.loginForm(t, e.base+"/authorize?"+authParams(challenge).Encode(), "alice", "demo")
			e.client = tt.tamper(t, e, form)
			resp, body := e.postForm(t, e.base+"/authorize", form)
			if resp.StatusCode != http.StatusBadRequest || resp.Header.Get("Location") != "" {
				t.Fatalf("status %d Location %q, want 400 without redirect", resp.StatusCode, resp.Header.Get("Location"))
			}
			if !strings.Contains(body, tt.want) || !strings.Contains(body, `role="alert"`) {
				t.Errorf("page lacks error %q:\n%s", tt.want, body)
			}
			// The page offers a fresh form that works.
			again := formFields(t, body)
			if again.Get("form_token") == form.Get("form_token") {
				t.Error("form token was not renewed")
			}
			again.Set("username", "alice")
			again.Set("password", "demo")
			resp, body = e.postForm(t, e.base+"/authorize", again)
			if resp.StatusCode != http.StatusFound {
				t.Errorf("retry with the fresh form = %d:\n%s", resp.StatusCode, body)
			}
		})
	}
}

func TestLoginFormIsSingleUse(t *testing.T) {
	e := newEnv(t, nil)
	_, challenge := pkce()
	form := e.loginForm(t, e.base+"/authorize?"+authParams(challenge).Encode(), "alice", "demo")
	if resp, _ := e.postForm(t, e.base+"/authorize", form); resp.StatusCode != http.StatusFound {
		t.Fatalf("first submission = %d, want 302", resp.StatusCode)
	}
	if resp, _ := e.postForm(t, e.base+"/authorize", form); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("second submission = %d, want 400", resp.StatusCode)
	}
}

func TestLoginFormRefusesRepeatedFields(t *testing.T) {
	e := newEnv(t, nil)
	_, challenge := pkce()
	form := e.loginForm(t, e.base+"/authorize?"+authParams(challenge).Encode(), "alice", "demo")
	form.Add("state", "attacker")
	resp, body := e.postForm(t, e.base+"/authorize", form)
	if resp.StatusCode != http.StatusBadRequest || resp.Header.Get("Location") != "" ||
		!strings.Contains(body, "The form repeats the field state.") {
		t.Errorf("status %d Location %q, want 400 naming the field:\n%s", resp.StatusCode, resp.Header.Get("Location"), body)
	}
}
