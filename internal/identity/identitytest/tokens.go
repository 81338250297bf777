package identitytest

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"maps"
	"strings"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// DefaultLifetime is how long minted tokens live when the claims set no exp.
const DefaultLifetime = 5 * time.Minute

// TokenSpec controls how Mint builds a token.
type TokenSpec struct {
	// Alg is the header alg and the signing algorithm; default RS256.
	Alg string
	// KeyID is the header kid. Empty uses the id of the signing key.
	KeyID string
	// OmitKeyID leaves kid out of the header.
	OmitKeyID bool
	// SigningKey is the id of the key that signs. Empty uses the key named
	// by KeyID if it fits Alg, else the first key that fits Alg. Naming a
	// different key than KeyID forges a signature under a real kid.
	SigningKey string
	// Header holds extra header parameters (e.g. "typ", "crit", "jku").
	Header map[string]any
}

// Sign mints an RS256 token signed by RSAKeyID. Claims are completed with
// iss (URL), iat (now) and exp (now + DefaultLifetime) when absent; a claim
// set to nil is removed, e.g. {"exp": nil} mints a token without exp.
func (i *Issuer) Sign(claims map[string]any) string {
	i.t.Helper()
	return i.Mint(TokenSpec{Alg: "RS256", KeyID: RSAKeyID}, claims)
}

// SignWith mints a token with the given alg and kid; kid "" omits the kid
// header. The key named kid signs if it fits alg, otherwise the first key
// of the issuer that does (so an unknown kid still carries a real
// signature).
func (i *Issuer) SignWith(alg, kid string, claims map[string]any) string {
	i.t.Helper()
	return i.Mint(TokenSpec{Alg: alg, KeyID: kid, OmitKeyID: kid == ""}, claims)
}

// Mint builds a token as spec says.
func (i *Issuer) Mint(spec TokenSpec, claims map[string]any) string {
	i.t.Helper()
	if spec.Alg == "" {
		spec.Alg = "RS256"
	}
	k := i.signingKey(spec)
	if k == nil {
		i.t.Fatalf("identitytest: no key can sign %s (add one with AddKey)", spec.Alg)
	}
	opts := (&jose.SignerOptions{}).WithType("JWT")
	kid := spec.KeyID
	if kid == "" {
		kid = k.spec.ID
	}
	if !spec.OmitKeyID {
		opts = opts.WithHeader("kid", kid)
	}
	for name, v := range spec.Header {
		opts = opts.WithHeader(jose.HeaderKey(name), v)
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.SignatureAlgorithm(spec.Alg), Key: k.priv}, opts)
	if err != nil {
		i.t.Fatalf("identitytest: signer: %v", err)
	}
	jws, err := signer.Sign(i.payload(claims))
	if err != nil {
		i.t.Fatalf("identitytest: sign: %v", err)
	}
	out, err := jws.CompactSerialize()
	if err != nil {
		i.t.Fatalf("identitytest: serialize: %v", err)
	}
	return out
}

func (i *Issuer) signingKey(spec TokenSpec) *key {
	i.mu.Lock()
	defer i.mu.Unlock()
	want := spec.SigningKey
	if want == "" {
		want = spec.KeyID
	}
	for _, k := range i.keys {
		if k.spec.ID == want && fits(k, spec.Alg) {
			return k
		}
	}
	if spec.SigningKey != "" {
		return nil
	}
	for _, k := range i.keys {
		if fits(k, spec.Alg) {
			return k
		}
	}
	return nil
}

func fits(k *key, alg string) bool {
	switch priv := k.priv.(type) {
	case *rsa.PrivateKey:
		return strings.HasPrefix(alg, "RS") || strings.HasPrefix(alg, "PS")
	case *ecdsa.PrivateKey:
		return (alg == "ES256" && priv.Curve == elliptic.P256()) ||
			(alg == "ES384" && priv.Curve == elliptic.P384()) ||
			(alg == "ES512" && priv.Curve == elliptic.P521())
	case ed25519.PrivateKey:
		return alg == "EdDSA"
	}
	return false
}

// payload completes and encodes the claims.
func (i *Issuer) payload(claims map[string]any) []byte {
	i.t.Helper()
	i.mu.Lock()
	now := i.now()
	i.mu.Unlock()
	c := map[string]any{"iss": i.URL(), "iat": now.Unix(), "exp": now.Add(DefaultLifetime).Unix()}
	maps.Copy(c, claims)
	for name, v := range c {
		if v == nil {
			delete(c, name)
		}
	}
	b, err := json.Marshal(c)
	if err != nil {
		i.t.Fatalf("identitytest: claims: %v", err)
	}
	return b
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

func (i *Issuer) header(h map[string]any) string {
	i.t.Helper()
	b, err := json.Marshal(h)
	if err != nil {
		i.t.Fatalf("identitytest: header: %v", err)
	}
	return b64(b)
}

// AlgNone mints an unsigned token (`alg: none`, empty signature) that
// names RSAKeyID.
func (i *Issuer) AlgNone(claims map[string]any) string {
	i.t.Helper()
	return i.header(map[string]any{"alg": "none", "typ": "JWT", "kid": RSAKeyID}) + "." + b64(i.payload(claims)) + "."
}

// KeyForm is how the public key is encoded when used as an HMAC secret.
type KeyForm int

const (
	// KeyPEM is the PKIX "PUBLIC KEY" PEM block, as often published.
	KeyPEM KeyForm = iota
	// KeyDER is the same key as raw PKIX DER bytes.
	KeyDER
)

// HS256WithPublicKey mints the key-confusion token: HS256, kid RSAKeyID,
// HMAC keyed with the issuer's RSA public key. A verifier that lets the
// token pick the algorithm would accept it.
func (i *Issuer) HS256WithPublicKey(form KeyForm, claims map[string]any) string {
	i.t.Helper()
	der, err := x509.MarshalPKIXPublicKey(i.PublicKey(RSAKeyID))
	if err != nil {
		i.t.Fatalf("identitytest: public key: %v", err)
	}
	secret := der
	if form == KeyPEM {
		secret = pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
	}
	input := i.header(map[string]any{"alg": "HS256", "typ": "JWT", "kid": RSAKeyID}) + "." + b64(i.payload(claims))
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte(input))
	return input + "." + b64(mac.Sum(nil))
}

// UnknownKid mints an RS256 token whose kid the JWKS does not hold.
func (i *Issuer) UnknownKid(claims map[string]any) string {
	i.t.Helper()
	return i.Mint(TokenSpec{Alg: "RS256", KeyID: "unknown-kid", SigningKey: RSAKeyID}, claims)
}

// BadSignature mints an RS256 token for RSAKeyID with one bit of its
// signature flipped.
func (i *Issuer) BadSignature(claims map[string]any) string {
	i.t.Helper()
	parts := strings.Split(i.Sign(claims), ".")
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil {
		i.t.Fatalf("identitytest: signature: %v", err)
	}
	sig[len(sig)/2] ^= 0x01
	return parts[0] + "." + parts[1] + "." + b64(sig)
}

// Tamper replaces the payload of token by the given claims (completed as
// in Sign), keeping the original header and signature.
func (i *Issuer) Tamper(token string, claims map[string]any) string {
	i.t.Helper()
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		i.t.Fatalf("identitytest: Tamper: not a compact JWS")
	}
	return parts[0] + "." + b64(i.payload(claims)) + "." + parts[2]
}
