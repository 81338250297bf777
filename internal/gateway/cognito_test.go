package gateway_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/sagegate/sagegate/internal/testenv"
)

// Real Cognito tokens, from cognito-local's user pool, launch through the
// gateway: an access token and an ID token, each verified against the
// pool's JWKS with the cognito provider kind.
func TestCognitoLocalTokensLaunch(t *testing.T) {
	cl := testenv.CognitoLocal(t)
	pool := cl.CreateUserPool(t, "sagegate-test")
	client := pool.CreateAppClient(t, "gateway")
	user := pool.CreateUser(t, "dana@example.com", "Passw0rd!Passw0rd")
	pool.CreateGroup(t, "data-science")
	pool.AddUserToGroup(t, user.Username, "data-science")
	tokens := cl.Login(t, client, user.Email, user.Password)

	// cognito-local's discovery document names port 9229 whatever port it
	// runs on, so the issuer and JWKS URL are given explicitly, as they
	// would be for any provider behind a proxy.
	e := newEnvWith(t, extra{
		providers: fmt.Sprintf("    - {name: local, type: cognito, userPoolId: %s, region: us-east-1, issuer: %q, jwksUrl: %q, clientIds: [%s]}",
			pool.ID, pool.Issuer, pool.JWKSURL, client),
		users:     fmt.Sprintf("      %s: {lobs: [lob-a]}", user.Username),
		profilesA: []string{user.Username},
	})
	for name, tok := range map[string]string{"access": tokens.AccessToken, "id": tokens.IDToken} {
		t.Run(name, func(t *testing.T) {
			resp := e.do("GET", "/studio", tok)
			if resp.StatusCode != http.StatusFound || !strings.Contains(resp.Header.Get("Location"), domainA) {
				t.Fatalf("status = %s, Location = %q", resp.Status, resp.Header.Get("Location"))
			}
			resp = e.do("GET", "/api/v1/targets", tok)
			body := decode(t, resp)
			if body["user"] != user.Username {
				t.Errorf("user = %v, want %s", body["user"], user.Username)
			}
		})
	}
	if n := e.sim.Calls().Count("sts", "AssumeRole", acctA); n != 1 {
		t.Errorf("AssumeRole calls = %d, want 1 for one person", n)
	}
	for _, c := range e.sim.CallLog() {
		if c.SourceIdentity != user.Username {
			t.Errorf("call %s carries source identity %q, want %q", c.Operation, c.SourceIdentity, user.Username)
		}
	}
	// A token from the same emulator for an app client the gateway does not
	// trust is refused.
	other := pool.CreateAppClient(t, "not-trusted")
	stranger := cl.Login(t, other, user.Email, user.Password)
	if resp := e.do("GET", "/studio", stranger.AccessToken); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("token of an untrusted client: %s", resp.Status)
	}
}
