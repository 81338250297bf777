// Package identitytest is an in-process token issuer for tests: an
// httptest server on 127.0.0.1 that serves OpenID discovery and a JWKS, and
// mints tokens with any claims, algorithm and key id, including the
// malicious ones a verifier must refuse (alg none, HS256 keyed with the
// public key, unknown kid, bad signature, tampered payload).
//
// The issuer URL works both as an oidc provider issuer (discovery) and as
// an explicit cognito provider issuer (<issuer>/.well-known/jwks.json).
package identitytest

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// Key ids of the keys every Issuer starts with.
const (
	RSAKeyID = "rsa-1" // RSA 2048, published with alg RS256, use sig
	ECKeyID  = "ec-1"  // P-256, published with alg ES256, use sig
)

// JWKSPath is where the JWKS is served, the path Cognito uses.
const JWKSPath = "/.well-known/jwks.json"

// KeySpec describes a key to add to the issuer.
type KeySpec struct {
	ID string
	// Alg decides the key type: RS*/PS* an RSA 2048 key, ES256/ES384/ES512
	// an ECDSA key on the matching curve, EdDSA an Ed25519 key.
	Alg string
	// Use and PublishedAlg are published as the JWK's "use" and "alg";
	// empty omits them.
	Use          string
	PublishedAlg string
	// Hidden keys sign tokens but are not in the JWKS until PublishKey:
	// an unknown kid now, a rotated-in key later.
	Hidden bool
}

type key struct {
	spec KeySpec
	priv crypto.Signer
}

// Issuer is a running test issuer. Its methods are safe for concurrent use.
type Issuer struct {
	t   testing.TB
	srv *httptest.Server

	jwksCalls      atomic.Int64
	discoveryCalls atomic.Int64
	release        chan struct{} // closed at cleanup to free hanging requests

	mu           sync.Mutex
	keys         []*key
	now          func() time.Time
	jwksDown     bool
	jwksHang     bool
	discoveryIss string
}

// NewIssuer starts an issuer with an RSA key (RSAKeyID) and an ECDSA P-256
// key (ECKeyID); it is closed when the test ends.
func NewIssuer(t testing.TB) *Issuer {
	t.Helper()
	i := &Issuer{t: t, now: time.Now, release: make(chan struct{})}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", i.serveDiscovery)
	mux.HandleFunc("GET "+JWKSPath, i.serveJWKS)
	i.srv = httptest.NewServer(mux)
	// Cleanups run last-in first-out: free hanging handlers, then close.
	t.Cleanup(i.srv.Close)
	t.Cleanup(func() { close(i.release) })
	i.AddKey(KeySpec{ID: RSAKeyID, Alg: "RS256", Use: "sig", PublishedAlg: "RS256"})
	i.AddKey(KeySpec{ID: ECKeyID, Alg: "ES256", Use: "sig", PublishedAlg: "ES256"})
	return i
}

// URL is the issuer identifier (the `iss` of its tokens), http://127.0.0.1:port.
func (i *Issuer) URL() string { return i.srv.URL }

// JWKSURL is where the issuer serves its keys.
func (i *Issuer) JWKSURL() string { return i.srv.URL + JWKSPath }

// Client is an HTTP client for the issuer's server.
func (i *Issuer) Client() *http.Client { return i.srv.Client() }

// SetNow sets the clock used for the default iat and exp claims.
func (i *Issuer) SetNow(now func() time.Time) {
	i.mu.Lock()
	defer i.mu.Unlock()
	i.now = now
}

// SetJWKSDown makes the JWKS endpoint answer 503 (true) or work (false).
func (i *Issuer) SetJWKSDown(down bool) {
	i.mu.Lock()
	defer i.mu.Unlock()
	i.jwksDown = down
}

// SetJWKSHang makes the JWKS endpoint never answer until the client gives
// up (true), to test that verifiers do not hang with it.
func (i *Issuer) SetJWKSHang(hang bool) {
	i.mu.Lock()
	defer i.mu.Unlock()
	i.jwksHang = hang
}

// SetDiscoveryIssuer makes discovery name another issuer ("" restores the
// real one), to test that a verifier refuses a mismatching document.
func (i *Issuer) SetDiscoveryIssuer(iss string) {
	i.mu.Lock()
	defer i.mu.Unlock()
	i.discoveryIss = iss
}

// JWKSCalls counts requests to the JWKS endpoint, failed ones included.
func (i *Issuer) JWKSCalls() int { return int(i.jwksCalls.Load()) }

// DiscoveryCalls counts requests for the discovery document.
func (i *Issuer) DiscoveryCalls() int { return int(i.discoveryCalls.Load()) }

// AddKey generates a key. A key with an existing id replaces it.
func (i *Issuer) AddKey(spec KeySpec) {
	i.t.Helper()
	priv, err := generate(spec.Alg)
	if err != nil {
		i.t.Fatalf("identitytest: key %s: %v", spec.ID, err)
	}
	i.mu.Lock()
	defer i.mu.Unlock()
	i.removeLocked(spec.ID)
	i.keys = append(i.keys, &key{spec: spec, priv: priv})
}

// PublishKey adds a hidden key to the JWKS.
func (i *Issuer) PublishKey(kid string) {
	i.mu.Lock()
	defer i.mu.Unlock()
	for _, k := range i.keys {
		if k.spec.ID == kid {
			k.spec.Hidden = false
		}
	}
}

// RemoveKey withdraws a key: it neither signs nor is published any more.
func (i *Issuer) RemoveKey(kid string) {
	i.mu.Lock()
	defer i.mu.Unlock()
	i.removeLocked(kid)
}

func (i *Issuer) removeLocked(kid string) {
	kept := i.keys[:0]
	for _, k := range i.keys {
		if k.spec.ID != kid {
			kept = append(kept, k)
		}
	}
	i.keys = kept
}

// PublicKey returns the public key of kid, or nil.
func (i *Issuer) PublicKey(kid string) crypto.PublicKey {
	i.mu.Lock()
	defer i.mu.Unlock()
	for _, k := range i.keys {
		if k.spec.ID == kid {
			return k.priv.Public()
		}
	}
	return nil
}

func generate(alg string) (crypto.Signer, error) {
	switch {
	case strings.HasPrefix(alg, "RS"), strings.HasPrefix(alg, "PS"):
		return rsa.GenerateKey(rand.Reader, 2048)
	case alg == "ES256":
		return ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case alg == "ES384":
		return ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	case alg == "ES512":
		return ecdsa.GenerateKey(elliptic.P521(), rand.Reader)
	case alg == "EdDSA":
		_, priv, err := ed25519.GenerateKey(rand.Reader)
		return priv, err
	}
	return nil, &unsupportedAlgError{alg}
}

type unsupportedAlgError struct{ alg string }

func (e *unsupportedAlgError) Error() string { return "unsupported alg " + e.alg }

func (i *Issuer) serveDiscovery(w http.ResponseWriter, _ *http.Request) {
	i.discoveryCalls.Add(1)
	i.mu.Lock()
	iss := i.discoveryIss
	i.mu.Unlock()
	if iss == "" {
		iss = i.URL()
	}
	writeJSON(w, map[string]any{
		"issuer":                                iss,
		"jwks_uri":                              i.JWKSURL(),
		"authorization_endpoint":                i.URL() + "/authorize",
		"token_endpoint":                        i.URL() + "/token",
		"response_types_supported":              []string{"code"},
		"subject_types_supported":               []string{"public"},
		"id_token_signing_alg_values_supported": []string{"RS256", "ES256"},
	})
}

func (i *Issuer) serveJWKS(w http.ResponseWriter, r *http.Request) {
	i.jwksCalls.Add(1)
	i.mu.Lock()
	down, hang := i.jwksDown, i.jwksHang
	var set jose.JSONWebKeySet
	for _, k := range i.keys {
		if !k.spec.Hidden {
			set.Keys = append(set.Keys, jose.JSONWebKey{
				Key: k.priv.Public(), KeyID: k.spec.ID, Algorithm: k.spec.PublishedAlg, Use: k.spec.Use,
			})
		}
	}
	i.mu.Unlock()
	switch {
	case hang:
		select {
		case <-r.Context().Done():
		case <-i.release:
		}
		return
	case down:
		http.Error(w, "jwks unavailable", http.StatusServiceUnavailable)
		return
	}
	writeJSON(w, set)
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}
