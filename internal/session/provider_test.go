package session

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/sagegate/sagegate/internal/identity"
	"github.com/sagegate/sagegate/internal/testutil"
)

// fakeClock is the injected clock every test shares between the gateway,
// the test provider and the test verifier.
type fakeClock = testutil.Clock

func newClock() *fakeClock { return testutil.NewClock(time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)) }

// testProvider is a minimal OIDC provider: discovery, an /authorize that
// signs the user in at once, and a /token that enforces PKCE S256 and
// single-use codes, issuing ES256-signed tokens.
type testProvider struct {
	t        *testing.T
	srv      *httptest.Server
	key      *ecdsa.PrivateKey
	signer   jose.Signer
	clock    *fakeClock
	clientID string

	mu sync.Mutex
	// redirectURI must match what the gateway sends; set once it is known.
	redirectURI string
	codes       map[string]grant
	// Knobs for failure cases.
	denyWith      string // /authorize answers with error=<denyWith>
	wrongNonce    bool   // id_token carries a nonce the gateway did not send
	noEndSession  bool   // discovery omits end_session_endpoint
	wrongIssuer   bool   // discovery claims another issuer
	failDiscovery bool   // discovery answers 500
	// Observations.
	discoveryHits int
	authorizeReqs []string // raw queries
	issuedIDToken string
}

type grant struct {
	challenge, nonce, redirectURI string
}

func newTestProvider(t *testing.T, clock *fakeClock) *testProvider {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: key}, (&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		t.Fatal(err)
	}
	p := &testProvider{t: t, key: key, signer: signer, clock: clock, clientID: "sagegate-test", codes: map[string]grant{}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", p.discovery)
	mux.HandleFunc("GET /authorize", p.authorize)
	mux.HandleFunc("POST /token", p.token)
	p.srv = httptest.NewServer(mux)
	t.Cleanup(p.srv.Close)
	return p
}

func (p *testProvider) issuer() string { return p.srv.URL }

func (p *testProvider) idToken() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.issuedIDToken
}

func (p *testProvider) authorizeQueries() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.authorizeReqs...)
}

func (p *testProvider) discoveries() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.discoveryHits
}

func (p *testProvider) discovery(w http.ResponseWriter, _ *http.Request) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.discoveryHits++
	if p.failDiscovery {
		http.Error(w, "down", http.StatusInternalServerError)
		return
	}
	doc := map[string]string{
		"issuer":                 p.issuer(),
		"authorization_endpoint": p.issuer() + "/authorize",
		"token_endpoint":         p.issuer() + "/token",
	}
	if !p.noEndSession {
		doc["end_session_endpoint"] = p.issuer() + "/end_session"
	}
	if p.wrongIssuer {
		doc["issuer"] = "https://someone-else.example"
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(doc)
}

func (p *testProvider) authorize(w http.ResponseWriter, r *http.Request) {
	p.mu.Lock()
	defer p.mu.Unlock()
	q := r.URL.Query()
	p.authorizeReqs = append(p.authorizeReqs, r.URL.RawQuery)
	var problems []string
	check := func(ok bool, what string) {
		if !ok {
			problems = append(problems, what)
		}
	}
	check(q.Get("response_type") == "code", "response_type=code")
	check(q.Get("client_id") == p.clientID, "client_id")
	check(q.Get("redirect_uri") == p.redirectURI, "redirect_uri "+q.Get("redirect_uri"))
	check(q.Get("code_challenge_method") == "S256", "code_challenge_method=S256")
	check(len(q.Get("code_challenge")) == 43, "code_challenge")
	check(q.Get("state") != "", "state")
	check(q.Get("nonce") != "", "nonce")
	check(slices.Contains(strings.Fields(q.Get("scope")), "openid"), "scope openid")
	if len(problems) > 0 {
		http.Error(w, "authorize: bad "+strings.Join(problems, ", "), http.StatusBadRequest)
		return
	}
	back := q.Get("redirect_uri") + "?state=" + q.Get("state")
	if p.denyWith != "" {
		http.Redirect(w, r, back+"&error="+p.denyWith+"&error_description=Call+0800+EVIL", http.StatusFound)
		return
	}
	code := rand.Text()
	p.codes[code] = grant{challenge: q.Get("code_challenge"), nonce: q.Get("nonce"), redirectURI: q.Get("redirect_uri")}
	http.Redirect(w, r, back+"&code="+code, http.StatusFound)
}

func (p *testProvider) token(w http.ResponseWriter, r *http.Request) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if err := r.ParseForm(); err != nil {
		tokenError(w, "invalid_request")
		return
	}
	code := r.PostForm.Get("code")
	g, ok := p.codes[code]
	delete(p.codes, code) // single use, whatever the outcome
	sum := sha256.Sum256([]byte(r.PostForm.Get("code_verifier")))
	switch {
	case r.PostForm.Get("grant_type") != "authorization_code":
		tokenError(w, "unsupported_grant_type")
		return
	case r.PostForm.Get("client_id") != p.clientID:
		tokenError(w, "invalid_client")
		return
	case !ok:
		tokenError(w, "invalid_grant")
		return
	case r.PostForm.Get("redirect_uri") != g.redirectURI:
		tokenError(w, "invalid_grant")
		return
	case base64.RawURLEncoding.EncodeToString(sum[:]) != g.challenge:
		tokenError(w, "invalid_grant")
		return
	}
	nonce := g.nonce
	if p.wrongNonce {
		nonce = "not-the-nonce"
	}
	now := p.clock.Now()
	claims := map[string]any{
		"iss": p.issuer(), "sub": "sub-alice", "aud": p.clientID,
		"iat": now.Unix(), "exp": now.Add(time.Hour).Unix(),
		"nonce": nonce, "email": "alice@example.com",
		"preferred_username": "alice", "groups": []string{"ml-team", "lob-risk"},
	}
	idToken := p.sign(claims)
	delete(claims, "nonce")
	claims["token_use"] = "access"
	claims["preferred_username"] = "alice-from-access"
	p.issuedIDToken = idToken
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{
		"access_token": p.sign(claims), "token_type": "Bearer", "expires_in": 3600, "id_token": idToken,
	})
}

func tokenError(w http.ResponseWriter, code string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusBadRequest)
	_ = json.NewEncoder(w).Encode(map[string]string{"error": code})
}

func (p *testProvider) sign(claims map[string]any) string {
	b, err := json.Marshal(claims)
	if err != nil {
		p.t.Fatal(err)
	}
	jws, err := p.signer.Sign(b)
	if err != nil {
		p.t.Fatal(err)
	}
	s, err := jws.CompactSerialize()
	if err != nil {
		p.t.Fatal(err)
	}
	return s
}

// testVerifier checks the signature, issuer, audience and expiry of tokens
// from a testProvider: enough to prove the gateway passes the right token
// and trusts only what verified.
type testVerifier struct {
	p      *testProvider
	mu     sync.Mutex
	raws   []string
	reject bool
}

func (v *testVerifier) Verify(_ context.Context, raw string) (*identity.Principal, error) {
	v.mu.Lock()
	v.raws = append(v.raws, raw)
	reject := v.reject
	v.mu.Unlock()
	if reject {
		return nil, &identity.Error{Reason: identity.ReasonBadSignature, Detail: "rejected by test"}
	}
	jws, err := jose.ParseSignedCompact(raw, []jose.SignatureAlgorithm{jose.ES256})
	if err != nil {
		return nil, &identity.Error{Reason: identity.ReasonMalformed, Detail: "parse", Err: err}
	}
	payload, err := jws.Verify(&v.p.key.PublicKey)
	if err != nil {
		return nil, &identity.Error{Reason: identity.ReasonBadSignature, Detail: "signature", Err: err}
	}
	var c struct {
		Iss      string   `json:"iss"`
		Sub      string   `json:"sub"`
		Aud      string   `json:"aud"`
		Exp      int64    `json:"exp"`
		Email    string   `json:"email"`
		Username string   `json:"preferred_username"`
		Groups   []string `json:"groups"`
	}
	if err := json.Unmarshal(payload, &c); err != nil {
		return nil, &identity.Error{Reason: identity.ReasonMalformed, Detail: "claims", Err: err}
	}
	switch {
	case c.Iss != v.p.issuer():
		return nil, &identity.Error{Reason: identity.ReasonWrongIssuer, Detail: c.Iss}
	case c.Aud != v.p.clientID:
		return nil, &identity.Error{Reason: identity.ReasonWrongAudience, Detail: c.Aud}
	case !v.p.clock.Now().Before(time.Unix(c.Exp, 0)):
		return nil, &identity.Error{Reason: identity.ReasonExpired, Detail: "expired"}
	}
	return &identity.Principal{Username: c.Username, Subject: c.Sub, Email: c.Email, Groups: c.Groups, Issuer: c.Iss, Provider: "test"}, nil
}

func (v *testVerifier) lastRaw() string {
	v.mu.Lock()
	defer v.mu.Unlock()
	if len(v.raws) == 0 {
		return ""
	}
	return v.raws[len(v.raws)-1]
}

// staticVerifier returns a fixed principal; for tests that never reach a
// provider.
type staticVerifier struct{ p identity.Principal }

func (s staticVerifier) Verify(context.Context, string) (*identity.Principal, error) {
	if s.p.Username == "" {
		return nil, errors.New("no principal configured")
	}
	p := s.p
	return &p, nil
}

func testKey(t *testing.T, b byte) []byte {
	t.Helper()
	k := make([]byte, KeySize)
	for i := range k {
		k[i] = b + byte(i)
	}
	return k
}

func testCodec(t *testing.T, keys ...[]byte) *Codec {
	t.Helper()
	if len(keys) == 0 {
		keys = [][]byte{testKey(t, 1)}
	}
	c, err := NewCodec(keys)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// testManager builds a Manager that never talks to a provider, for unit
// tests of sessions and CSRF.
func testManager(t *testing.T, clock *fakeClock, mutate func(*Options)) *Manager {
	t.Helper()
	opts := Options{
		Codec:     testCodec(t),
		Login:     LoginConfig{ClientID: "c", AuthURL: "https://idp.example/authorize", TokenURL: "https://idp.example/token"},
		Verifier:  staticVerifier{},
		PublicURL: "https://studio.example.com",
		Now:       clock.Now,
	}
	if mutate != nil {
		mutate(&opts)
	}
	m, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	return m
}
