package identity

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	jose "github.com/go-jose/go-jose/v4"
)

const (
	// maxDocumentBytes bounds discovery and JWKS responses: a real JWKS is a
	// few kilobytes, and an unbounded read would let a broken or hostile
	// endpoint exhaust memory.
	maxDocumentBytes = 1 << 20
	// minRSABits refuses keys that are too weak to trust for identity.
	minRSABits = 2048
)

// getJSON fetches url and decodes its JSON body into v.
func getJSON(ctx context.Context, client *http.Client, url string, v any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		// Drain a little so the connection can be reused.
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4<<10))
		return fmt.Errorf("GET %s: status %d", url, resp.StatusCode)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxDocumentBytes+1))
	if err != nil {
		return fmt.Errorf("GET %s: %w", url, err)
	}
	if len(body) > maxDocumentBytes {
		return fmt.Errorf("GET %s: response larger than %d bytes", url, maxDocumentBytes)
	}
	if err := json.Unmarshal(body, v); err != nil {
		return fmt.Errorf("GET %s: invalid JSON: %w", url, err)
	}
	return nil
}

// discoverJWKS returns the jwks_uri of the issuer's discovery document.
func discoverJWKS(ctx context.Context, client *http.Client, issuer string) (string, error) {
	doc, err := Discover(ctx, client, issuer)
	if err != nil {
		return "", err
	}
	if err := checkEndpoint(doc.JWKSURI); err != nil {
		return "", fmt.Errorf("discovery: jwks_uri %q: %w", doc.JWKSURI, err)
	}
	return doc.JWKSURI, nil
}

// keyIndex is one fetched JWKS: usable signing keys by kid, and all of them
// for tokens without a kid. It is never modified after it is built, so it
// can be read without a lock.
type keyIndex struct {
	byKID map[string][]jose.JSONWebKey
	all   []jose.JSONWebKey
}

// candidates are the keys that may have signed a token with this kid: a
// token without one may have been signed by any key of the provider.
func (x *keyIndex) candidates(kid string) []jose.JSONWebKey {
	if kid == "" {
		return x.all
	}
	return x.byKID[kid]
}

// fetchKeys downloads and filters a JWKS. Keys are parsed one by one so one
// key of a type we do not understand (or an encryption key) does not hide
// the others, as RFC 7517 section 5 asks.
func fetchKeys(ctx context.Context, client *http.Client, url string) (*keyIndex, int, error) {
	var set struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := getJSON(ctx, client, url, &set); err != nil {
		return nil, 0, err
	}
	idx := &keyIndex{byKID: map[string][]jose.JSONWebKey{}}
	skipped := 0
	for _, raw := range set.Keys {
		var k jose.JSONWebKey
		if err := k.UnmarshalJSON(raw); err != nil || !usableSigningKey(k) {
			skipped++
			continue
		}
		idx.byKID[k.KeyID] = append(idx.byKID[k.KeyID], k)
		idx.all = append(idx.all, k)
	}
	if len(idx.all) == 0 {
		return nil, skipped, errors.New("JWKS holds no usable signing key")
	}
	return idx, skipped, nil
}

// usableSigningKey keeps public asymmetric signature keys only. Symmetric
// ("oct") keys are dropped so that a JWKS can never turn into an HMAC
// secret, and private keys are dropped because an endpoint that publishes
// them is broken and not to be trusted.
func usableSigningKey(k jose.JSONWebKey) bool {
	if k.Use != "" && k.Use != "sig" {
		return false
	}
	switch pub := k.Key.(type) {
	case *rsa.PublicKey:
		return pub.N.BitLen() >= minRSABits
	case *ecdsa.PublicKey, ed25519.PublicKey:
		return true
	default:
		return false
	}
}

// compatible reports whether key k may verify a signature made with alg:
// the key's own "alg", when it declares one, must be that alg, and the key
// type and curve must fit it.
func compatible(k jose.JSONWebKey, alg string) bool {
	if k.Algorithm != "" && k.Algorithm != alg {
		return false
	}
	switch pub := k.Key.(type) {
	case *rsa.PublicKey:
		return strings.HasPrefix(alg, "RS") || strings.HasPrefix(alg, "PS")
	case *ecdsa.PublicKey:
		switch alg {
		case "ES256":
			return pub.Curve == elliptic.P256()
		case "ES384":
			return pub.Curve == elliptic.P384()
		case "ES512":
			return pub.Curve == elliptic.P521()
		}
		return false
	case ed25519.PublicKey:
		return alg == "EdDSA"
	default:
		return false
	}
}
