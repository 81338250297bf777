package session

import (
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/sagegate/sagegate/internal/identity"
	"github.com/sagegate/sagegate/internal/problem"
)

func TestCheckCSRF(t *testing.T) {
	_, m, b := aliceSignedIn(t)
	token := m.CSRFToken(b.request("GET", "/"))
	if token == "" {
		t.Fatal("no token for a valid session")
	}
	other := newBrowser()
	signIn(t, m, other, identityWithName("bob"))
	foreignToken := m.CSRFToken(other.request("GET", "/"))
	if foreignToken == token {
		t.Fatal("two sessions share a CSRF token")
	}

	post := func(form url.Values, headers map[string]string) *http.Request {
		var body io.Reader
		if form != nil {
			body = strings.NewReader(form.Encode())
		}
		r := b.requestBody("POST", "/studio/launch", body)
		if form != nil {
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		for k, v := range headers {
			r.Header.Set(k, v)
		}
		return r
	}
	tests := []struct {
		name string
		req  *http.Request
		ok   bool
	}{
		{"header token", post(nil, map[string]string{CSRFHeader: token}), true},
		{"form token", post(url.Values{CSRFField: {token}}, nil), true},
		{"same origin", post(nil, map[string]string{CSRFHeader: token, "Origin": "https://studio.example.com", "Sec-Fetch-Site": "same-origin"}), true},
		{"typed by user", post(nil, map[string]string{CSRFHeader: token, "Sec-Fetch-Site": "none"}), true},
		{"GET needs nothing", b.request("GET", "/"), true},
		{"no token", post(nil, nil), false},
		{"empty form", post(url.Values{}, nil), false},
		{"garbage token", post(nil, map[string]string{CSRFHeader: "!!"}), false},
		{"another session's token", post(nil, map[string]string{CSRFHeader: foreignToken}), false},
		{"foreign origin", post(nil, map[string]string{CSRFHeader: token, "Origin": "https://evil.example"}), false},
		{"null origin", post(nil, map[string]string{CSRFHeader: token, "Origin": "null"}), false},
		{"http origin", post(nil, map[string]string{CSRFHeader: token, "Origin": "http://studio.example.com"}), false},
		{"cross-site", post(nil, map[string]string{CSRFHeader: token, "Sec-Fetch-Site": "cross-site"}), false},
		{"same-site sibling", post(nil, map[string]string{CSRFHeader: token, "Sec-Fetch-Site": "same-site"}), false},
	}
	for _, tt := range tests {
		err := m.CheckCSRF(tt.req)
		if tt.ok != (err == nil) {
			t.Errorf("%s: err = %v, want ok=%v", tt.name, err, tt.ok)
			continue
		}
		if err != nil {
			var pe *problem.Error
			if !errors.As(err, &pe) || pe.Status != http.StatusForbidden || pe.Code != CodeCSRF {
				t.Errorf("%s: error is not a 403 csrf problem: %v", tt.name, err)
			}
		}
	}

	// Without a session there is nothing a token could be bound to.
	r := newBrowser().request("POST", "/studio/launch")
	r.Header.Set(CSRFHeader, token)
	if err := m.CheckCSRF(r); err == nil {
		t.Error("POST without a session passed")
	}
	if got := m.CSRFToken(newBrowser().request("GET", "/")); got != "" {
		t.Errorf("token without a session: %q", got)
	}
}

func TestCSRFTokenSurvivesKeyRotation(t *testing.T) {
	clock := newClock()
	oldKey, newKey := testKey(t, 1), testKey(t, 2)
	before := testManager(t, clock, func(o *Options) { o.Codec = testCodec(t, oldKey) })
	b := newBrowser()
	signIn(t, before, b, alice)
	token := before.CSRFToken(b.request("GET", "/"))

	after := testManager(t, clock, func(o *Options) { o.Codec = testCodec(t, newKey, oldKey) })
	r := b.request("POST", "/")
	r.Header.Set(CSRFHeader, token)
	if err := after.CheckCSRF(r); err != nil {
		t.Fatalf("token issued before rotation refused: %v", err)
	}
	dropped := testManager(t, clock, func(o *Options) { o.Codec = testCodec(t, newKey) })
	if err := dropped.CheckCSRF(r); err == nil {
		t.Fatal("session under a dropped key passed")
	}
}

func identityWithName(name string) (p identity.Principal) {
	p = alice
	p.Username, p.Subject = name, "sub-"+name
	return p
}
