package devidp

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"html"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
	"github.com/sagegate/sagegate/internal/testutil"
)

const (
	issuerPath = "/dev/oidc"
	webClient  = "sagegate-web"
	cliClient  = "sagegate-cli"
	webReturn  = "https://app.example.test/auth/callback"
	cliReturn  = "http://127.0.0.1/callback"
	bobPass    = "bobs-own-secret"
)

type fakeClock = testutil.Clock

type syncBuffer = testutil.SyncBuffer

// env is one issuer behind a real HTTP server on 127.0.0.1.
type env struct {
	iss    *Issuer
	clock  *fakeClock
	srv    *httptest.Server
	base   string // the issuer URL
	logs   *syncBuffer
	client *http.Client // keeps cookies, never follows redirects
}

func testUsers() []User {
	return []User{
		{Username: "alice", Email: "alice@example.test", Name: "Alice Analyst", Groups: []string{"lob-risk", "admins"}},
		{Username: "bob", Email: "bob@example.test", Name: "Bob Builder", Password: bobPass},
	}
}

func testClients() []Client {
	return []Client{
		{ID: webClient, RedirectURIs: []string{webReturn}, PostLogoutRedirectURIs: []string{"https://app.example.test/"}},
		{ID: cliClient, RedirectURIs: []string{cliReturn}, Public: true},
	}
}

// testKey returns a fresh P-256 key: fast to generate, unlike RSA.
func testKey(t *testing.T) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// newEnv starts an issuer mounted at issuerPath without StripPrefix; mutate
// may change the options before New.
func newEnv(t *testing.T, mutate func(*Options)) *env {
	t.Helper()
	e := &env{clock: testutil.NewClock(time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)), logs: &syncBuffer{}}
	e.srv = httptest.NewUnstartedServer(nil)
	e.base = "http://" + e.srv.Listener.Addr().String() + issuerPath
	opts := Options{
		Issuer:   e.base,
		Audience: "sagegate",
		Users:    testUsers(),
		Clients:  testClients(),
		Now:      e.clock.Now,
		Logger:   slog.New(slog.NewTextHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Key:      testKey(t),
	}
	if mutate != nil {
		mutate(&opts)
	}
	iss, err := New(opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	e.iss = iss
	mux := http.NewServeMux()
	mux.Handle(issuerPath+"/", iss.Handler())
	e.srv.Config.Handler = mux
	e.srv.Start()
	t.Cleanup(e.srv.Close)

	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	e.client = &http.Client{
		Jar:           jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	return e
}

// do sends req and returns the response with its body read.
func (e *env) do(t *testing.T, req *http.Request) (*http.Response, string) {
	t.Helper()
	resp, err := e.client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL.Path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, string(body)
}

func (e *env) get(t *testing.T, rawURL string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, rawURL, nil)
	if err != nil {
		t.Fatal(err)
	}
	return e.do(t, req)
}

func (e *env) postForm(t *testing.T, rawURL string, form url.Values) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, rawURL, strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return e.do(t, req)
}

// tokenCall posts to the token endpoint and decodes the JSON answer.
func (e *env) tokenCall(t *testing.T, form url.Values) (int, map[string]any) {
	t.Helper()
	resp, body := e.postForm(t, e.base+"/token", form)
	out := decodeJSON(t, body)
	if cc := resp.Header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("token response Cache-Control = %q, want no-store", cc)
	}
	return resp.StatusCode, out
}

func decodeJSON(t *testing.T, body string) map[string]any {
	t.Helper()
	var out map[string]any
	if err := json.Unmarshal([]byte(body), &out); err != nil {
		t.Fatalf("not JSON: %v: %s", err, body)
	}
	return out
}

// pkce returns a verifier and its S256 challenge.
func pkce() (verifier, challenge string) {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	verifier = base64.RawURLEncoding.EncodeToString(b)
	sum := sha256.Sum256([]byte(verifier))
	return verifier, base64.RawURLEncoding.EncodeToString(sum[:])
}

// authParams is a valid authorization request for the web client.
func authParams(challenge string) url.Values {
	return url.Values{
		"client_id":             {webClient},
		"redirect_uri":          {webReturn},
		"response_type":         {"code"},
		"scope":                 {"openid email profile groups"},
		"state":                 {"st-123"},
		"nonce":                 {"n-456"},
		"code_challenge":        {challenge},
		"code_challenge_method": {"S256"},
	}
}

var hiddenInput = regexp.MustCompile(`<input type="hidden" name="([^"]+)" value="([^"]*)">`)

// formFields returns the hidden fields of the login page.
func formFields(t *testing.T, page string) url.Values {
	t.Helper()
	out := url.Values{}
	for _, m := range hiddenInput.FindAllStringSubmatch(page, -1) {
		out.Set(html.UnescapeString(m[1]), html.UnescapeString(m[2]))
	}
	if out.Get("form_token") == "" {
		t.Fatalf("login page has no form_token:\n%s", page)
	}
	return out
}

// loginForm opens the login page at authorizeURL and returns its form
// filled in with username and password, ready to post.
func (e *env) loginForm(t *testing.T, authorizeURL, username, password string) url.Values {
	t.Helper()
	resp, page := e.get(t, authorizeURL)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /authorize = %d, want 200:\n%s", resp.StatusCode, page)
	}
	form := formFields(t, page)
	form.Set("username", username)
	form.Set("password", password)
	return form
}

// login runs GET /authorize and POST /authorize for a user and returns the
// redirect's URL; it fails the test unless both steps succeed.
func (e *env) login(t *testing.T, params url.Values, username, password string) *url.URL {
	t.Helper()
	form := e.loginForm(t, e.base+"/authorize?"+params.Encode(), username, password)
	resp, page := e.postForm(t, e.base+"/authorize", form)
	if resp.StatusCode != http.StatusFound {
		t.Fatalf("POST /authorize = %d, want 302:\n%s", resp.StatusCode, page)
	}
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

// verifyJWT checks raw against the issuer's published JWKS, the way a
// relying party would, and returns its claims.
func (e *env) verifyJWT(t *testing.T, raw string) map[string]any {
	t.Helper()
	_, body := e.get(t, e.base+"/jwks")
	var set jose.JSONWebKeySet
	if err := json.Unmarshal([]byte(body), &set); err != nil {
		t.Fatalf("jwks: %v", err)
	}
	tok, err := jwt.ParseSigned(raw, []jose.SignatureAlgorithm{jose.RS256, jose.ES256})
	if err != nil {
		t.Fatalf("parse token: %v", err)
	}
	kid := tok.Headers[0].KeyID
	keys := set.Key(kid)
	if kid == "" || len(keys) != 1 {
		t.Fatalf("token kid %q matches %d published keys", kid, len(keys))
	}
	claims := map[string]any{}
	if err := tok.Claims(keys[0].Key, &claims); err != nil {
		t.Fatalf("token does not verify against the JWKS: %v", err)
	}
	return claims
}
