package testenv_test

import (
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"math/big"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/sagegate/sagegate/internal/testenv"
)

func TestCognitoLocal(t *testing.T) {
	t.Parallel()
	c := testenv.CognitoLocal(t)

	pool := c.CreateUserPool(t, "sagegate-test")
	if want := c.IssuerDomain + "/" + pool.ID; pool.Issuer != want {
		t.Fatalf("Issuer = %q, want %q", pool.Issuer, want)
	}
	clientID := pool.CreateAppClient(t, "gateway")
	user := pool.CreateUser(t, "ada@example.com", "Correct-Horse-1")
	pool.CreateGroup(t, "lob-research")
	pool.AddUserToGroup(t, user.Email, "lob-research")
	if user.Username == "" || user.Sub == "" {
		t.Fatalf("CreateUser returned %+v, want username and sub", user)
	}

	tok := c.Login(t, clientID, user.Email, user.Password)
	keys := fetchJWKS(t, pool.JWKSURL)

	access := verifyJWT(t, tok.AccessToken, keys)
	wantClaims(t, "access token", access, map[string]any{
		"iss":       pool.Issuer,
		"token_use": "access",
		"client_id": clientID,
		"username":  user.Username,
		"sub":       user.Sub,
	})
	wantGroups(t, "access token", access, "lob-research")
	if _, ok := access["aud"]; ok {
		t.Errorf("access token has aud %v; Cognito access tokens carry client_id instead", access["aud"])
	}

	id := verifyJWT(t, tok.IDToken, keys)
	wantClaims(t, "id token", id, map[string]any{
		"iss":              pool.Issuer,
		"aud":              clientID,
		"token_use":        "id",
		"cognito:username": user.Username,
		"email":            user.Email,
		"sub":              user.Sub,
	})
	wantGroups(t, "id token", id, "lob-research")
	for _, claim := range []string{"exp", "iat"} {
		if _, ok := id[claim].(float64); !ok {
			t.Errorf("id token %s = %v, want a number", claim, id[claim])
		}
	}

	_, err := c.InitiateAuth(t.Context(), clientID, user.Email, "wrong-password")
	var cerr *testenv.CognitoError
	if !errors.As(err, &cerr) || cerr.Status != http.StatusBadRequest {
		t.Errorf("InitiateAuth with a wrong password: err = %v, want a 400 CognitoError", err)
	}
}

type jwk struct {
	Kid, Kty, Alg, N, E string
}

func fetchJWKS(t *testing.T, url string) []jwk {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s", url, resp.Status)
	}
	var set struct{ Keys []jwk }
	if err := json.NewDecoder(resp.Body).Decode(&set); err != nil {
		t.Fatalf("decode JWKS: %v", err)
	}
	if len(set.Keys) == 0 {
		t.Fatalf("JWKS at %s has no keys", url)
	}
	return set.Keys
}

// verifyJWT checks an RS256 signature against the key named by the token's
// kid and returns the claims. It exists to prove the emulator's JWKS really
// matches its tokens; product code verifies through go-oidc.
func verifyJWT(t *testing.T, raw string, keys []jwk) map[string]any {
	t.Helper()
	parts := strings.Split(raw, ".")
	if len(parts) != 3 {
		t.Fatalf("token has %d parts, want 3", len(parts))
	}
	var header struct{ Alg, Kid string }
	decodeSegment(t, parts[0], &header)
	if header.Alg != "RS256" {
		t.Fatalf("alg = %q, want RS256", header.Alg)
	}
	i := slices.IndexFunc(keys, func(k jwk) bool { return k.Kid == header.Kid })
	if i < 0 {
		t.Fatalf("kid %q not in JWKS %+v", header.Kid, keys)
	}
	pub := &rsa.PublicKey{N: new(big.Int).SetBytes(b64(t, keys[i].N)), E: int(new(big.Int).SetBytes(b64(t, keys[i].E)).Int64())}
	digest := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	if err := rsa.VerifyPKCS1v15(pub, crypto.SHA256, digest[:], b64(t, parts[2])); err != nil {
		t.Fatalf("signature does not verify with JWKS key %q: %v", header.Kid, err)
	}
	var claims map[string]any
	decodeSegment(t, parts[1], &claims)
	return claims
}

func decodeSegment(t *testing.T, seg string, v any) {
	t.Helper()
	if err := json.Unmarshal(b64(t, seg), v); err != nil {
		t.Fatalf("decode JWT segment: %v", err)
	}
}

func b64(t *testing.T, s string) []byte {
	t.Helper()
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		t.Fatalf("base64url %q: %v", s, err)
	}
	return b
}

func wantClaims(t *testing.T, what string, claims, want map[string]any) {
	t.Helper()
	for k, v := range want {
		if claims[k] != v {
			t.Errorf("%s: %s = %v, want %v (claims %v)", what, k, claims[k], v, claims)
		}
	}
}

func wantGroups(t *testing.T, what string, claims map[string]any, group string) {
	t.Helper()
	groups, _ := claims["cognito:groups"].([]any)
	if !slices.Contains(groups, any(group)) {
		t.Errorf("%s: cognito:groups = %v, want it to hold %q", what, claims["cognito:groups"], group)
	}
}
