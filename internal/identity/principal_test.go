package identity

import (
	"reflect"
	"testing"
)

// textClaims are claims that arrive as strings, as from an API Gateway
// authorizer; lists are comma-separated.
type textClaims map[string]string

func (c textClaims) Str(name string) (string, error) { return c[name], nil }

func (c textClaims) StrList(name string) ([]string, error) {
	if c[name] == "" {
		return nil, nil
	}
	return []string{c[name]}, nil
}

func (c textClaims) Bool(name string) (bool, bool, error) {
	return c[name] == "true", c[name] != "", nil
}

func TestPrincipalFromClaims(t *testing.T) {
	oidc := ProviderConfig{Name: "corp", Type: TypeOIDC, Issuer: "https://idp.example.com", Audiences: []string{"sagegate"}}
	cognito := ProviderConfig{Name: "pool", Type: TypeCognito, UserPoolID: "eu-west-1_Pool1", ClientIDs: []string{"app-client"}, TokenUse: []string{TokenUseAccess}}
	alice := textClaims{"sub": "u-1", "aud": "sagegate", "preferred_username": "alice", "email": "alice@example.com", "groups": "ds"}

	p, err := PrincipalFromClaims(oidc, alice)
	want := &Principal{Username: "alice", Subject: "u-1", Email: "alice@example.com", Groups: []string{"ds"}, Issuer: oidc.Issuer, Provider: "corp"}
	if err != nil || !reflect.DeepEqual(p, want) {
		t.Fatalf("oidc: %+v, %v; want %+v", p, err, want)
	}
	p, err = PrincipalFromClaims(cognito, textClaims{"sub": "s", "token_use": "access", "client_id": "app-client", "username": "carol"})
	if err != nil || p.Username != "carol" || p.Issuer != cognito.WithDefaults().Issuer || p.Provider != "pool" || !p.ExpiresAt.IsZero() {
		t.Fatalf("cognito: %+v, %v", p, err)
	}

	for name, tc := range map[string]struct {
		prov   ProviderConfig
		claims textClaims
		reason string
	}{
		"no sub":        {oidc, textClaims{"aud": "sagegate", "preferred_username": "alice"}, ReasonMissingClaim},
		"wrong aud":     {oidc, textClaims{"sub": "u-1", "aud": "other", "preferred_username": "alice"}, ReasonWrongAudience},
		"no username":   {oidc, textClaims{"sub": "u-1", "aud": "sagegate"}, ReasonMissingClaim},
		"id token":      {cognito, textClaims{"sub": "s", "token_use": "id", "aud": "app-client", "cognito:username": "carol"}, ReasonWrongTokenUse},
		"other client":  {cognito, textClaims{"sub": "s", "token_use": "access", "client_id": "other", "username": "carol"}, ReasonWrongAudience},
		"unverified id": {ProviderConfig{Name: "corp", Type: TypeOIDC, Issuer: oidc.Issuer, Audiences: []string{"sagegate"}, UsernameClaim: "email"}, textClaims{"sub": "u-1", "aud": "sagegate", "email": "a@example.com", "email_verified": "false"}, ReasonUnverifiedEmail},
	} {
		if p, err := PrincipalFromClaims(tc.prov, tc.claims); ReasonOf(err) != tc.reason {
			t.Errorf("%s: %+v, %v; want reason %s", name, p, err, tc.reason)
		}
	}
}
