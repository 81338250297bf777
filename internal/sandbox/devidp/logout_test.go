package devidp

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

func TestLogout(t *testing.T) {
	// The audience equals a client id so that an access token used as the
	// hint would name a client if the issuer did not tell the kinds apart.
	e := newEnv(t, func(o *Options) { o.Audience = webClient })
	idToken := e.signIn(t)["id_token"].(string)
	access, err := e.iss.Mint("alice", webClient)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		params   url.Values
		location string // "" means a page, no redirect
		page     string
	}{
		{
			name:     "registered post-logout URI by client_id",
			params:   url.Values{"client_id": {webClient}, "post_logout_redirect_uri": {"https://app.example.test/"}, "state": {"s1"}},
			location: "https://app.example.test/?state=s1",
		},
		{
			name:     "redirect URI doubles as post-logout URI, client from id_token_hint",
			params:   url.Values{"id_token_hint": {idToken}, "post_logout_redirect_uri": {webReturn}},
			location: webReturn,
		},
		{
			name:   "unregistered URI",
			params: url.Values{"client_id": {webClient}, "post_logout_redirect_uri": {"https://evil.example.test/"}},
			page:   "not registered",
		},
		{
			name:   "URI of another client",
			params: url.Values{"client_id": {cliClient}, "post_logout_redirect_uri": {"https://app.example.test/"}},
			page:   "not registered",
		},
		{
			name:   "no client to check the URI against",
			params: url.Values{"post_logout_redirect_uri": {"https://app.example.test/"}},
			page:   "not registered",
		},
		{
			name:   "access token is not an id_token_hint",
			params: url.Values{"id_token_hint": {access}, "post_logout_redirect_uri": {"https://app.example.test/"}},
			page:   "not registered",
		},
		{
			name:   "hint and client_id disagree",
			params: url.Values{"id_token_hint": {idToken}, "client_id": {cliClient}, "post_logout_redirect_uri": {webReturn}},
			page:   "not registered",
		},
		{
			name:   "plain sign-out",
			params: url.Values{},
			page:   "You are signed out.",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := e.get(t, e.base+"/logout?"+tt.params.Encode())
			if tt.location != "" {
				if resp.StatusCode != http.StatusFound || resp.Header.Get("Location") != tt.location {
					t.Errorf("status %d Location %q, want 302 to %s", resp.StatusCode, resp.Header.Get("Location"), tt.location)
				}
				return
			}
			if resp.StatusCode != http.StatusOK || resp.Header.Get("Location") != "" {
				t.Errorf("status %d Location %q, want a page", resp.StatusCode, resp.Header.Get("Location"))
			}
			if !strings.Contains(body, tt.page) || strings.Contains(body, "evil.example") {
				t.Errorf("page lacks %q or links to the refused URI:\n%s", tt.page, body)
			}
			cleared := false
			for _, c := range resp.Cookies() {
				cleared = cleared || (c.Name == loginCookie && c.MaxAge < 0)
			}
			if !cleared {
				t.Error("logout did not clear the login cookie")
			}
		})
	}
}
