package identity

import (
	"maps"
	"reflect"
	"testing"
	"time"

	"github.com/sagegate/sagegate/internal/identity/identitytest"
)

// cognitoAccess is a Cognito access token's claims (no aud, client_id).
func cognitoAccess(changes map[string]any) map[string]any {
	c := map[string]any{
		"sub":            "5f2a-sub",
		"token_use":      "access",
		"client_id":      "app-client",
		"username":       "alice@example.com",
		"scope":          "openid email",
		"cognito:groups": []string{"lob-a"},
	}
	maps.Copy(c, changes)
	return c
}

// cognitoID is a Cognito ID token's claims (aud is the app client).
func cognitoID(changes map[string]any) map[string]any {
	c := map[string]any{
		"sub":              "5f2a-sub",
		"token_use":        "id",
		"aud":              "app-client",
		"cognito:username": "alice@example.com",
		"email":            "alice@example.com",
		"email_verified":   true,
		"cognito:groups":   []string{"lob-a", "lob-b"},
	}
	maps.Copy(c, changes)
	return c
}

func TestVerifyCognito(t *testing.T) {
	e := newEnv(t, cognitoConfig, Options{})
	iss := e.iss
	principal := func(email string, groups ...string) *Principal {
		return &Principal{Username: "alice@example.com", Subject: "5f2a-sub", Email: email, Groups: groups, Issuer: iss.URL(), Provider: "pool"}
	}
	tests := []struct {
		name   string
		token  func() string
		reason string
		want   *Principal
	}{
		{"access RS256", func() string { return iss.Sign(cognitoAccess(nil)) }, "", principal("", "lob-a")},
		{"access ES256", func() string { return iss.SignWith("ES256", identitytest.ECKeyID, cognitoAccess(nil)) }, "", principal("", "lob-a")},
		{"id RS256", func() string { return iss.Sign(cognitoID(nil)) }, "", principal("alice@example.com", "lob-a", "lob-b")},
		{"id ES256", func() string { return iss.SignWith("ES256", identitytest.ECKeyID, cognitoID(nil)) }, "", principal("alice@example.com", "lob-a", "lob-b")},
		{"id without groups", func() string { return iss.Sign(cognitoID(map[string]any{"cognito:groups": nil})) }, "", principal("alice@example.com")},
		{"id with unverified email", func() string { return iss.Sign(cognitoID(map[string]any{"email_verified": false})) }, "", principal("", "lob-a", "lob-b")},

		{"access for another client", func() string { return iss.Sign(cognitoAccess(map[string]any{"client_id": "other"})) }, ReasonWrongAudience, nil},
		{"access with aud but no client_id", func() string {
			return iss.Sign(cognitoAccess(map[string]any{"client_id": nil, "aud": "app-client"}))
		}, ReasonWrongAudience, nil},
		{"id for another client", func() string { return iss.Sign(cognitoID(map[string]any{"aud": "other"})) }, ReasonWrongAudience, nil},
		{"id with client_id but wrong aud", func() string {
			return iss.Sign(cognitoID(map[string]any{"aud": "other", "client_id": "app-client"}))
		}, ReasonWrongAudience, nil},
		{"refresh token_use", func() string { return iss.Sign(cognitoAccess(map[string]any{"token_use": "refresh"})) }, ReasonWrongTokenUse, nil},
		{"no token_use", func() string { return iss.Sign(cognitoAccess(map[string]any{"token_use": nil})) }, ReasonWrongTokenUse, nil},
		{"access without username (client credentials)", func() string {
			return iss.Sign(cognitoAccess(map[string]any{"username": nil}))
		}, ReasonMissingClaim, nil},
		{"id without cognito:username", func() string { return iss.Sign(cognitoID(map[string]any{"cognito:username": nil})) }, ReasonMissingClaim, nil},
		{"groups of the wrong type", func() string { return iss.Sign(cognitoAccess(map[string]any{"cognito:groups": 3})) }, ReasonMalformed, nil},
		{"expired", func() string {
			return iss.Sign(cognitoAccess(map[string]any{"exp": e.clock.Now().Add(-DefaultLeeway - time.Second).Unix()}))
		}, ReasonExpired, nil},
		{"bad signature", func() string { return iss.BadSignature(cognitoAccess(nil)) }, ReasonBadSignature, nil},
		{"HS256 confusion", func() string { return iss.HS256WithPublicKey(identitytest.KeyDER, cognitoAccess(nil)) }, ReasonUnsupportedAlg, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := e.verify(t, tt.token(), tt.reason)
			if tt.reason == "" && !reflect.DeepEqual(p, tt.want) {
				t.Errorf("principal = %+v, want %+v", p, tt.want)
			}
		})
	}
	// Cognito keys live at <issuer>/.well-known/jwks.json: no discovery.
	e.wantCalls(t, 1, 0)
}

func TestCognitoTokenUseRestricted(t *testing.T) {
	e := newEnv(t, func(iss *identitytest.Issuer) ProviderConfig {
		c := cognitoConfig(iss)
		c.TokenUse = []string{TokenUseAccess}
		return c
	}, Options{})
	e.verify(t, e.iss.Sign(cognitoAccess(nil)), "")
	e.verify(t, e.iss.Sign(cognitoID(nil)), ReasonWrongTokenUse)
}
