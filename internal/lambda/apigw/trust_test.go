package apigw_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/sagegate/sagegate/internal/identity"
	"github.com/sagegate/sagegate/internal/lambda/apigw"
)

const (
	oidcIssuer    = "https://idp.example.com"
	cognitoIssuer = "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Pool1"
)

var providers = []identity.ProviderConfig{
	{Name: "corp", Type: identity.TypeOIDC, Issuer: oidcIssuer, Audiences: []string{"sagegate"}},
	{Name: "pool", Type: identity.TypeCognito, UserPoolID: "eu-west-1_Pool1", ClientIDs: []string{"app-client"}, TokenUse: []string{identity.TokenUseID}},
}

// trusted runs an event through the adapter into a handler that asks the
// trust function, and returns its answer.
func trusted(t *testing.T, mode string, payload []byte) (*identity.Principal, bool) {
	t.Helper()
	trust := apigw.Trust(mode, providers, nil)
	var p *identity.Principal
	var ok bool
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { p, ok = trust(r) })
	if _, err := apigw.Handler(h, apigw.Options{}).Invoke(context.Background(), payload); err != nil {
		t.Fatal(err)
	}
	return p, ok
}

func TestNoTrustByDefault(t *testing.T) {
	if apigw.Trust("none", providers, nil) != nil || apigw.Trust("", providers, nil) != nil {
		t.Error("a trust function for none")
	}
}

func sagegateContext(issuer string) func(map[string]any) {
	return set("requestContext.authorizer", map[string]any{
		"principalId": "alice", "username": "alice", "sub": "sub-alice", "groups": `["ds"]`, "issuer": issuer, "provider": "evil", "integrationLatency": 3,
	})
}

func TestTrustSagegate(t *testing.T) {
	p, ok := trusted(t, "sagegate", fixture(t, "apigw-rest-request.json", sagegateContext(oidcIssuer)))
	if !ok || p.Username != "alice" || p.Subject != "sub-alice" || strings.Join(p.Groups, ",") != "ds" || p.Provider != "corp" {
		t.Fatalf("principal %+v, %v", p, ok)
	}
	p, ok = trusted(t, "sagegate", fixture(t, "apigw-v2-request.json", set("requestContext.authorizer", map[string]any{
		"lambda": map[string]any{"username": "alice", "sub": "sub-alice", "groups": "[]", "issuer": oidcIssuer},
	})))
	if !ok || p.Username != "alice" || p.Groups != nil {
		t.Fatalf("HTTP API: principal %+v, %v", p, ok)
	}
	for name, payload := range map[string][]byte{
		"unknown issuer":    fixture(t, "apigw-rest-request.json", sagegateContext("https://evil.example.com")),
		"principalId":       fixture(t, "apigw-rest-request.json", both(sagegateContext(oidcIssuer), set("requestContext.authorizer.principalId", "mallory"))),
		"no sub":            fixture(t, "apigw-rest-request.json", both(sagegateContext(oidcIssuer), set("requestContext.authorizer.sub", ""))),
		"bad groups":        fixture(t, "apigw-rest-request.json", both(sagegateContext(oidcIssuer), set("requestContext.authorizer.groups", "a,b"))),
		"no context":        fixture(t, "apigw-rest-request.json", nil),
		"Cognito claims":    fixture(t, "apigw-rest-request.json", set("requestContext.authorizer", map[string]any{"claims": map[string]any{"sub": "s", "iss": cognitoIssuer}})),
		"ALB with a header": fixture(t, "alb-request.json", set("multiValueHeaders.x-amzn-oidc-identity", []string{"alice"})),
	} {
		if p, ok := trusted(t, "sagegate", payload); ok {
			t.Errorf("%s: trusted as %+v", name, p)
		}
	}
}

func cognitoClaims(edit map[string]any) func(map[string]any) {
	claims := map[string]any{
		"sub": "sub-carol", "aud": "app-client", "token_use": "id", "cognito:username": "carol", "cognito:groups": "lob-a,admins",
		"email": "carol@example.com", "email_verified": "true", "iss": cognitoIssuer, "exp": "Fri Nov 21 16:15:44 UTC 2026",
	}
	for k, v := range edit {
		if v == nil {
			delete(claims, k)
		} else {
			claims[k] = v
		}
	}
	return set("requestContext.authorizer", map[string]any{"claims": claims})
}

func TestTrustCognito(t *testing.T) {
	p, ok := trusted(t, "cognito", fixture(t, "apigw-rest-request.json", cognitoClaims(nil)))
	if !ok || p.Username != "carol" || p.Email != "carol@example.com" || strings.Join(p.Groups, "|") != "lob-a|admins" || p.Provider != "pool" || p.Issuer != cognitoIssuer {
		t.Fatalf("REST Cognito authorizer: %+v, %v", p, ok)
	}
	p, ok = trusted(t, "cognito", fixture(t, "apigw-rest-request.json", cognitoClaims(map[string]any{"email_verified": "false"})))
	if !ok || p.Email != "" {
		t.Errorf("an unverified email was kept: %+v", p)
	}
	// An HTTP API JWT authorizer, any configured OIDC issuer.
	p, ok = trusted(t, "cognito", fixture(t, "apigw-v2-jwt-authorizer-request.json", func(m map[string]any) {
		claims := m["requestContext"].(map[string]any)["authorizer"].(map[string]any)["jwt"].(map[string]any)["claims"].(map[string]any)
		claims["iss"] = oidcIssuer
	}))
	if !ok || p.Username != "alice" || strings.Join(p.Groups, "|") != "data-science|analysts" || p.Provider != "corp" {
		t.Fatalf("HTTP API JWT authorizer: %+v, %v", p, ok)
	}
	for name, edit := range map[string]map[string]any{
		"an access token where only ID tokens are accepted": {"token_use": "access", "client_id": "app-client", "username": "carol"},
		"another app client": {"aud": "other-client"},
		"unknown issuer":     {"iss": "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Other"},
		"no username":        {"cognito:username": nil},
		"no sub":             {"sub": nil},
	} {
		if p, ok := trusted(t, "cognito", fixture(t, "apigw-rest-request.json", cognitoClaims(edit))); ok {
			t.Errorf("%s: trusted as %+v", name, p)
		}
	}
	// sagegate's own context is not what cognito mode trusts.
	if p, ok := trusted(t, "cognito", fixture(t, "apigw-rest-request.json", sagegateContext(oidcIssuer))); ok {
		t.Errorf("sagegate context under cognito: %+v", p)
	}
}

func TestListClaims(t *testing.T) {
	// The test runs through Trust because the parser is not exported.
	for raw, want := range map[string]string{
		"[a b  c]": "a|b|c",
		"a,b":      "a|b",
		"a":        "a",
		" a , ,b ": "a|b",
		"[]":       "",
	} {
		p, ok := trusted(t, "cognito", fixture(t, "apigw-rest-request.json", cognitoClaims(map[string]any{"cognito:groups": raw})))
		if !ok || strings.Join(p.Groups, "|") != want {
			t.Errorf("groups %q = %q, want %q", raw, p.Groups, want)
		}
	}
}
