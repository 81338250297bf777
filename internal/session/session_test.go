package session

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/sagegate/sagegate/internal/identity"
)

var alice = identity.Principal{
	Username: "alice", Subject: "sub-alice", Email: "alice@example.com",
	Groups: []string{"ml-team"}, Issuer: "https://idp.example", Provider: "corp",
}

// browser carries cookies between calls the way a browser would, honouring
// deletions, so lifetime tests read like a person using the site.
type browser struct{ cookies map[string]*http.Cookie }

func newBrowser() *browser { return &browser{cookies: map[string]*http.Cookie{}} }

func (b *browser) take(rec *httptest.ResponseRecorder) {
	for _, c := range rec.Result().Cookies() {
		if c.MaxAge < 0 {
			delete(b.cookies, c.Name)
			continue
		}
		b.cookies[c.Name] = c
	}
}

func (b *browser) request(method, target string) *http.Request {
	return b.requestBody(method, target, nil)
}

func (b *browser) requestBody(method, target string, body io.Reader) *http.Request {
	r := httptest.NewRequest(method, target, body)
	for _, c := range b.cookies {
		r.AddCookie(&http.Cookie{Name: c.Name, Value: c.Value})
	}
	return r
}

// signIn issues a session for p at the clock's current time.
func signIn(t *testing.T, m *Manager, b *browser, p identity.Principal) {
	t.Helper()
	now := m.now()
	rec := httptest.NewRecorder()
	if err := m.write(rec, &state{ID: "sid-" + p.Username, Principal: p, Created: now.Unix(), Seen: now.Unix()}); err != nil {
		t.Fatal(err)
	}
	b.take(rec)
}

// aliceSignedIn is a default manager on a fresh clock and a browser holding
// alice's new session: where most lifetime tests start.
func aliceSignedIn(t *testing.T) (*fakeClock, *Manager, *browser) {
	t.Helper()
	clock := newClock()
	m := testManager(t, clock, nil)
	b := newBrowser()
	signIn(t, m, b, alice)
	return clock, m, b
}

func TestPrincipalFromSession(t *testing.T) {
	clock := newClock()
	m := testManager(t, clock, nil)
	b := newBrowser()
	if _, ok := m.Principal(b.request("GET", "/")); ok {
		t.Fatal("Principal ok without a cookie")
	}
	signIn(t, m, b, alice)
	p, ok := m.Principal(b.request("GET", "/"))
	if !ok {
		t.Fatal("Principal not ok with a fresh session")
	}
	if p.Username != "alice" || p.Subject != "sub-alice" || p.Email != alice.Email || p.Issuer != alice.Issuer || p.Provider != "corp" || len(p.Groups) != 1 || p.Groups[0] != "ml-team" {
		t.Fatalf("Principal = %+v", p)
	}
	// A garbage duplicate must not hide the real cookie.
	r := httptest.NewRequest("GET", "/", nil)
	r.AddCookie(&http.Cookie{Name: "__Host-sagegate", Value: "garbage"})
	r.AddCookie(&http.Cookie{Name: "__Host-sagegate", Value: b.cookies["__Host-sagegate"].Value})
	if _, ok := m.Principal(r); !ok {
		t.Fatal("a preceding garbage cookie hid the valid one")
	}
}

func TestIdleExpiry(t *testing.T) {
	clock, m, b := aliceSignedIn(t)

	clock.Advance(DefaultIdleTTL - time.Second)
	if _, ok := m.Principal(b.request("GET", "/")); !ok {
		t.Fatal("session expired before the idle lifetime")
	}
	clock.Advance(time.Second)
	if _, ok := m.Principal(b.request("GET", "/")); ok {
		t.Fatal("session still valid after an hour idle")
	}
}

func TestTouchExtendsIdleButNotAbsolute(t *testing.T) {
	clock, m, b := aliceSignedIn(t)

	// Active every 50 minutes: idle never runs out, absolute does.
	start := clock.Now()
	for clock.Now().Sub(start) < DefaultAbsoluteTTL-50*time.Minute {
		clock.Advance(50 * time.Minute)
		rec := httptest.NewRecorder()
		m.Touch(rec, b.request("GET", "/"))
		b.take(rec)
		if _, ok := m.Principal(b.request("GET", "/")); !ok {
			t.Fatalf("active session expired after %s", clock.Now().Sub(start))
		}
	}
	clock.Advance(start.Add(DefaultAbsoluteTTL).Sub(clock.Now()))
	if _, ok := m.Principal(b.request("GET", "/")); ok {
		t.Fatalf("session valid at the absolute lifetime (%s)", clock.Now().Sub(start))
	}
}

func TestTouchThrottlesAndClears(t *testing.T) {
	clock, m, b := aliceSignedIn(t)

	clock.Advance(touchInterval - time.Second)
	rec := httptest.NewRecorder()
	m.Touch(rec, b.request("GET", "/"))
	if got := rec.Header().Values("Set-Cookie"); len(got) != 0 {
		t.Fatalf("Touch re-issued within a minute: %v", got)
	}

	clock.Advance(time.Second)
	rec = httptest.NewRecorder()
	m.Touch(rec, b.request("GET", "/"))
	c := onlyCookie(t, rec.Result().Cookies(), "__Host-sagegate")
	if c.MaxAge != int(DefaultIdleTTL.Seconds()) {
		t.Fatalf("re-issued Max-Age = %d, want a fresh idle lifetime", c.MaxAge)
	}
	b.take(rec)

	// Near the absolute end the cookie must not outlive the session.
	clock.Advance(DefaultAbsoluteTTL - touchInterval - 30*time.Minute)
	m2 := testManager(t, clock, func(o *Options) { o.IdleTTL = 11*time.Hour + 59*time.Minute })
	rec = httptest.NewRecorder()
	m2.Touch(rec, b.request("GET", "/"))
	c = onlyCookie(t, rec.Result().Cookies(), "__Host-sagegate")
	if c.MaxAge != int((30 * time.Minute).Seconds()) {
		t.Fatalf("Max-Age = %ds, want the 30m left of the absolute lifetime", c.MaxAge)
	}

	// A dead cookie is removed.
	clock.Advance(DefaultAbsoluteTTL)
	rec = httptest.NewRecorder()
	m.Touch(rec, b.request("GET", "/"))
	if c := onlyCookie(t, rec.Result().Cookies(), "__Host-sagegate"); c.MaxAge >= 0 {
		t.Fatalf("expired cookie not cleared: %+v", c)
	}
	// No cookie, no Set-Cookie.
	rec = httptest.NewRecorder()
	m.Touch(rec, httptest.NewRequest("GET", "/", nil))
	if got := rec.Header().Values("Set-Cookie"); len(got) != 0 {
		t.Fatalf("Touch without a session set %v", got)
	}
}

func TestSessionFromTheFutureRejected(t *testing.T) {
	clock := newClock()
	m := testManager(t, clock, nil)
	b := newBrowser()
	clock.Advance(time.Hour)
	signIn(t, m, b, alice)
	clock.Advance(-time.Hour)
	if _, ok := m.Principal(b.request("GET", "/")); ok {
		t.Fatal("session created an hour in the future accepted")
	}
}

func TestCookieSizeLimit(t *testing.T) {
	clock := newClock()
	m := testManager(t, clock, nil)
	now := clock.Now().Unix()

	// A large id token hint is dropped, the session survives.
	rec := httptest.NewRecorder()
	s := &state{ID: "x", Principal: alice, Created: now, Seen: now, IDToken: strings.Repeat("t", 3000)}
	if err := m.write(rec, s); err != nil {
		t.Fatal(err)
	}
	c := onlyCookie(t, rec.Result().Cookies(), "__Host-sagegate")
	if len(c.Name)+1+len(c.Value) > maxCookieBytes {
		t.Fatalf("cookie is %d bytes", len(c.Value))
	}
	got, ok := m.read(reqWith(c))
	if !ok || got == nil || got.IDToken != "" || got.Principal.Username != "alice" {
		t.Fatalf("after dropping the hint: %+v", got)
	}

	// A small hint is kept.
	rec = httptest.NewRecorder()
	s = &state{ID: "x", Principal: alice, Created: now, Seen: now, IDToken: "hint"}
	if err := m.write(rec, s); err != nil {
		t.Fatal(err)
	}
	if got, _ := m.read(reqWith(onlyCookie(t, rec.Result().Cookies(), "__Host-sagegate"))); got == nil || got.IDToken != "hint" {
		t.Fatalf("small hint not kept: %+v", got)
	}

	// A principal that cannot fit is an error, not a broken cookie.
	big := alice
	for i := 0; i < 200; i++ {
		big.Groups = append(big.Groups, strings.Repeat("g", 20))
	}
	rec = httptest.NewRecorder()
	if err := m.write(rec, &state{ID: "x", Principal: big, Created: now, Seen: now}); err == nil {
		t.Fatal("oversized session written")
	}
	if len(rec.Result().Cookies()) != 0 {
		t.Fatal("oversized session set a cookie")
	}
}

func reqWith(c *http.Cookie) *http.Request {
	r := httptest.NewRequest("GET", "/", nil)
	r.AddCookie(&http.Cookie{Name: c.Name, Value: c.Value})
	return r
}

func TestNewValidates(t *testing.T) {
	valid := func() Options {
		return Options{
			Codec:     testCodec(t),
			Login:     LoginConfig{Issuer: "https://idp.example", ClientID: "c"},
			Verifier:  staticVerifier{},
			PublicURL: "https://studio.example.com",
		}
	}
	m, err := New(valid())
	if err != nil {
		t.Fatalf("valid options refused: %v", err)
	}
	if m.login.RedirectURL != "https://studio.example.com/auth/callback" || m.login.VerifyToken != VerifyIDToken || strings.Join(m.login.Scopes, " ") != "openid email profile" {
		t.Fatalf("defaults: %+v", m.login)
	}
	if m.idleTTL != time.Hour || m.absoluteTTL != 12*time.Hour {
		t.Fatalf("lifetimes: %s %s", m.idleTTL, m.absoluteTTL)
	}
	for name, tt := range map[string]struct {
		mutate func(*Options)
		want   string
	}{
		"no codec":        {func(o *Options) { o.Codec = nil }, "codec"},
		"no verifier":     {func(o *Options) { o.Verifier = nil }, "verifier"},
		"no client":       {func(o *Options) { o.Login.ClientID = "" }, "client id"},
		"no endpoints":    {func(o *Options) { o.Login.Issuer = "" }, "issuer"},
		"http public":     {func(o *Options) { o.PublicURL = "http://studio.example.com" }, "https"},
		"bad verify":      {func(o *Options) { o.Login.VerifyToken = "refresh_token" }, "verify token"},
		"no openid scope": {func(o *Options) { o.Login.Scopes = []string{"email"} }, "openid"},
		"relative url":    {func(o *Options) { o.Login.LogoutURL = "/logout" }, "absolute"},
		"idle > absolute": {func(o *Options) { o.IdleTTL = 13 * time.Hour }, "longer"},
		"negative":        {func(o *Options) { o.IdleTTL = -1 }, "negative"},
	} {
		o := valid()
		tt.mutate(&o)
		if _, err := New(o); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: err = %v, want one mentioning %q", name, err, tt.want)
		}
	}
	// Every problem is reported at once.
	o := valid()
	o.Codec, o.Verifier, o.Login.ClientID = nil, nil, ""
	if _, err := New(o); err == nil || strings.Count(err.Error(), "\n") < 2 {
		t.Errorf("want three problems reported together, got %v", err)
	}
}
