package authorizer_test

import (
	"context"
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sagegate/sagegate/internal/audit"
	"github.com/sagegate/sagegate/internal/identity"
	"github.com/sagegate/sagegate/internal/identity/identitytest"
	"github.com/sagegate/sagegate/internal/lambda/authorizer"
)

type sink struct {
	mu     sync.Mutex
	events []audit.Event
}

func (s *sink) Record(_ context.Context, e audit.Event) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.events = append(s.events, e)
}

func (s *sink) last() audit.Event {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.events[len(s.events)-1]
}

func setup(t *testing.T, response string) (*authorizer.Authorizer, *identitytest.Issuer, *sink) {
	t.Helper()
	iss := identitytest.NewIssuer(t)
	v, err := identity.NewVerifier(context.Background(), []identity.ProviderConfig{{
		Name: "corp", Type: identity.TypeOIDC, Issuer: iss.URL(), JWKSURL: iss.JWKSURL(), Audiences: []string{"sagegate"},
	}}, identity.Options{RefreshCooldown: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	s := &sink{}
	return authorizer.New(authorizer.Options{Verifier: v, Audit: s, HTTPAPIResponse: response}), iss, s
}

func token(iss *identitytest.Issuer, user string, groups ...string) string {
	return iss.Sign(map[string]any{"sub": "sub-" + user, "preferred_username": user, "aud": "sagegate", "groups": groups, "email": user + "@example.com"})
}

const methodArn = "arn:aws:execute-api:eu-west-1:123456789012:api/prod/GET/studio/alice"

func invoke(t *testing.T, a *authorizer.Authorizer, event map[string]any) ([]byte, error) {
	t.Helper()
	b, err := json.Marshal(event)
	if err != nil {
		t.Fatal(err)
	}
	return a.Invoke(context.Background(), b)
}

func TestPolicyNamesThePerson(t *testing.T) {
	a, iss, s := setup(t, "")
	out, err := invoke(t, a, map[string]any{
		"type": "REQUEST", "methodArn": methodArn,
		"headers":        map[string]string{"authorization": "Bearer " + token(iss, "alice", "ds", "a,b")},
		"requestContext": map[string]any{"requestId": "req-1234567890", "identity": map[string]any{"sourceIp": "203.0.113.7"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	var resp struct {
		PrincipalID    string         `json:"principalId"`
		Context        map[string]any `json:"context"`
		PolicyDocument struct{ Statement []struct{ Effect string } }
	}
	if err := json.Unmarshal(out, &resp); err != nil {
		t.Fatal(err)
	}
	if resp.PrincipalID != "alice" || len(resp.PolicyDocument.Statement) != 1 || resp.PolicyDocument.Statement[0].Effect != "Allow" {
		t.Errorf("answer %s", out)
	}
	// Context values are scalars; groups survive a comma in a name.
	for k, v := range resp.Context {
		if _, ok := v.(string); !ok {
			t.Errorf("context[%s] = %v is not a string", k, v)
		}
	}
	p, err := authorizer.PrincipalFromContext(resp.Context)
	if err != nil || p.Username != "alice" || p.Subject != "sub-alice" || p.Email != "alice@example.com" ||
		strings.Join(p.Groups, "|") != "ds|a,b" || p.Issuer != iss.URL() || p.Provider != "corp" {
		t.Errorf("principal from context = %+v, %v", p, err)
	}
	e := s.last()
	if e.Action != "authorize" || e.Outcome != audit.Granted || e.User != "alice" || e.SourceIP != "203.0.113.7" || e.RequestID != "req-1234567890" {
		t.Errorf("audit = %+v", e)
	}
}

func TestRefusals(t *testing.T) {
	a, iss, s := setup(t, "")
	for name, c := range map[string]struct {
		event map[string]any
		code  string
	}{
		"no token":          {map[string]any{"type": "TOKEN", "methodArn": methodArn}, identity.ReasonMissingToken},
		"not bearer":        {map[string]any{"type": "TOKEN", "methodArn": methodArn, "authorizationToken": "Basic YWxpY2U6cHc="}, identity.ReasonMalformed},
		"two headers":       {map[string]any{"type": "REQUEST", "methodArn": methodArn, "multiValueHeaders": map[string][]string{"Authorization": {"Bearer a.b.c", "Bearer d.e.f"}}}, identity.ReasonMalformed},
		"other issuer":      {map[string]any{"type": "TOKEN", "methodArn": methodArn, "authorizationToken": "Bearer " + identitytest.NewIssuer(t).Sign(map[string]any{"sub": "x", "preferred_username": "alice", "aud": "sagegate"})}, identity.ReasonWrongIssuer},
		"garbage JWT token": {map[string]any{"type": "TOKEN", "methodArn": methodArn, "authorizationToken": "Bearer " + token(iss, "alice") + "x"}, identity.ReasonBadSignature},
	} {
		_, err := invoke(t, a, c.event)
		if err == nil || err.Error() != "Unauthorized" {
			t.Errorf("%s: err = %v, want Unauthorized", name, err)
		}
		if e := s.last(); e.Outcome != audit.Denied || e.ErrorCode != c.code {
			t.Errorf("%s: audit = %+v, want code %s", name, e, c.code)
		}
	}
}

func TestHTTPAPI(t *testing.T) {
	event := func(tok string) map[string]any {
		return map[string]any{"version": "2.0", "type": "REQUEST", "routeArn": "arn:aws:execute-api:eu-west-1:123456789012:api/$default/GET/studio/bob",
			"headers": map[string]string{"authorization": "Bearer " + tok}}
	}
	t.Run("simple", func(t *testing.T) {
		a, iss, _ := setup(t, authorizer.ResponseSimple)
		// The simple answer is about the person, not the path: cached per
		// token, it must hold for all of the person's requests. The HTTP
		// handler refuses bob's path to alice itself.
		out, err := invoke(t, a, event(token(iss, "alice")))
		if err != nil || !strings.HasPrefix(string(out), `{"isAuthorized":true,"context":{`) || !strings.Contains(string(out), `"username":"alice"`) {
			t.Errorf("answer %s, %v", out, err)
		}
		out, err = invoke(t, a, event("x.y.z"))
		if err != nil || string(out) != `{"isAuthorized":false}` {
			t.Errorf("invalid token: answer %s, %v", out, err)
		}
	})
	t.Run("policy", func(t *testing.T) {
		a, iss, _ := setup(t, authorizer.ResponsePolicy)
		out, err := invoke(t, a, event(token(iss, "alice")))
		if err != nil || !strings.Contains(string(out), `"Effect":"Deny","Resource":["arn:aws:execute-api:eu-west-1:123456789012:api/$default/GET/studio/bob"]`) {
			t.Errorf("answer %s, %v", out, err)
		}
		if _, err := invoke(t, a, event("x.y.z")); err == nil || err.Error() != "Unauthorized" {
			t.Errorf("invalid token: %v", err)
		}
	})
}

// When the signing keys cannot be fetched, the answer is not "Unauthorized"
// (which tells the person to sign in again) but an error: a 500 that API
// Gateway does not cache.
func TestKeysUnavailable(t *testing.T) {
	a, iss, s := setup(t, "")
	iss.SetJWKSDown(true)
	_, err := invoke(t, a, map[string]any{"type": "TOKEN", "methodArn": methodArn, "authorizationToken": "Bearer " + token(iss, "alice")})
	if err == nil || err.Error() == "Unauthorized" {
		t.Errorf("err = %v", err)
	}
	if e := s.last(); e.Outcome != audit.Failed {
		t.Errorf("audit = %+v", e)
	}
}

func TestBadEvents(t *testing.T) {
	a, iss, _ := setup(t, "")
	for name, payload := range map[string]string{
		"not JSON":   `{`,
		"not ours":   `{"version":"2.0","routeKey":"$default","rawPath":"/"}`,
		"bad ARN":    `{"type":"TOKEN","methodArn":"arn:aws:s3:::bucket","authorizationToken":"Bearer ` + token(iss, "alice") + `"}`,
		"websockets": `{"type":"MESSAGE"}`,
	} {
		_, err := a.Invoke(context.Background(), []byte(payload))
		if err == nil || err.Error() == "Unauthorized" {
			t.Errorf("%s: err = %v, want a configuration error", name, err)
		}
	}
}

func TestPrincipalFromContext(t *testing.T) {
	for name, c := range map[string]map[string]any{
		"no username":    {"issuer": "https://i"},
		"no issuer":      {"username": "alice"},
		"number":         {"username": "alice", "issuer": "https://i", "sub": 7},
		"groups not arr": {"username": "alice", "issuer": "https://i", "groups": "a,b"},
	} {
		if p, err := authorizer.PrincipalFromContext(c); err == nil {
			t.Errorf("%s: accepted as %+v", name, p)
		}
	}
	p, err := authorizer.PrincipalFromContext(map[string]any{"username": "alice", "issuer": "https://i", "groups": "[]", "principalId": "alice", "integrationLatency": 3})
	if err != nil || p.Groups != nil || p.Username != "alice" {
		t.Errorf("%+v, %v", p, err)
	}
}
