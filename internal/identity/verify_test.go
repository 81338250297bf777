package identity

import (
	"context"
	"encoding/base64"
	"maps"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/sagegate/sagegate/internal/identity/identitytest"
)

// person is a complete set of oidc claims; tests change one thing at a time.
func person(changes map[string]any) map[string]any {
	c := map[string]any{
		"sub":                "u-1",
		"aud":                "sagegate",
		"preferred_username": "alice",
		"email":              "alice@example.com",
		"groups":             []string{"lob-a", "admins"},
	}
	maps.Copy(c, changes)
	return c
}

func TestVerifyOIDC(t *testing.T) {
	e := newEnv(t, oidcConfig, Options{})
	iss := e.iss
	now := e.clock.Now()
	at := func(d time.Duration) int64 { return now.Add(d).Unix() }
	alice := &Principal{
		Username: "alice", Subject: "u-1", Email: "alice@example.com",
		Groups: []string{"lob-a", "admins"}, Issuer: iss.URL(), Provider: "corp",
	}
	b64 := base64.RawURLEncoding.EncodeToString

	tests := []struct {
		name   string
		token  func() string
		reason string
		want   *Principal // checked when reason is ""
	}{
		{"RS256", func() string { return iss.Sign(person(nil)) }, "", alice},
		{"ES256", func() string { return iss.SignWith("ES256", identitytest.ECKeyID, person(nil)) }, "", alice},
		{"no kid, tried against every key", func() string { return iss.SignWith("RS256", "", person(nil)) }, "", alice},
		{"aud array", func() string { return iss.Sign(person(map[string]any{"aud": []string{"other", "sagegate"}})) }, "", alice},
		{"groups as one string", func() string { return iss.Sign(person(map[string]any{"groups": "admins"})) }, "",
			&Principal{Username: "alice", Subject: "u-1", Email: "alice@example.com", Groups: []string{"admins"}, Issuer: iss.URL(), Provider: "corp"}},
		{"no groups, no email", func() string { return iss.Sign(person(map[string]any{"groups": nil, "email": nil})) }, "",
			&Principal{Username: "alice", Subject: "u-1", Issuer: iss.URL(), Provider: "corp"}},
		{"unverified email is dropped", func() string { return iss.Sign(person(map[string]any{"email_verified": false})) }, "",
			&Principal{Username: "alice", Subject: "u-1", Groups: []string{"lob-a", "admins"}, Issuer: iss.URL(), Provider: "corp"}},
		{"exp within leeway", func() string { return iss.Sign(person(map[string]any{"exp": at(-29 * time.Second)})) }, "", alice},
		{"nbf within leeway", func() string { return iss.Sign(person(map[string]any{"nbf": at(29 * time.Second)})) }, "", alice},
		{"fractional exp", func() string { return iss.Sign(person(map[string]any{"exp": float64(at(time.Minute)) + 0.5})) }, "", alice},

		{"empty", func() string { return "" }, ReasonMissingToken, nil},
		{"garbage", func() string { return "not-a-token" }, ReasonMalformed, nil},
		{"two parts", func() string { return "eyJhbGciOiJSUzI1NiJ9.e30" }, ReasonMalformed, nil},
		{"bad base64", func() string { return "eyJhbGciOiJSUzI1NiJ9.!!!.sig" }, ReasonMalformed, nil},
		{"JSON serialization", func() string { return `{"payload":"e30","signatures":[]}` }, ReasonMalformed, nil},
		{"payload not an object", func() string {
			parts := strings.Split(iss.Sign(person(nil)), ".")
			return parts[0] + "." + b64([]byte(`["x"]`)) + "." + parts[2]
		}, ReasonMalformed, nil},
		{"too large", func() string { return iss.Sign(person(map[string]any{"pad": strings.Repeat("x", maxTokenBytes)})) }, ReasonMalformed, nil},
		{"unknown critical header", func() string {
			return iss.Mint(identitytest.TokenSpec{Header: map[string]any{"crit": []string{"foo"}, "foo": "bar"}}, person(nil))
		}, ReasonMalformed, nil},

		{"bad signature", func() string { return iss.BadSignature(person(nil)) }, ReasonBadSignature, nil},
		{"tampered username", func() string {
			return iss.Tamper(iss.Sign(person(nil)), person(map[string]any{"preferred_username": "root"}))
		}, ReasonBadSignature, nil},
		{"forged with another key under the real kid", func() string {
			return iss.Mint(identitytest.TokenSpec{Alg: "ES256", KeyID: "ec-1", SigningKey: "attacker"}, person(nil))
		}, ReasonBadSignature, nil},
		{"alg none", func() string { return iss.AlgNone(person(nil)) }, ReasonUnsupportedAlg, nil},
		{"HS256 keyed with PEM public key", func() string { return iss.HS256WithPublicKey(identitytest.KeyPEM, person(nil)) }, ReasonUnsupportedAlg, nil},
		{"HS256 keyed with DER public key", func() string { return iss.HS256WithPublicKey(identitytest.KeyDER, person(nil)) }, ReasonUnsupportedAlg, nil},
		{"RS384 not allow-listed", func() string { return iss.SignWith("RS384", identitytest.RSAKeyID, person(nil)) }, ReasonUnsupportedAlg, nil},
		{"ES256 header on the RSA kid", func() string {
			return iss.Mint(identitytest.TokenSpec{Alg: "ES256", KeyID: identitytest.RSAKeyID, SigningKey: identitytest.ECKeyID}, person(nil))
		}, ReasonUnsupportedAlg, nil},

		{"expired", func() string { return iss.Sign(person(map[string]any{"exp": at(-31 * time.Second)})) }, ReasonExpired, nil},
		{"no exp", func() string { return iss.Sign(person(map[string]any{"exp": nil})) }, ReasonMissingClaim, nil},
		{"exp not a number", func() string { return iss.Sign(person(map[string]any{"exp": "tomorrow"})) }, ReasonMalformed, nil},
		{"exp absurd", func() string { return iss.Sign(person(map[string]any{"exp": 1e300})) }, ReasonMalformed, nil},
		{"nbf in the future", func() string { return iss.Sign(person(map[string]any{"nbf": at(31 * time.Second)})) }, ReasonNotYetValid, nil},
		{"iat in the future", func() string { return iss.Sign(person(map[string]any{"iat": at(time.Hour)})) }, ReasonNotYetValid, nil},

		{"wrong issuer", func() string { return iss.Sign(person(map[string]any{"iss": "https://evil.example"})) }, ReasonWrongIssuer, nil},
		{"issuer with trailing slash", func() string { return iss.Sign(person(map[string]any{"iss": iss.URL() + "/"})) }, ReasonWrongIssuer, nil},
		{"no issuer", func() string { return iss.Sign(person(map[string]any{"iss": nil})) }, ReasonWrongIssuer, nil},
		{"wrong audience", func() string { return iss.Sign(person(map[string]any{"aud": "other"})) }, ReasonWrongAudience, nil},
		{"no audience", func() string { return iss.Sign(person(map[string]any{"aud": nil})) }, ReasonWrongAudience, nil},
		{"no username", func() string { return iss.Sign(person(map[string]any{"preferred_username": nil})) }, ReasonMissingClaim, nil},
		{"empty username", func() string { return iss.Sign(person(map[string]any{"preferred_username": ""})) }, ReasonMissingClaim, nil},
		{"username not a string", func() string { return iss.Sign(person(map[string]any{"preferred_username": 42})) }, ReasonMalformed, nil},
		{"no sub", func() string { return iss.Sign(person(map[string]any{"sub": nil})) }, ReasonMissingClaim, nil},
		{"groups not strings", func() string { return iss.Sign(person(map[string]any{"groups": []int{1}})) }, ReasonMalformed, nil},
	}
	// A key the issuer holds but never publishes, for forged signatures.
	iss.AddKey(identitytest.KeySpec{ID: "attacker", Alg: "ES256", Hidden: true})

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := e.verify(t, tt.token(), tt.reason)
			if tt.reason == "" && !reflect.DeepEqual(p, tt.want) {
				t.Errorf("principal = %+v, want %+v", p, tt.want)
			}
		})
	}
	// Every bad token above was refused without a second key fetch.
	e.wantCalls(t, 1, 1)
}

func TestWrongIssuerFetchesNothing(t *testing.T) {
	e := newEnv(t, oidcConfig, Options{})
	for _, iss := range []string{"https://evil.example", "http://127.0.0.1:1"} {
		e.verify(t, e.iss.Sign(person(map[string]any{"iss": iss})), ReasonWrongIssuer)
		e.verify(t, e.iss.UnknownKid(person(map[string]any{"iss": iss})), ReasonWrongIssuer)
	}
	e.wantCalls(t, 0, 0)
}

func TestMaliciousAlgorithmsFetchNothing(t *testing.T) {
	e := newEnv(t, oidcConfig, Options{})
	e.verify(t, e.iss.AlgNone(person(nil)), ReasonUnsupportedAlg)
	e.verify(t, e.iss.HS256WithPublicKey(identitytest.KeyPEM, person(nil)), ReasonUnsupportedAlg)
	e.wantCalls(t, 0, 0)
}

func TestNoLeeway(t *testing.T) {
	e := newEnv(t, oidcConfig, Options{Leeway: -1})
	e.verify(t, e.iss.Sign(person(map[string]any{"exp": e.clock.Now().Add(-time.Second).Unix()})), ReasonExpired)
	e.verify(t, e.iss.Sign(person(map[string]any{"exp": e.clock.Now().Unix()})), ReasonExpired)
	e.verify(t, e.iss.Sign(person(map[string]any{"nbf": e.clock.Now().Add(time.Second).Unix()})), ReasonNotYetValid)
	e.verify(t, e.iss.Sign(person(map[string]any{"exp": e.clock.Now().Add(time.Second).Unix()})), "")
}

func TestExpiresAsClockMoves(t *testing.T) {
	e := newEnv(t, oidcConfig, Options{})
	tok := e.iss.Sign(person(nil)) // lives DefaultLifetime
	e.verify(t, tok, "")
	e.clock.Advance(identitytest.DefaultLifetime + DefaultLeeway)
	e.verify(t, tok, ReasonExpired)
}

func TestCustomClaims(t *testing.T) {
	e := newEnv(t, func(iss *identitytest.Issuer) ProviderConfig {
		c := oidcConfig(iss)
		c.UsernameClaim, c.GroupsClaim, c.EmailClaim = "email", "roles", "email"
		return c
	}, Options{})
	claims := person(map[string]any{"roles": []string{"r1"}, "email_verified": true})
	p := e.verify(t, e.iss.Sign(claims), "")
	want := &Principal{Username: "alice@example.com", Subject: "u-1", Email: "alice@example.com", Groups: []string{"r1"}, Issuer: e.iss.URL(), Provider: "corp"}
	if !reflect.DeepEqual(p, want) {
		t.Errorf("principal = %+v, want %+v", p, want)
	}
	// An unverified address must not name the person.
	e.verify(t, e.iss.Sign(person(map[string]any{"email_verified": false})), ReasonUnverifiedEmail)
	e.verify(t, e.iss.Sign(person(map[string]any{"email_verified": "false"})), ReasonUnverifiedEmail)
	e.verify(t, e.iss.Sign(person(map[string]any{"email_verified": "maybe"})), ReasonMalformed)
}

func TestAlgorithmOptions(t *testing.T) {
	e := newEnv(t, oidcConfig, Options{Algorithms: []string{"RS256", "PS256", "ES384"}})
	// rsa-1 is published with alg RS256: the key itself refuses PS256.
	e.verify(t, e.iss.SignWith("PS256", identitytest.RSAKeyID, person(nil)), ReasonUnsupportedAlg)
	// A key that declares no alg may be used with any alg of its type.
	e.iss.AddKey(identitytest.KeySpec{ID: "rsa-any", Alg: "PS256"})
	e.iss.AddKey(identitytest.KeySpec{ID: "ec-384", Alg: "ES384", PublishedAlg: "ES384"})
	e.clock.Advance(DefaultRefreshCooldown)
	e.verify(t, e.iss.SignWith("PS256", "rsa-any", person(nil)), "")
	e.verify(t, e.iss.SignWith("ES384", "ec-384", person(nil)), "")
	// ES256 is not allow-listed here.
	e.verify(t, e.iss.SignWith("ES256", identitytest.ECKeyID, person(nil)), ReasonUnsupportedAlg)
}

func TestNewVerifierRejects(t *testing.T) {
	good := []ProviderConfig{{Name: "corp", Type: TypeOIDC, Issuer: "https://idp.example.com", Audiences: []string{"a"}}}
	tests := []struct {
		name      string
		providers []ProviderConfig
		opts      Options
		want      string // in the error: refused for this reason, not another
	}{
		{"no providers", nil, Options{}, "at least one provider"},
		{"invalid provider", []ProviderConfig{{Name: "x", Type: "saml"}}, Options{}, "type: must be oidc or cognito"},
		{"HS256", good, Options{Algorithms: []string{"RS256", "HS256"}}, `algorithm "HS256" is not allowed`},
		{"none", good, Options{Algorithms: []string{"none"}}, `algorithm "none" is not allowed`},
		{"huge leeway", good, Options{Leeway: time.Hour}, "leeway 1h0m0s is above the maximum"},
		{"negative cooldown", good, Options{RefreshCooldown: -time.Second}, "must not be negative"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := NewVerifier(context.Background(), tt.providers, tt.opts); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("NewVerifier = %v, want an error mentioning %q", err, tt.want)
			}
		})
	}
	// Building needs no network: nothing listens on this issuer.
	if _, err := NewVerifier(context.Background(), good, Options{}); err != nil {
		t.Fatalf("NewVerifier: %v", err)
	}
}

func TestMultipleProviders(t *testing.T) {
	a, b := identitytest.NewIssuer(t), identitytest.NewIssuer(t)
	clock := newClock()
	a.SetNow(clock.Now)
	b.SetNow(clock.Now)
	v, err := NewVerifier(context.Background(), []ProviderConfig{oidcConfig(a), cognitoConfig(b)}, Options{Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	pa, err := v.Verify(context.Background(), a.Sign(person(nil)))
	if err != nil || pa.Provider != "corp" || pa.Issuer != a.URL() {
		t.Fatalf("oidc token: %+v, %v", pa, err)
	}
	pb, err := v.Verify(context.Background(), b.Sign(cognitoAccess(nil)))
	if err != nil || pb.Provider != "pool" || pb.Issuer != b.URL() {
		t.Fatalf("cognito token: %+v, %v", pb, err)
	}
	// A token of a's issuer signed by b's key must not verify.
	forged := b.Sign(person(map[string]any{"iss": a.URL()}))
	if _, err := v.Verify(context.Background(), forged); ReasonOf(err) != ReasonBadSignature {
		t.Fatalf("cross-issuer forgery: %v", err)
	}
	if err := v.Ready(context.Background()); err != nil {
		t.Fatalf("Ready: %v", err)
	}
}
