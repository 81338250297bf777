package gateway_test

import (
	"encoding/json"
	"io"
	"maps"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/sagegate/sagegate/internal/identity/identitytest"
)

func decode(t *testing.T, r *http.Response) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.NewDecoder(r.Body).Decode(&m); err != nil {
		t.Fatalf("decoding %s body: %v", r.Status, err)
	}
	return m
}

func TestLaunchRedirectsIntoOwnStudio(t *testing.T) {
	e := newEnv(t)
	resp := e.do("GET", "/studio", e.token("alice"))
	if resp.StatusCode != http.StatusFound {
		t.Fatalf("status = %s", resp.Status)
	}
	for h, want := range map[string]string{"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"} {
		if got := resp.Header.Get(h); got != want {
			t.Errorf("%s = %q, want %q", h, got, want)
		}
	}
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil || loc.Host != "studio.invalid" || !strings.Contains(loc.Path, domainA) || loc.Query().Get("token") == "" {
		t.Fatalf("Location = %q, want the simulator's URL for %s", resp.Header.Get("Location"), domainA)
	}
	log := e.sim.CallLog()
	if len(log) != 2 || log[0].Operation != "AssumeRole" || log[1].Operation != "CreatePresignedDomainUrl" {
		t.Fatalf("calls = %+v", log)
	}
	if log[0].SourceIdentity != "alice" || log[0].RoleSessionName != "alice" || log[0].Account != acctA {
		t.Errorf("AssumeRole = %+v, want alice's identity in %s", log[0], acctA)
	}
	if log[1].UserProfile != "alice" || log[1].DomainID != domainA || log[1].SourceIdentity != "alice" {
		t.Errorf("presign = %+v", log[1])
	}
	// The audit line names the decision and never holds the URL.
	a := e.auditLog()
	if !strings.Contains(a, `"outcome":"granted"`) || !strings.Contains(a, `"user":"alice"`) || strings.Contains(a, loc.Query().Get("token")) {
		t.Errorf("audit = %s", a)
	}
}

func TestJSONLaunchAndTargets(t *testing.T) {
	e := newEnv(t)
	resp := e.do("GET", "/api/v1/targets", e.token("both"))
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("targets: %s", resp.Status)
	}
	body := decode(t, resp)
	ts := body["targets"].([]any)
	if len(ts) != 2 {
		t.Fatalf("targets = %v", ts)
	}
	first := ts[0].(map[string]any)
	for k, want := range map[string]any{"id": "lob-a", "kind": "studio", "account": acctA, "region": "us-east-1", "domainId": domainA, "userProfile": "both"} {
		if first[k] != want {
			t.Errorf("target[0].%s = %v, want %v", k, first[k], want)
		}
	}
	if _, leaked := first["roleArn"]; leaked {
		t.Error("the role ARN is not for clients")
	}
	if e.sim.Calls().Total != 0 {
		t.Errorf("listing targets made AWS calls: %+v", e.sim.Calls())
	}

	resp = e.do("POST", "/api/v1/targets/lob-b/launch", e.token("both"))
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("launch: %s %v", resp.Status, resp.Header)
	}
	body = decode(t, resp)
	if u, _ := body["url"].(string); !strings.Contains(u, domainB) {
		t.Errorf("url = %v", body["url"])
	}
	if exp, err := time.Parse(time.RFC3339, body["expiresAt"].(string)); err != nil || time.Until(exp) > 6*time.Second {
		t.Errorf("expiresAt = %v (%v)", body["expiresAt"], err)
	}

	resp = e.do("GET", "/launch/lob-a", e.token("both"))
	if resp.StatusCode != http.StatusFound || !strings.Contains(resp.Header.Get("Location"), domainA) {
		t.Errorf("deep link: %s %q", resp.Status, resp.Header.Get("Location"))
	}
}

func TestRefusalsMakeNoAWSCall(t *testing.T) {
	e := newEnv(t)
	cases := []struct {
		name, method, path, user string
		status                   int
		code                     string
		hdr                      []string
	}{
		{"someone else's studio", "GET", "/studio/alice", "bob", http.StatusForbidden, "forbidden", nil},
		{"no targets", "GET", "/studio", "nobody", http.StatusNotFound, "no_targets", nil},
		{"several targets, API client", "GET", "/studio", "both", http.StatusConflict, "choose_target", nil},
		{"target of another LOB", "GET", "/launch/lob-b", "alice", http.StatusNotFound, "target_not_found", nil},
		{"unknown target", "POST", "/api/v1/targets/nope/launch", "alice", http.StatusNotFound, "target_not_found", nil},
		{"unknown route", "GET", "/nope", "alice", http.StatusNotFound, "not_found", nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			resp := e.do(tc.method, tc.path, e.token(tc.user), tc.hdr...)
			if resp.StatusCode != tc.status {
				t.Fatalf("status = %s, want %d", resp.Status, tc.status)
			}
			if ct := resp.Header.Get("Content-Type"); ct != "application/problem+json" {
				t.Errorf("Content-Type = %q", ct)
			}
			body := decode(t, resp)
			if body["code"] != tc.code || body["requestId"] != resp.Header.Get("X-Request-Id") || body["detail"] == "" {
				t.Errorf("body = %v", body)
			}
			if n := e.sim.Calls().Total; n != 0 {
				t.Errorf("%d AWS calls were made", n)
			}
		})
	}
}

func TestStudioForOwnUserAndChoicePage(t *testing.T) {
	e := newEnv(t)
	resp := e.do("GET", "/studio/alice", e.token("alice"))
	if resp.StatusCode != http.StatusFound {
		t.Fatalf("own path: %s", resp.Status)
	}
	resp = e.do("GET", "/studio", e.token("both"), "Accept", "text/html,application/xhtml+xml")
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(b), `href="/launch/lob-a"`) || !strings.Contains(string(b), `href="/launch/lob-b"`) {
		t.Fatalf("choice page: %s\n%s", resp.Status, b)
	}
	resp = e.do("GET", "/studio/alice", e.token("bob"), "Accept", "text/html")
	b, _ = io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusForbidden || !strings.Contains(resp.Header.Get("Content-Type"), "text/html") || !strings.Contains(string(b), resp.Header.Get("X-Request-Id")) {
		t.Errorf("HTML error page: %s %q\n%s", resp.Status, resp.Header.Get("Content-Type"), b)
	}
}

// Every way a token can be wrong gets 401 with a reason, and no AWS call.
func TestBadTokensAre401WithoutAWSCalls(t *testing.T) {
	e := newEnv(t)
	past := time.Now().Add(-time.Hour)
	future := time.Now().Add(time.Hour)
	user := map[string]any{"sub": "s", "preferred_username": "alice", "aud": "sagegate"}
	cogUser := map[string]any{"sub": "s", "username": "alice", "token_use": "access", "client_id": appClient}
	// changed is base with some claims replaced; base is left as it was.
	changed := func(base, changes map[string]any) map[string]any {
		m := maps.Clone(base)
		maps.Copy(m, changes)
		return m
	}
	with := func(changes map[string]any) map[string]any { return changed(user, changes) }
	cog := func(changes map[string]any) map[string]any { return changed(cogUser, changes) }
	cases := []struct {
		name, header, reason string
	}{
		{"missing token", "", "missing_token"},
		{"not bearer", "Basic YWxpY2U6cHc=", "malformed_token"},
		{"malformed", "Bearer not.a.jwt", "malformed_token"},
		{"bad signature", "Bearer " + e.oidc.BadSignature(user), "bad_signature"},
		{"alg none", "Bearer " + e.oidc.AlgNone(user), "unsupported_alg"},
		{"HS256 keyed with the PEM public key", "Bearer " + e.oidc.HS256WithPublicKey(identitytest.KeyPEM, user), "unsupported_alg"},
		{"HS256 keyed with the DER public key", "Bearer " + e.oidc.HS256WithPublicKey(identitytest.KeyDER, user), "unsupported_alg"},
		{"expired", "Bearer " + e.oidc.Sign(with(map[string]any{"exp": past.Unix(), "iat": past.Add(-time.Hour).Unix()})), "token_expired"},
		{"not yet valid", "Bearer " + e.oidc.Sign(with(map[string]any{"nbf": future.Unix()})), "token_not_yet_valid"},
		{"wrong issuer", "Bearer " + e.oidc.Sign(with(map[string]any{"iss": "https://evil.example.com"})), "wrong_issuer"},
		{"wrong audience", "Bearer " + e.oidc.Sign(with(map[string]any{"aud": "other-api"})), "wrong_audience"},
		{"unknown kid", "Bearer " + e.oidc.UnknownKid(user), "unknown_kid"},
		{"cognito wrong client id", "Bearer " + e.cognito.Sign(cog(map[string]any{"client_id": "other-client"})), "wrong_audience"},
		{"cognito wrong token_use", "Bearer " + e.cognito.Sign(cog(map[string]any{"token_use": "refresh"})), "wrong_token_use"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var resp *http.Response
			if tc.header == "" {
				resp = e.do("GET", "/studio", "")
			} else {
				resp = e.do("GET", "/studio", "", "Authorization", tc.header)
			}
			if resp.StatusCode != http.StatusUnauthorized {
				t.Fatalf("status = %s, want 401", resp.Status)
			}
			body := decode(t, resp)
			if body["code"] != tc.reason {
				t.Errorf("code = %v, want %s (%v)", body["code"], tc.reason, body["detail"])
			}
			wa := resp.Header.Get("WWW-Authenticate")
			if !strings.HasPrefix(wa, "Bearer") || (tc.reason != "missing_token" && !strings.Contains(wa, `error="invalid_token"`)) {
				t.Errorf("WWW-Authenticate = %q", wa)
			}
			if n := e.sim.Calls().Total; n != 0 {
				t.Errorf("%d AWS calls were made for a bad token", n)
			}
		})
	}
}

func TestCognitoAccessAndIDTokensLaunch(t *testing.T) {
	e := newEnv(t)
	access := e.cognito.Sign(map[string]any{"sub": "c1", "username": "carol@example.com", "token_use": "access", "client_id": appClient})
	id := e.cognito.SignWith("ES256", identitytest.ECKeyID, map[string]any{"sub": "c1", "cognito:username": "carol@example.com", "token_use": "id", "aud": appClient, "email": "carol@example.com"})
	for name, tok := range map[string]string{"access": access, "id": id} {
		resp := e.do("GET", "/studio", tok)
		if resp.StatusCode != http.StatusFound {
			t.Errorf("%s token: %s", name, resp.Status)
		}
	}
	// One AssumeRole for carol despite two token kinds: same person.
	if n := e.sim.Calls().Count("sts", "AssumeRole", ""); n != 1 {
		t.Errorf("AssumeRole calls = %d, want 1", n)
	}
}

// After each person's first launch, a launch is exactly one AWS call.
func TestWarmLaunchIsOneAWSCall(t *testing.T) {
	e := newEnv(t)
	people := []string{"alice", "amy", "arthur", "both"}
	launch := func(u string) {
		t.Helper()
		if resp := e.do("GET", "/launch/lob-a", e.token(u)); resp.StatusCode != http.StatusFound {
			t.Fatalf("%s: %s", u, resp.Status)
		}
	}
	for _, u := range people {
		launch(u)
	}
	if n := e.sim.Calls().Count("sts", "AssumeRole", acctA); n != len(people) {
		t.Fatalf("cold AssumeRole calls = %d, want %d", n, len(people))
	}
	e.sim.ResetCalls()
	const rounds = 5
	for i := 0; i < rounds; i++ {
		for _, u := range people {
			launch(u)
		}
	}
	calls := e.sim.Calls()
	want := rounds * len(people)
	if calls.Total != want || calls.Count("sagemaker", "CreatePresignedDomainUrl", acctA) != want {
		t.Fatalf("warm launches: %+v, want exactly %d presign calls and nothing else", calls, want)
	}
}

// Each LOB's users only ever reach their own account.
func TestUsersOnlyReachTheirOwnAccount(t *testing.T) {
	e := newEnv(t)
	for _, u := range []string{"alice", "bob", "amy"} {
		e.do("GET", "/studio", e.token(u))
		e.do("GET", "/studio/alice", e.token(u))
		e.do("GET", "/launch/lob-a", e.token(u))
		e.do("GET", "/launch/lob-b", e.token(u))
	}
	account := map[string]string{"alice": acctA, "amy": acctA, "bob": acctB}
	log := e.sim.CallLog()
	if len(log) == 0 {
		t.Fatal("no calls")
	}
	for _, c := range log {
		if c.Error != "" || account[c.SourceIdentity] != c.Account {
			t.Errorf("call %+v reached account %s, want %s", c, c.Account, account[c.SourceIdentity])
		}
	}
}
