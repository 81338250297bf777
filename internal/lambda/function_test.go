package lambda_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/sagegate/sagegate/internal/lambda/lambdatest"
)

// TestHTTPRole drives the real binary, as Lambda would, with each proxy
// event shape, and checks what API Gateway or the ALB would answer.
func TestHTTPRole(t *testing.T) {
	w := newWorld(t)
	f := w.start(t, "http", "none")
	alice, bob := w.token("alice"), w.token("bob")

	t.Run("REST API, own Studio", func(t *testing.T) {
		r := decodeHTTP(t, f.invoke(fixture(t, "apigw-rest-request.json", "__TOKEN__", alice)))
		if r.StatusCode != http.StatusFound {
			t.Fatalf("status %d, body %s", r.StatusCode, r.Body)
		}
		loc, err := url.Parse(r.header("Location"))
		if err != nil || loc.Host != "studio.invalid" || !strings.Contains(loc.Path, domainA) || loc.Query().Get("token") == "" {
			t.Errorf("Location = %q", r.header("Location"))
		}
		for h, want := range map[string]string{"Cache-Control": "no-store", "Referrer-Policy": "no-referrer", "X-Request-Id": "c6af9ac6-7b61-11e6-9a41-93e8deadbeef"} {
			if got := r.header(h); got != want {
				t.Errorf("%s = %q, want %q", h, got, want)
			}
		}
		if r.Headers != nil || r.Cookies != nil {
			t.Errorf("a REST API answer has multiValueHeaders only: %+v", r)
		}
	})

	t.Run("REST API, another user's Studio", func(t *testing.T) {
		before := w.sim.Calls().Total
		r := decodeHTTP(t, f.invoke(fixture(t, "apigw-rest-request.json", "__TOKEN__", bob)))
		if r.StatusCode != http.StatusForbidden || decodeBody(t, r)["code"] != "forbidden" {
			t.Fatalf("status %d, body %s", r.StatusCode, r.Body)
		}
		if n := w.sim.Calls().Total - before; n != 0 {
			t.Errorf("%d AWS calls for a refused request", n)
		}
	})

	t.Run("HTTP API payload 1.0, stage in the path", func(t *testing.T) {
		r := decodeHTTP(t, f.invoke(fixture(t, "apigw-http-v1-request.json", "__TOKEN__", alice)))
		if r.StatusCode != http.StatusOK {
			t.Fatalf("status %d, body %s", r.StatusCode, r.Body)
		}
		if body := decodeBody(t, r); body["user"] != "alice" || len(body["targets"].([]any)) != 1 {
			t.Errorf("body = %v", body)
		}
	})

	t.Run("HTTP API payload 2.0, stage in the path, path parameter", func(t *testing.T) {
		r := decodeHTTP(t, f.invoke(fixture(t, "apigw-v2-request.json", "__TOKEN__", alice)))
		if r.StatusCode != http.StatusOK {
			t.Fatalf("status %d, body %s", r.StatusCode, r.Body)
		}
		body := decodeBody(t, r)
		if u, _ := body["url"].(string); !strings.HasPrefix(u, "http://studio.invalid/studio/"+domainA) || body["expiresAt"] == "" {
			t.Errorf("body = %v", body)
		}
		if r.Headers["Content-Type"] != "application/json" || r.MultiValueHeaders != nil {
			t.Errorf("an HTTP API answer has headers only: %+v", r)
		}
	})

	t.Run("ALB", func(t *testing.T) {
		r := decodeHTTP(t, f.invoke(fixture(t, "alb-request.json", "__TOKEN__", alice)))
		if r.StatusCode != http.StatusFound || !strings.HasPrefix(r.header("Location"), "http://studio.invalid/") {
			t.Fatalf("status %d, Location %q, body %s", r.StatusCode, r.header("Location"), r.Body)
		}
	})

	// Four pending logins in the request's cookies: the login page clears
	// them all and sets its own, five Set-Cookie headers in one answer.
	t.Run("REST API cookies both ways", func(t *testing.T) {
		r := decodeHTTP(t, f.invoke(fixture(t, "apigw-rest-login-request.json")))
		if r.StatusCode != http.StatusFound {
			t.Fatalf("status %d, body %s", r.StatusCode, r.Body)
		}
		checkLoginCookies(t, r.MultiValueHeaders["Set-Cookie"])
	})
	t.Run("HTTP API cookies both ways", func(t *testing.T) {
		r := decodeHTTP(t, f.invoke(fixture(t, "apigw-v2-login-request.json")))
		if r.StatusCode != http.StatusFound {
			t.Fatalf("status %d, body %s", r.StatusCode, r.Body)
		}
		checkLoginCookies(t, r.Cookies)
		if _, folded := r.Headers["Set-Cookie"]; folded {
			t.Error("Set-Cookie folded into headers")
		}
	})

	// The context claims alice, but nothing configured trusts it.
	t.Run("a forged authorizer context is ignored", func(t *testing.T) {
		before := w.sim.Calls().Total
		r := decodeHTTP(t, f.invoke(fixture(t, "apigw-rest-authorizer-context.json", "__ISSUER__", w.iss.URL())))
		if r.StatusCode != http.StatusUnauthorized || decodeBody(t, r)["code"] != "missing_token" {
			t.Fatalf("status %d, body %s", r.StatusCode, r.Body)
		}
		if n := w.sim.Calls().Total - before; n != 0 {
			t.Errorf("%d AWS calls", n)
		}
	})

	stdout, stderr := f.stop()
	checkMetrics(t, stdout)
	if strings.Contains(stdout+stderr, alice) {
		t.Error("a token reached the output")
	}
}

func checkLoginCookies(t *testing.T, setCookies []string) {
	t.Helper()
	if len(setCookies) != 5 {
		t.Fatalf("Set-Cookie = %q, want 4 cleared and 1 new", setCookies)
	}
	cleared := 0
	for _, c := range setCookies {
		if !strings.HasPrefix(c, "__Host-sagegate_login_") || !strings.Contains(c, "Secure") {
			t.Errorf("Set-Cookie %q", c)
		}
		if strings.Contains(c, "Max-Age=0") {
			cleared++
		}
	}
	if cleared != 4 {
		t.Errorf("%d cookies cleared, want 4: %q", cleared, setCookies)
	}
}

// checkMetrics finds the embedded-metric-format lines of the launches and
// of the refusals, by error code.
func checkMetrics(t *testing.T, stdout string) {
	t.Helper()
	var launches, forbidden, missing int
	for _, m := range jsonLines(stdout, "_aws") {
		aws := m["_aws"].(map[string]any)
		if _, ok := aws["Timestamp"].(float64); !ok {
			t.Errorf("EMF line without a Timestamp: %v", m)
		}
		if m["Launches"] != nil && m["Outcome"] == "granted" {
			launches++
			if ms, ok := m["LaunchLatency"].(float64); !ok || ms <= 0 {
				t.Errorf("LaunchLatency = %v", m["LaunchLatency"])
			}
		}
		switch m["ErrorCode"] {
		case "forbidden":
			forbidden++
		case "missing_token":
			missing++
		}
	}
	if launches != 3 || forbidden != 1 || missing != 1 {
		t.Errorf("EMF: %d granted launches (want 3), %d forbidden (want 1), %d missing_token (want 1)\n%s", launches, forbidden, missing, stdout)
	}
}

// TestTrustedAuthorizerContext: configured, the identity an API Gateway
// authorizer vouched for is taken without a token; only the configured
// kind of context counts.
func TestTrustedAuthorizerContext(t *testing.T) {
	w := newWorld(t)

	t.Run("sagegate", func(t *testing.T) {
		f := w.start(t, "http", "sagegate")
		r := decodeHTTP(t, f.invoke(fixture(t, "apigw-rest-authorizer-context.json", "__ISSUER__", w.iss.URL())))
		if r.StatusCode != http.StatusOK || decodeBody(t, r)["user"] != "alice" {
			t.Fatalf("status %d, body %s", r.StatusCode, r.Body)
		}
		// An issuer sagegate does not trust makes the context worthless.
		r = decodeHTTP(t, f.invoke(fixture(t, "apigw-rest-authorizer-context.json", "__ISSUER__", "https://evil.example.com")))
		if r.StatusCode != http.StatusUnauthorized {
			t.Errorf("unknown issuer: status %d, body %s", r.StatusCode, r.Body)
		}
		// JWT authorizer claims are not sagegate's context: the request's
		// own (invalid) token is checked instead.
		r = decodeHTTP(t, f.invoke(fixture(t, "apigw-v2-jwt-authorizer-request.json", "__ISSUER__", w.iss.URL())))
		if r.StatusCode != http.StatusUnauthorized {
			t.Errorf("JWT claims: status %d, body %s", r.StatusCode, r.Body)
		}
	})

	t.Run("cognito", func(t *testing.T) {
		f := w.start(t, "http", "cognito")
		r := decodeHTTP(t, f.invoke(fixture(t, "apigw-v2-jwt-authorizer-request.json", "__ISSUER__", w.iss.URL())))
		if r.StatusCode != http.StatusOK || decodeBody(t, r)["user"] != "alice" {
			t.Fatalf("status %d, body %s", r.StatusCode, r.Body)
		}
		r = decodeHTTP(t, f.invoke(fixture(t, "apigw-rest-authorizer-context.json", "__ISSUER__", w.iss.URL())))
		if r.StatusCode != http.StatusUnauthorized {
			t.Errorf("sagegate context under cognito: status %d, body %s", r.StatusCode, r.Body)
		}
	})
}

type policyResponse struct {
	PrincipalID    string `json:"principalId"`
	PolicyDocument struct {
		Version   string
		Statement []struct {
			Action   []string
			Effect   string
			Resource []string
		}
	} `json:"policyDocument"`
	Context map[string]any `json:"context"`
}

func decodePolicy(t *testing.T, res lambdatest.Result) policyResponse {
	t.Helper()
	if res.Error != nil {
		t.Fatalf("function error: %v", res.Error)
	}
	var p policyResponse
	if err := json.Unmarshal(res.Payload, &p); err != nil {
		t.Fatalf("answer %s: %v", res.Payload, err)
	}
	return p
}

const restStage = "arn:aws:execute-api:us-east-1:123456789012:a1b2c3d4e5/dev/"

// alicesResources is everything alice may invoke on the REST API's stage,
// whatever she asked for: the cached policy covers all her requests.
var alicesResources = []string{
	restStage + "GET/",
	restStage + "GET/studio",
	restStage + "GET/launch/*",
	restStage + "GET/api/v1/*",
	restStage + "POST/api/v1/*",
	restStage + "GET/studio/alice",
}

func TestAuthorizerRole(t *testing.T) {
	w := newWorld(t)
	f := w.start(t, "authorizer", "none")
	alice := w.token("alice")

	checkPolicy := func(t *testing.T, p policyResponse, deny []string) {
		t.Helper()
		if p.PrincipalID != "alice" {
			t.Errorf("principalId = %q", p.PrincipalID)
		}
		for k, want := range map[string]any{"username": "alice", "sub": "sub-alice", "groups": "[]", "issuer": w.iss.URL(), "provider": "corp"} {
			if p.Context[k] != want {
				t.Errorf("context[%s] = %v, want %v", k, p.Context[k], want)
			}
		}
		st := p.PolicyDocument.Statement
		if p.PolicyDocument.Version != "2012-10-17" || len(st) == 0 || st[0].Effect != "Allow" || !slices.Equal(st[0].Resource, alicesResources) {
			t.Fatalf("policy = %+v", p.PolicyDocument)
		}
		var denied []string
		for _, s := range st[1:] {
			if s.Effect != "Deny" || !slices.Equal(s.Action, []string{"execute-api:Invoke"}) {
				t.Errorf("statement %+v", s)
			}
			denied = append(denied, s.Resource...)
		}
		if !slices.Equal(denied, deny) {
			t.Errorf("denied %q, want %q", denied, deny)
		}
	}

	t.Run("REQUEST, own path", func(t *testing.T) {
		checkPolicy(t, decodePolicy(t, f.invoke(fixture(t, "apigw-authorizer-request.json", "__TOKEN__", alice, "__PATH__", "studio/alice"))), nil)
	})
	t.Run("REQUEST, another user's path", func(t *testing.T) {
		checkPolicy(t, decodePolicy(t, f.invoke(fixture(t, "apigw-authorizer-request.json", "__TOKEN__", alice, "__PATH__", "studio/bob"))),
			[]string{restStage + "GET/studio/bob"})
	})
	t.Run("TOKEN, own path", func(t *testing.T) {
		checkPolicy(t, decodePolicy(t, f.invoke(fixture(t, "apigw-authorizer-token.json", "__TOKEN__", alice, "__PATH__", "launch/lob-a"))), nil)
	})
	t.Run("TOKEN, another user's path", func(t *testing.T) {
		checkPolicy(t, decodePolicy(t, f.invoke(fixture(t, "apigw-authorizer-token.json", "__TOKEN__", alice, "__PATH__", "studio/bob"))),
			[]string{restStage + "GET/studio/bob"})
	})

	invalid := map[string]string{
		"garbage":   "not-a-jwt",
		"expired":   w.iss.Sign(map[string]any{"sub": "sub-alice", "preferred_username": "alice", "aud": "sagegate", "exp": 1000}),
		"wrong aud": w.iss.Sign(map[string]any{"sub": "sub-alice", "preferred_username": "alice", "aud": "someone-else"}),
	}
	for name, tok := range invalid {
		for _, fx := range []string{"apigw-authorizer-token.json", "apigw-authorizer-request.json"} {
			t.Run(fx+" "+name, func(t *testing.T) {
				res := f.invoke(fixture(t, fx, "__TOKEN__", tok, "__PATH__", "studio/alice"))
				if res.Error == nil || res.Error.Message != "Unauthorized" {
					t.Fatalf("answer %s, error %+v: want the error Unauthorized", res.Payload, res.Error)
				}
			})
		}
	}
	t.Run("TOKEN without a bearer token", func(t *testing.T) {
		res := f.invoke([]byte(`{"type":"TOKEN","authorizationToken":"","methodArn":"` + restStage + `GET/studio"}`))
		if res.Error == nil || res.Error.Message != "Unauthorized" {
			t.Fatalf("answer %s, error %+v", res.Payload, res.Error)
		}
	})

	t.Run("HTTP API simple response", func(t *testing.T) {
		res := f.invoke(fixture(t, "apigw-v2-authorizer-request.json", "__TOKEN__", alice, "__PATH__", "api/v1/targets"))
		var simple struct {
			IsAuthorized bool           `json:"isAuthorized"`
			Context      map[string]any `json:"context"`
		}
		if res.Error != nil || json.Unmarshal(res.Payload, &simple) != nil || !simple.IsAuthorized || simple.Context["username"] != "alice" {
			t.Fatalf("answer %s, error %+v", res.Payload, res.Error)
		}
		res = f.invoke(fixture(t, "apigw-v2-authorizer-request.json", "__TOKEN__", "not-a-jwt", "__PATH__", "api/v1/targets"))
		if res.Error != nil || string(res.Payload) != `{"isAuthorized":false}` {
			t.Fatalf("invalid token: answer %s, error %+v", res.Payload, res.Error)
		}
	})

	stdout, _ := f.stop()
	var granted, denied int
	for _, m := range jsonLines(stdout, "_aws") {
		if m["Authorizations"] == nil {
			continue
		}
		switch m["Outcome"] {
		case "granted":
			granted++
		case "denied":
			denied++
		}
	}
	// 2 own paths + 1 simple; 2 other paths + 6 invalid + 1 missing + 1 simple.
	if granted != 3 || denied != 10 {
		t.Errorf("EMF authorizations: %d granted, %d denied\n%s", granted, denied, stdout)
	}
	if audits := jsonLines(stdout, "outcome"); len(audits) != 13 {
		t.Errorf("%d audit records, want 13", len(audits))
	}
}

func TestEventsRole(t *testing.T) {
	w := newWorld(t)
	f := w.start(t, "events", "none")
	for fx, want := range map[string]string{
		// Handled, but not recorded: these routes are inline, read-only
		// (notebooks_test.go records into a routes file).
		"eventbridge-provision-product.json": `{"eventId":"6a7e8feb-b491-4cf7-a9f1-bf3703467718","outcome":"handled"}`,
		"eventbridge-ec2-state-change.json":  `{"eventId":"7bf73129-1428-4cd3-a780-95db273d1602","outcome":"ignored","reason":"not a Service Catalog API call"}`,
	} {
		res := f.invoke(fixture(t, fx))
		if res.Error != nil || string(res.Payload) != want {
			t.Errorf("%s: answer %s, error %+v, want %s", fx, res.Payload, res.Error, want)
		}
	}
	_, stderr := f.stop()
	for _, want := range []string{`the routes are read-only`, `"provisionedProduct":"pp-abcdefghijklm"`, `"sourceIdentity":"alice"`, `"msg":"event ignored"`} {
		if !strings.Contains(stderr, want) {
			t.Errorf("log lacks %s:\n%s", want, stderr)
		}
	}
	if strings.Contains(stderr, "ml.t3.medium") {
		t.Error("a provisioning parameter's value reached the log")
	}
}

// TestInitError: a function that cannot start says why through the
// Runtime API's init/error, then exits.
func TestInitError(t *testing.T) {
	w := newWorld(t)
	for name, c := range map[string]struct {
		role, kind, message string
		extra               []string
	}{
		"no config":    {"http", "Runtime.InitError", "no-such.yaml", []string{"SAGEGATE_CONFIG=" + w.task + "/no-such.yaml"}},
		"bad config":   {"authorizer", "Sagegate.InvalidConfig", "trustAuthorizerContext", nil},
		"unknown role": {"websocket", "Runtime.InitError", "SAGEGATE_LAMBDA_ROLE", nil},
	} {
		t.Run(name, func(t *testing.T) {
			trust := "none"
			if name == "bad config" {
				trust = "everyone"
			}
			f := w.start(t, c.role, trust, c.extra...)
			if err := f.p.Wait(); err == nil {
				t.Error("the process exited with status 0")
			}
			select {
			case <-f.rt.InitError():
			default:
				t.Fatalf("no init error reported; stderr:\n%s", f.p.Stderr.String())
			}
			e := f.rt.InitErr()
			if e.Type != c.kind || e.Header != c.kind || !strings.Contains(e.Message, c.message) {
				t.Errorf("init error = %+v", e)
			}
		})
	}
}
