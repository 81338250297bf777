package identitytest

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"
)

func getJSON(t *testing.T, i *Issuer, url string, v any) int {
	t.Helper()
	resp, err := i.Client().Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusOK {
		if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
			t.Fatal(err)
		}
	}
	return resp.StatusCode
}

func decode(t *testing.T, seg string) map[string]any {
	t.Helper()
	b, err := base64.RawURLEncoding.DecodeString(seg)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestIssuerServes(t *testing.T) {
	i := NewIssuer(t)
	if !strings.HasPrefix(i.URL(), "http://127.0.0.1:") {
		t.Errorf("URL = %s", i.URL())
	}
	var doc map[string]any
	getJSON(t, i, i.URL()+"/.well-known/openid-configuration", &doc)
	if doc["issuer"] != i.URL() || doc["jwks_uri"] != i.JWKSURL() {
		t.Errorf("discovery = %v", doc)
	}

	i.AddKey(KeySpec{ID: "hidden", Alg: "ES256", Hidden: true})
	kids := func() []string {
		var set struct {
			Keys []struct {
				Kid string `json:"kid"`
				D   string `json:"d"`
			} `json:"keys"`
		}
		getJSON(t, i, i.JWKSURL(), &set)
		var out []string
		for _, k := range set.Keys {
			if k.D != "" {
				t.Errorf("key %s published with private material", k.Kid)
			}
			out = append(out, k.Kid)
		}
		return out
	}
	if got := kids(); !slices.Equal(got, []string{RSAKeyID, ECKeyID}) {
		t.Errorf("published kids = %v", got)
	}
	i.PublishKey("hidden")
	i.RemoveKey(RSAKeyID)
	if got := kids(); !slices.Equal(got, []string{ECKeyID, "hidden"}) {
		t.Errorf("published kids after rotation = %v", got)
	}

	i.SetJWKSDown(true)
	if code := getJSON(t, i, i.JWKSURL(), nil); code != http.StatusServiceUnavailable {
		t.Errorf("JWKS down answered %d", code)
	}
	if i.JWKSCalls() != 3 || i.DiscoveryCalls() != 1 {
		t.Errorf("calls: jwks %d, discovery %d", i.JWKSCalls(), i.DiscoveryCalls())
	}
}

func TestTokens(t *testing.T) {
	i := NewIssuer(t)
	now := time.Unix(1_900_000_000, 0)
	i.SetNow(func() time.Time { return now })

	parts := strings.Split(i.Sign(map[string]any{"sub": "s", "iat": nil}), ".")
	head, claims := decode(t, parts[0]), decode(t, parts[1])
	if head["alg"] != "RS256" || head["kid"] != RSAKeyID {
		t.Errorf("header = %v", head)
	}
	if claims["iss"] != i.URL() || claims["sub"] != "s" || claims["exp"] != float64(now.Add(DefaultLifetime).Unix()) {
		t.Errorf("claims = %v", claims)
	}
	if _, ok := claims["iat"]; ok {
		t.Errorf("iat was not removed: %v", claims)
	}

	tests := []struct {
		name     string
		token    string
		alg, kid any
	}{
		{"ES256", i.SignWith("ES256", ECKeyID, nil), "ES256", ECKeyID},
		{"no kid", i.SignWith("RS256", "", nil), "RS256", nil},
		{"none", i.AlgNone(nil), "none", RSAKeyID},
		{"HS256", i.HS256WithPublicKey(KeyPEM, nil), "HS256", RSAKeyID},
		{"unknown kid", i.UnknownKid(nil), "RS256", "unknown-kid"},
	}
	for _, tt := range tests {
		h := decode(t, strings.Split(tt.token, ".")[0])
		if h["alg"] != tt.alg || h["kid"] != tt.kid {
			t.Errorf("%s: header = %v", tt.name, h)
		}
	}
	if !strings.HasSuffix(i.AlgNone(nil), ".") {
		t.Error("alg none token carries a signature")
	}
	good := i.Sign(nil)
	bad := i.BadSignature(nil)
	if bad == good || strings.Split(bad, ".")[1] != strings.Split(good, ".")[1] {
		t.Error("BadSignature must keep the payload and change the signature")
	}
	tampered := strings.Split(i.Tamper(good, map[string]any{"sub": "mallory"}), ".")
	orig := strings.Split(good, ".")
	if tampered[0] != orig[0] || tampered[2] != orig[2] || decode(t, tampered[1])["sub"] != "mallory" {
		t.Error("Tamper must keep the header and signature and replace the claims")
	}
	if pem, der := i.HS256WithPublicKey(KeyPEM, nil), i.HS256WithPublicKey(KeyDER, nil); pem == der {
		t.Error("PEM and DER secrets gave the same MAC")
	}
}
