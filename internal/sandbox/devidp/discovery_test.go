package devidp

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"reflect"
	"testing"
)

func TestDiscoveryDocument(t *testing.T) {
	e := newEnv(t, nil)
	resp, body := e.get(t, e.base+"/.well-known/openid-configuration")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d", resp.StatusCode)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type = %q", ct)
	}
	var doc map[string]any
	if err := json.Unmarshal([]byte(body), &doc); err != nil {
		t.Fatal(err)
	}
	list := func(vs ...string) []any {
		out := make([]any, len(vs))
		for n, v := range vs {
			out[n] = v
		}
		return out
	}
	want := map[string]any{
		"issuer":                                e.base,
		"authorization_endpoint":                e.base + "/authorize",
		"token_endpoint":                        e.base + "/token",
		"jwks_uri":                              e.base + "/jwks",
		"userinfo_endpoint":                     e.base + "/userinfo",
		"end_session_endpoint":                  e.base + "/logout",
		"response_types_supported":              list("code"),
		"grant_types_supported":                 list("authorization_code", "refresh_token", "password"),
		"code_challenge_methods_supported":      list("S256"),
		"id_token_signing_alg_values_supported": list("ES256"),
		"token_endpoint_auth_methods_supported": list("none"),
		"subject_types_supported":               list("public"),
	}
	for k, v := range want {
		if !reflect.DeepEqual(doc[k], v) {
			t.Errorf("%s = %v, want %v", k, doc[k], v)
		}
	}
	scopes, _ := doc["scopes_supported"].([]any)
	for _, s := range []string{"openid", "email", "profile", "groups"} {
		if !containsAny(scopes, s) {
			t.Errorf("scopes_supported %v lacks %q", scopes, s)
		}
	}
}

func containsAny(list []any, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// The issuer must answer whether or not the caller strips its path, and
// its endpoint URLs must be the same either way.
func TestHandlerMounting(t *testing.T) {
	iss, err := New(Options{
		Issuer: "http://127.0.0.1:1" + issuerPath, Audience: "sagegate",
		Users: testUsers(), Clients: testClients(), Key: testKey(t),
	})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		mount http.Handler
	}{
		{"prefix pattern", iss.Handler()},
		{"StripPrefix", http.StripPrefix(issuerPath, iss.Handler())},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mux := http.NewServeMux()
			mux.Handle(issuerPath+"/", tt.mount)
			for path, want := range map[string]int{
				issuerPath + "/.well-known/openid-configuration": http.StatusOK,
				issuerPath + "/jwks":                             http.StatusOK,
				issuerPath + "/nope":                             http.StatusNotFound,
				issuerPath + "/":                                 http.StatusNotFound,
			} {
				rec := httptest.NewRecorder()
				mux.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
				if rec.Code != want {
					t.Errorf("GET %s = %d, want %d", path, rec.Code, want)
				}
			}
			rec := httptest.NewRecorder()
			mux.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, issuerPath+"/.well-known/openid-configuration", nil))
			var doc struct {
				Token string `json:"token_endpoint"`
			}
			_ = json.Unmarshal(rec.Body.Bytes(), &doc)
			if doc.Token != "http://127.0.0.1:1"+issuerPath+"/token" {
				t.Errorf("token_endpoint = %q", doc.Token)
			}
			rec = httptest.NewRecorder()
			mux.ServeHTTP(rec, httptest.NewRequest(http.MethodDelete, issuerPath+"/token", nil))
			if rec.Code != http.StatusMethodNotAllowed {
				t.Errorf("DELETE /token = %d, want 405", rec.Code)
			}
		})
	}
}

func TestMintVerifiesAgainstJWKS(t *testing.T) {
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		key     crypto.Signer
		wantAlg string
	}{
		{"ES256", testKey(t), "ES256"},
		{"RS256", rsaKey, "RS256"},
		{"default key", nil, "RS256"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, func(o *Options) { o.Key = tt.key })
			raw, err := e.iss.Mint("alice", cliClient)
			if err != nil {
				t.Fatal(err)
			}
			claims := e.verifyJWT(t, raw)
			want := map[string]any{
				"iss": e.base, "sub": SubjectFor("alice"), "aud": "sagegate", "client_id": cliClient,
				"preferred_username": "alice", "email": "alice@example.test", "token_use": "access",
				"scope":  "openid profile email groups",
				"groups": []any{"lob-risk", "admins"},
				"iat":    float64(e.clock.Now().Unix()), "nbf": float64(e.clock.Now().Unix()),
				"exp": float64(e.clock.Now().Add(defaultTokenTTL).Unix()),
			}
			for k, v := range want {
				if !reflect.DeepEqual(claims[k], v) {
					t.Errorf("claim %s = %#v, want %#v", k, claims[k], v)
				}
			}
			if jti, _ := claims["jti"].(string); len(jti) < 16 {
				t.Errorf("jti = %q, want a random id", jti)
			}

			_, body := e.get(t, e.base+"/jwks")
			var set struct {
				Keys []map[string]any `json:"keys"`
			}
			_ = json.Unmarshal([]byte(body), &set)
			if len(set.Keys) != 1 {
				t.Fatalf("jwks has %d keys", len(set.Keys))
			}
			k := set.Keys[0]
			if k["alg"] != tt.wantAlg || k["use"] != "sig" || k["kid"] == "" {
				t.Errorf("jwk alg=%v use=%v kid=%v", k["alg"], k["use"], k["kid"])
			}
			for _, private := range []string{"d", "p", "q", "dp", "dq", "qi"} {
				if _, ok := k[private]; ok {
					t.Errorf("jwks publishes private parameter %q", private)
				}
			}
		})
	}
}

func TestMintRefusesUnknownUserOrClient(t *testing.T) {
	e := newEnv(t, nil)
	if _, err := e.iss.Mint("mallory", cliClient); !errors.Is(err, ErrUnknownUser) {
		t.Errorf("unknown user: err = %v, want ErrUnknownUser", err)
	}
	if _, err := e.iss.Mint("alice", "nobody"); !errors.Is(err, ErrUnknownClient) {
		t.Errorf("unknown client: err = %v, want ErrUnknownClient", err)
	}
}
