package identity

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/sagegate/sagegate/internal/identity/identitytest"
)

// TestHostileJWKS serves a JWKS that mixes one good key with keys that
// must never be used: a symmetric key holding the RSA public key under the
// same kid, a weak RSA key, a private key and a key type nobody knows.
func TestHostileJWKS(t *testing.T) {
	iss := identitytest.NewIssuer(t)
	clock := newClock()
	iss.SetNow(clock.Now)

	der, err := x509.MarshalPKIXPublicKey(iss.PublicKey(identitytest.RSAKeyID))
	if err != nil {
		t.Fatal(err)
	}
	weak, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	var keys []json.RawMessage
	for _, k := range []jose.JSONWebKey{
		{Key: der, KeyID: identitytest.RSAKeyID, Algorithm: "HS256"},
		{Key: weak.Public(), KeyID: "weak", Algorithm: "RS256"},
		{Key: priv, KeyID: "priv", Algorithm: "ES256"},
		{Key: iss.PublicKey(identitytest.RSAKeyID), KeyID: identitytest.RSAKeyID, Algorithm: "RS256", Use: "sig"},
	} {
		b, err := k.MarshalJSON()
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, b)
	}
	keys = append(keys, json.RawMessage(`{"kty":"foo","kid":"odd"}`))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_ = json.NewEncoder(w).Encode(map[string]any{"keys": keys})
	}))
	t.Cleanup(srv.Close)

	cfg := oidcConfig(iss)
	cfg.JWKSURL = srv.URL
	v, err := NewVerifier(context.Background(), []ProviderConfig{cfg}, Options{Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	sign := func(alg jose.SignatureAlgorithm, key any, kid string) string {
		s, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: key}, (&jose.SignerOptions{}).WithHeader("kid", kid))
		if err != nil {
			t.Fatal(err)
		}
		b, _ := json.Marshal(person(map[string]any{"iss": iss.URL(), "exp": clock.Now().Unix() + 60}))
		jws, err := s.Sign(b)
		if err != nil {
			t.Fatal(err)
		}
		out, _ := jws.CompactSerialize()
		return out
	}
	tests := []struct {
		name, token, reason string
	}{
		{"good key", iss.Sign(person(nil)), ""},
		{"weak key", sign(jose.RS256, weak, "weak"), ReasonUnknownKey},
		{"published private key", sign(jose.ES256, priv, "priv"), ReasonUnknownKey},
		{"HS256 with the oct key", iss.HS256WithPublicKey(identitytest.KeyDER, person(nil)), ReasonUnsupportedAlg},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := v.Verify(context.Background(), tt.token)
			if ReasonOf(err) != tt.reason {
				t.Fatalf("Verify = %v, want reason %q", err, tt.reason)
			}
		})
	}
}

func TestInsecureRedirectRefused(t *testing.T) {
	iss := identitytest.NewIssuer(t)
	srv := httptest.NewServer(http.RedirectHandler("http://keys.example.invalid/jwks.json", http.StatusFound))
	t.Cleanup(srv.Close)
	cfg := oidcConfig(iss)
	cfg.JWKSURL = srv.URL
	// The default client, and a caller's client without a redirect policy.
	callers := &http.Client{Timeout: time.Second}
	for _, client := range []*http.Client{nil, callers} {
		v, err := NewVerifier(context.Background(), []ProviderConfig{cfg}, Options{HTTPClient: client})
		if err != nil {
			t.Fatal(err)
		}
		_, err = v.Verify(context.Background(), iss.Sign(person(nil)))
		if ReasonOf(err) != ReasonKeysUnavailable || !strings.Contains(err.Error(), "must use https") {
			t.Fatalf("Verify = %v", err)
		}
	}
	if callers.CheckRedirect != nil {
		t.Error("the caller's client was modified")
	}
}

func TestJWKSWithoutUsableKeys(t *testing.T) {
	iss := identitytest.NewIssuer(t)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte(`{"keys":[{"kty":"oct","k":"c2VjcmV0","kid":"rsa-1"}]}`))
	}))
	t.Cleanup(srv.Close)
	cfg := oidcConfig(iss)
	cfg.JWKSURL = srv.URL
	v, err := NewVerifier(context.Background(), []ProviderConfig{cfg}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := v.Ready(context.Background()); err == nil || !strings.Contains(err.Error(), "no usable signing key") {
		t.Fatalf("Ready = %v", err)
	}
}
