package identity

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/sagegate/sagegate/internal/identity/identitytest"
)

var knownReasons = []string{
	ReasonMissingToken, ReasonMalformed, ReasonUnsupportedAlg, ReasonBadSignature, ReasonUnknownKey,
	ReasonExpired, ReasonNotYetValid, ReasonWrongIssuer, ReasonWrongAudience, ReasonWrongTokenUse,
	ReasonMissingClaim, ReasonKeysUnavailable, ReasonUnverifiedEmail,
}

// checkRefusal asserts what every refusal must look like: no principal, an
// *Error with a known reason and a detail, and the token nowhere in the
// error or the logs.
func checkRefusal(t *testing.T, p *Principal, err error, raw string, logs *syncBuffer) {
	t.Helper()
	if p != nil {
		t.Fatalf("Verify returned a principal and an error %v", err)
	}
	var ie *Error
	if !errors.As(err, &ie) || !slices.Contains(knownReasons, ie.Reason) || ie.Detail == "" {
		t.Fatalf("error %#v is not an *Error with a known reason and a detail", err)
	}
	if len(raw) > 20 && (strings.Contains(err.Error(), raw) || strings.Contains(logs.String(), raw)) {
		t.Fatalf("the token leaked into the error or the logs")
	}
}

// FuzzVerify feeds arbitrary strings to the verification entry point of a
// verifier trusting an oidc and a Cognito issuer. Whatever comes in, the
// answer is a principal or a well-formed refusal, and made-up key ids or
// issuers cannot make the verifier fetch keys again and again.
func FuzzVerify(f *testing.F) {
	clock := newClock()
	oidcIss, pool := identitytest.NewIssuer(f), identitytest.NewIssuer(f)
	oidcIss.SetNow(clock.Now)
	pool.SetNow(clock.Now)
	logs := &syncBuffer{}
	v, err := NewVerifier(context.Background(), []ProviderConfig{oidcConfig(oidcIss), cognitoConfig(pool)}, Options{
		Now: clock.Now, Logger: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	})
	if err != nil {
		f.Fatal(err)
	}
	good := oidcIss.Sign(person(nil))
	access := map[string]any{"sub": "s", "token_use": "access", "client_id": "app-client", "username": "bob"}
	for _, seed := range []string{
		good,
		pool.Sign(access),
		oidcIss.SignWith("ES256", identitytest.ECKeyID, person(nil)),
		oidcIss.AlgNone(person(nil)),
		oidcIss.HS256WithPublicKey(identitytest.KeyPEM, person(nil)),
		oidcIss.UnknownKid(person(nil)),
		oidcIss.BadSignature(person(nil)),
		oidcIss.Tamper(good, person(map[string]any{"preferred_username": "root"})),
		oidcIss.Mint(identitytest.TokenSpec{Header: map[string]any{"jku": "http://evil.invalid/jwks", "jwk": map[string]any{"kty": "oct"}}}, person(nil)),
		pool.Sign(map[string]any{"sub": "s", "token_use": "id", "aud": "app-client", "cognito:username": "bob"}),
		oidcIss.Sign(person(map[string]any{"iss": "https://evil.invalid"})),
		good + "." + good,
	} { // plus the static seeds in testdata/fuzz/FuzzVerify
		f.Add(seed)
	}
	ctx := context.Background()
	f.Fuzz(func(t *testing.T, raw string) {
		p, err := v.Verify(ctx, raw)
		if err != nil {
			checkRefusal(t, p, err, raw, logs)
		} else if p.Subject == "" || p.Username == "" || (p.Issuer != oidcIss.URL() && p.Issuer != pool.URL()) {
			t.Fatalf("accepted with an incomplete principal %+v", p)
		}
		// The clock never moves, so no cool-down ever ends: one fetch per
		// issuer, whatever kids and issuers the inputs invent.
		if n := oidcIss.JWKSCalls() + pool.JWKSCalls(); n > 2 {
			t.Fatalf("%d key fetches: made-up tokens made the verifier hammer the issuers", n)
		}
	})
}

// claimsIssuer signs arbitrary claim sets with a key its JWKS publishes, so
// that FuzzVerifyClaims explores the claim rules behind a valid signature.
type claimsIssuer struct {
	url    string
	signer jose.Signer
}

func newClaimsIssuer(f *testing.F) *claimsIssuer {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		f.Fatal(err)
	}
	jwks, err := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: key.Public(), KeyID: "k1", Algorithm: "ES256", Use: "sig"}}})
	if err != nil {
		f.Fatal(err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(jwks)
	}))
	f.Cleanup(srv.Close)
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: key}, (&jose.SignerOptions{}).WithType("JWT").WithHeader("kid", "k1"))
	if err != nil {
		f.Fatal(err)
	}
	return &claimsIssuer{url: srv.URL, signer: signer}
}

func (c *claimsIssuer) sign(t *testing.T, payload []byte) string {
	jws, err := c.signer.Sign(payload)
	if err != nil {
		t.Fatal(err)
	}
	out, err := jws.CompactSerialize()
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// FuzzVerifyClaims signs arbitrary JSON claims with a trusted key: the
// signature is always right, so what is fuzzed is the claim checks. A
// token is accepted only when its claims say it should be.
func FuzzVerifyClaims(f *testing.F) {
	clock := newClock()
	ci := newClaimsIssuer(f)
	oidcURL, poolURL := ci.url+"/oidc", ci.url+"/pool"
	logs := &syncBuffer{}
	v, err := NewVerifier(context.Background(), []ProviderConfig{
		{Name: "corp", Type: TypeOIDC, Issuer: oidcURL, JWKSURL: ci.url + "/jwks", Audiences: []string{"sagegate"}},
		{Name: "pool", Type: TypeCognito, UserPoolID: "local_abc123", Issuer: poolURL, JWKSURL: ci.url + "/jwks", ClientIDs: []string{"app-client"}},
	}, Options{Now: clock.Now, Logger: slog.New(slog.NewTextHandler(logs, nil))})
	if err != nil {
		f.Fatal(err)
	}
	now := clock.Now().Unix()
	seed := func(m map[string]any) []byte {
		b, _ := json.Marshal(m)
		return b
	}
	f.Add(seed(map[string]any{"iss": oidcURL, "sub": "u", "aud": "sagegate", "preferred_username": "alice", "exp": now + 60}))
	f.Add(seed(map[string]any{"iss": oidcURL, "sub": "u", "aud": []string{"x", "sagegate"}, "preferred_username": "a", "exp": now + 60, "groups": "g"}))
	f.Add(seed(map[string]any{"iss": poolURL, "sub": "u", "token_use": "access", "client_id": "app-client", "username": "bob", "exp": now + 60}))
	f.Add(seed(map[string]any{"iss": poolURL, "sub": "u", "token_use": "id", "aud": "app-client", "cognito:username": "bob", "email_verified": "false", "email": "b@x", "exp": now + 60}))
	f.Add(seed(map[string]any{"iss": oidcURL, "sub": "u", "aud": "sagegate", "preferred_username": "alice", "exp": now - 3600}))
	f.Add(seed(map[string]any{"iss": oidcURL, "sub": "u", "aud": "sagegate", "preferred_username": "alice", "exp": 1e300, "nbf": -1e300}))
	f.Add([]byte(`{"iss":"` + oidcURL + `","sub":"u","aud":"sagegate","preferred_username":"a","exp":1,"exp":99999999999}`))
	// Seeds without the issuer's address are in testdata/fuzz/FuzzVerifyClaims.
	ctx := context.Background()
	f.Fuzz(func(t *testing.T, payload []byte) {
		raw := ci.sign(t, payload)
		p, err := v.Verify(ctx, raw)
		if err != nil {
			checkRefusal(t, p, err, raw, logs)
			return
		}
		// Accepted: the claims must justify it. They decoded once, as the
		// verifier read them; duplicate keys are decoded the same way.
		var c map[string]any
		dec := json.NewDecoder(strings.NewReader(string(payload)))
		dec.UseNumber()
		if dec.Decode(&c) != nil {
			t.Fatalf("accepted a payload that is not a JSON object: %q", payload)
		}
		if c["iss"] != p.Issuer || (p.Issuer == oidcURL) != (p.Provider == "corp") {
			t.Fatalf("principal %+v does not match iss %v", p, c["iss"])
		}
		if p.Subject == "" || c["sub"] != p.Subject || p.Username == "" {
			t.Fatalf("principal %+v lacks sub or username (claims %v)", p, c)
		}
		exp, ok := c["exp"].(json.Number)
		if !ok {
			t.Fatalf("accepted without a numeric exp: %v", c["exp"])
		}
		if e, err := exp.Float64(); err != nil || e < float64(now)-DefaultLeeway.Seconds() {
			t.Fatalf("accepted an expired token: exp %v, now %d", exp, now)
		}
		switch p.Provider {
		case "corp":
			if !audHas(c["aud"], "sagegate") || c["preferred_username"] != p.Username {
				t.Fatalf("oidc accepted aud %v / username %v for %+v", c["aud"], c["preferred_username"], p)
			}
		case "pool":
			access := c["token_use"] == "access" && c["client_id"] == "app-client" && c["username"] == p.Username
			id := c["token_use"] == "id" && audHas(c["aud"], "app-client") && c["cognito:username"] == p.Username
			if !access && !id {
				t.Fatalf("cognito accepted claims %v for %+v", c, p)
			}
		}
	})
}

func audHas(aud any, want string) bool {
	switch a := aud.(type) {
	case string:
		return a == want
	case []any:
		return slices.Contains(a, any(want))
	}
	return false
}

// A verifier must refuse garbage quickly and without network I/O; this
// guards the fuzz seeds above against a future change that makes malformed
// input reach the key set.
func TestMalformedInputFetchesNoKeys(t *testing.T) {
	e := newEnv(t, oidcConfig, Options{})
	b64 := base64.RawURLEncoding.EncodeToString
	for _, raw := range []string{"x", "a.b.c", b64([]byte(`{"alg":"none"}`)) + "." + b64([]byte(`{}`)) + ".", strings.Repeat("A", maxTokenBytes+1)} {
		p, err := e.v.Verify(context.Background(), raw)
		checkRefusal(t, p, err, raw, e.logs)
	}
	e.wantCalls(t, 0, 0)
}
