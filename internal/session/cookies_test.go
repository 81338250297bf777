package session

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestCookiePolicy(t *testing.T) {
	tests := []struct {
		public     string
		wantErr    string // substring; "" means accepted
		secure     bool
		name       string
		wantOrigin string
	}{
		{public: "https://studio.example.com", secure: true, name: "__Host-sagegate", wantOrigin: "https://studio.example.com"},
		{public: "https://Studio.Example.com:443/", secure: true, name: "__Host-sagegate", wantOrigin: "https://studio.example.com"},
		{public: "https://studio.example.com:8443", secure: true, name: "__Host-sagegate", wantOrigin: "https://studio.example.com:8443"},
		{public: "http://localhost:8080", secure: false, name: "sagegate_session", wantOrigin: "http://localhost:8080"},
		{public: "http://127.0.0.1:8080", secure: false, name: "sagegate_session", wantOrigin: "http://127.0.0.1:8080"},
		{public: "http://[::1]:8080", secure: false, name: "sagegate_session", wantOrigin: "http://[::1]:8080"},
		{public: "https://localhost:8443", secure: true, name: "__Host-sagegate", wantOrigin: "https://localhost:8443"},
		{public: "http://studio.example.com", wantErr: "https"},
		{public: "http://10.0.0.5:8080", wantErr: "https"},
		{public: "http://localhost.evil.com", wantErr: "https"},
		{public: "ftp://studio.example.com", wantErr: "https"},
		{public: "https://studio.example.com/gate", wantErr: "path"},
		{public: "https://user:pw@studio.example.com", wantErr: "no user"},
		{public: "studio.example.com", wantErr: "scheme://host"},
		{public: "", wantErr: "required"},
	}
	for _, tt := range tests {
		t.Run(tt.public, func(t *testing.T) {
			p, err := newCookiePolicy(tt.public)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want one mentioning %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if p.secure != tt.secure || p.sessionName != tt.name || p.origin != tt.wantOrigin {
				t.Fatalf("got secure=%v name=%q origin=%q, want %v %q %q", p.secure, p.sessionName, p.origin, tt.secure, tt.name, tt.wantOrigin)
			}
		})
	}
}

// TestSessionCookieAttributes checks the Set-Cookie a browser really gets,
// for both the __Host- (https) and the loopback-http shape.
func TestSessionCookieAttributes(t *testing.T) {
	for _, tt := range []struct {
		public string
		name   string
		secure bool
	}{
		{"https://studio.example.com", "__Host-sagegate", true},
		{"http://127.0.0.1:8080", "sagegate_session", false},
	} {
		t.Run(tt.public, func(t *testing.T) {
			clock := newClock()
			m := testManager(t, clock, func(o *Options) { o.PublicURL = tt.public })
			rec := httptest.NewRecorder()
			if err := m.write(rec, &state{ID: "id", Created: clock.Now().Unix(), Seen: clock.Now().Unix()}); err != nil {
				t.Fatal(err)
			}
			c := onlyCookie(t, rec.Result().Cookies(), tt.name)
			if !c.HttpOnly || c.Secure != tt.secure || c.SameSite != http.SameSiteLaxMode || c.Path != "/" || c.Domain != "" {
				t.Fatalf("attributes: HttpOnly=%v Secure=%v SameSite=%v Path=%q Domain=%q", c.HttpOnly, c.Secure, c.SameSite, c.Path, c.Domain)
			}
			if c.MaxAge != int(DefaultIdleTTL.Seconds()) {
				t.Fatalf("Max-Age = %d, want the idle lifetime %d", c.MaxAge, int(DefaultIdleTTL.Seconds()))
			}
		})
	}
}

func onlyCookie(t *testing.T, cookies []*http.Cookie, name string) *http.Cookie {
	t.Helper()
	var found *http.Cookie
	for _, c := range cookies {
		if c.Name == name {
			if found != nil {
				t.Fatalf("cookie %q set twice", name)
			}
			found = c
		}
	}
	if found == nil {
		t.Fatalf("cookie %q not set; got %v", name, cookies)
	}
	return found
}
