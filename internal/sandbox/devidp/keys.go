package devidp

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/asn1"
	"encoding/base64"
	"errors"
	"fmt"
	"math/big"
	"net/http"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

// signingKey adapts any crypto.Signer to go-jose's OpaqueSigner, so a key
// held elsewhere (an HSM, KMS in a test) works the same as an in-memory one,
// and there is one signing path to test rather than one per key type.
type signingKey struct {
	signer  crypto.Signer
	alg     jose.SignatureAlgorithm
	pub     jose.JSONWebKey // public half, with kid, alg and use=sig
	ecBytes int             // ES256: bytes per signature half
	jws     jose.Signer
}

func generateRSAKey() (crypto.Signer, error) {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, fmt.Errorf("devidp: generate key: %w", err)
	}
	return k, nil
}

func newSigningKey(signer crypto.Signer) (*signingKey, error) {
	k := &signingKey{signer: signer}
	switch pub := signer.Public().(type) {
	case *rsa.PublicKey:
		// Below 2048 bits go-jose and most verifiers refuse the key anyway;
		// saying so here gives a clearer error than a failed login later.
		if pub.N.BitLen() < 2048 {
			return nil, fmt.Errorf("RSA key has %d bits, want at least 2048", pub.N.BitLen())
		}
		k.alg = jose.RS256
	case *ecdsa.PublicKey:
		if pub.Curve != elliptic.P256() {
			return nil, errors.New("ECDSA key must use P-256 (ES256)")
		}
		k.alg, k.ecBytes = jose.ES256, 32
	default:
		return nil, fmt.Errorf("unsupported key type %T: want RSA or ECDSA P-256", pub)
	}

	k.pub = jose.JSONWebKey{Key: signer.Public(), Algorithm: string(k.alg), Use: "sig"}
	thumb, err := k.pub.Thumbprint(crypto.SHA256)
	if err != nil {
		return nil, fmt.Errorf("key thumbprint: %w", err)
	}
	// The RFC 7638 thumbprint names the key by its content, so a restarted
	// issuer with a new key never reuses a kid a verifier has cached.
	k.pub.KeyID = base64.RawURLEncoding.EncodeToString(thumb)

	opts := (&jose.SignerOptions{}).WithType("JWT")
	k.jws, err = jose.NewSigner(jose.SigningKey{Algorithm: k.alg, Key: k}, opts)
	if err != nil {
		return nil, fmt.Errorf("signer: %w", err)
	}
	return k, nil
}

// Public implements jose.OpaqueSigner; go-jose copies its KeyID into the
// kid header of every token.
func (k *signingKey) Public() *jose.JSONWebKey {
	pub := k.pub
	return &pub
}

// Algs implements jose.OpaqueSigner.
func (k *signingKey) Algs() []jose.SignatureAlgorithm { return []jose.SignatureAlgorithm{k.alg} }

// SignPayload implements jose.OpaqueSigner.
func (k *signingKey) SignPayload(payload []byte, alg jose.SignatureAlgorithm) ([]byte, error) {
	if alg != k.alg {
		return nil, jose.ErrUnsupportedAlgorithm
	}
	digest := sha256.Sum256(payload)
	// crypto.SHA256 as the options asks an RSA signer for PKCS #1 v1.5,
	// which is what RS256 is.
	sig, err := k.signer.Sign(rand.Reader, digest[:], crypto.SHA256)
	if err != nil || k.ecBytes == 0 {
		return sig, err
	}
	// crypto.Signer returns ECDSA signatures as ASN.1; JWS wants the two
	// integers as fixed-width big-endian halves (RFC 7518 section 3.4).
	var rs struct{ R, S *big.Int }
	if rest, err := asn1.Unmarshal(sig, &rs); err != nil || len(rest) > 0 {
		return nil, errors.New("devidp: malformed ECDSA signature from key")
	}
	out := make([]byte, 2*k.ecBytes)
	rs.R.FillBytes(out[:k.ecBytes])
	rs.S.FillBytes(out[k.ecBytes:])
	return out, nil
}

// sign serialises claims as a compact JWS.
func (k *signingKey) sign(claims any) (string, error) {
	raw, err := jwt.Signed(k.jws).Claims(claims).Serialize()
	if err != nil {
		return "", fmt.Errorf("devidp: sign token: %w", err)
	}
	return raw, nil
}

// verify checks that raw was signed by this key and decodes its claims. It
// checks nothing else: callers decide which claims matter.
func (k *signingKey) verify(raw string, dest any) error {
	tok, err := jwt.ParseSigned(raw, []jose.SignatureAlgorithm{k.alg})
	if err != nil {
		return err
	}
	return tok.Claims(k.signer.Public(), dest)
}

func (i *Issuer) serveJWKS(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, jose.JSONWebKeySet{Keys: []jose.JSONWebKey{i.key.pub}})
}
