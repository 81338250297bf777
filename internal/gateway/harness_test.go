package gateway_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/sagegate/sagegate/internal/config"
	"github.com/sagegate/sagegate/internal/gateway"
	"github.com/sagegate/sagegate/internal/identity/identitytest"
	"github.com/sagegate/sagegate/internal/sandbox/awssim"
	"github.com/sagegate/sagegate/internal/testutil"
)

const (
	gwAccount = "000000000000"
	gwKey     = "AKIATESTGATEWAY00001"
	gwSecret  = "test-gateway-secret"
	acctA     = "111111111111"
	acctB     = "222222222222"
	domainA   = "d-aaaaaaaaaaa1"
	domainB   = "d-bbbbbbbbbbb2"
	appClient = "cognito-app-client"
)

// env is a gateway wired to a real AWS SDK talking HTTP to the simulator,
// with two token issuers: an oidc provider and a Cognito-shaped one.
type env struct {
	t       testing.TB
	sim     *awssim.Simulator
	oidc    *identitytest.Issuer
	cognito *identitytest.Issuer
	gw      *gateway.Gateway
	srv     *httptest.Server
	audit   testutil.SyncBuffer
}

func (e *env) auditLog() string { return e.audit.String() }

// users maps each test user to its LOBs; profiles are created for them.
var users = map[string][]string{
	"alice": {"lob-a"}, "amy": {"lob-a"}, "arthur": {"lob-a"},
	"bob": {"lob-b"}, "both": {"lob-a", "lob-b"},
}

// extra adds identity providers, users (YAML lines, indented to fit) and
// Studio profiles in lob-a to the standard environment.
type extra struct {
	providers, users string
	// sections are top-level YAML sections added to the configuration.
	sections  string
	profilesA []string
	// maxAttempts of AWS calls; default 1 so error tests see each failure.
	maxAttempts int
}

func newEnv(t testing.TB) *env { return newEnvWith(t, extra{}) }

func newEnvWith(t testing.TB, x extra) *env {
	t.Helper()
	e := &env{t: t}
	e.sim = awssim.New(awssim.Options{StudioBaseURL: "http://studio.invalid/studio"})
	simSrv := httptest.NewServer(e.sim.APIHandler())
	t.Cleanup(simSrv.Close)
	e.sim.AddCaller(awssim.Caller{AccessKeyID: gwKey, SecretAccessKey: gwSecret, AccountID: gwAccount, ARN: "arn:aws:iam::" + gwAccount + ":user/gw"})
	profiles := map[string][]string{}
	for u, lobs := range users {
		for _, l := range lobs {
			profiles[l] = append(profiles[l], u)
		}
	}
	// A Cognito user signs in with an email-like username.
	profiles["lob-a"] = append(profiles["lob-a"], "carol-example-com-5a1d2d3e")
	profiles["lob-a"] = append(profiles["lob-a"], x.profilesA...)
	for _, a := range []struct{ id, lob, domain string }{{acctA, "lob-a", domainA}, {acctB, "lob-b", domainB}} {
		e.sim.AddAccount(awssim.Account{
			ID:      a.id,
			Roles:   []awssim.Role{{Name: "access", ExternalID: "ext-" + a.lob, TrustedAccounts: []string{gwAccount}}},
			Domains: []awssim.Domain{{ID: a.domain, Name: a.lob, Region: "us-east-1", AuthMode: "IAM", Status: "InService", UserProfiles: profiles[a.lob]}},
		})
	}
	e.oidc = identitytest.NewIssuer(t)
	e.cognito = identitytest.NewIssuer(t)

	doc := fmt.Sprintf(`
identity:
  providers:
    - {name: corp, type: oidc, issuer: %q, jwksUrl: %q, audiences: [sagegate]}
    - {name: pool, type: cognito, userPoolId: us-east-1_Test1, issuer: %q, jwksUrl: %q, clientIds: [%s]}
%s
# Benchmarks launch far faster than any person; the limits are tested in
# package server.
limits: {launchesPerMinute: 60000000, launchBurst: 1000000}
aws:
  region: us-east-1
  maxAttempts: %d
  endpoints: {sts: %q, sagemaker: %q}
routing:
  file:
    lobs:
      lob-a: {accountId: %q, domainId: %s, roleArn: access, externalId: ext-lob-a}
      lob-b: {accountId: %q, domainId: %s, roleArn: access, externalId: ext-lob-b}
    users:
      alice: {lobs: [lob-a]}
      amy: {lobs: [lob-a]}
      arthur: {lobs: [lob-a]}
      bob: {lobs: [lob-b]}
      both: {lobs: [lob-a, lob-b]}
      carol@example.com: {lobs: [lob-a], profile: carol-example-com-5a1d2d3e}
%s
%s
`, e.oidc.URL(), e.oidc.JWKSURL(), e.cognito.URL(), e.cognito.JWKSURL(), appClient, x.providers, max(x.maxAttempts, 1),
		simSrv.URL, simSrv.URL, acctA, domainA, acctB, domainB, x.users, x.sections)
	cfg, err := config.Parse([]byte(doc), func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatal(err)
	}
	awsCfg := aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider(gwKey, gwSecret, "")}
	e.gw, err = gateway.Build(context.Background(), cfg, gateway.Deps{AWS: &awsCfg, AuditWriter: &e.audit})
	if err != nil {
		t.Fatal(err)
	}
	e.srv = httptest.NewServer(e.gw.Handler)
	t.Cleanup(e.srv.Close)
	return e
}

// token is a valid oidc access token for user.
func (e *env) token(user string) string {
	return e.oidc.Sign(map[string]any{"sub": "sub-" + user, "preferred_username": user, "aud": "sagegate"})
}

// noRedirect is a client that reports redirects instead of following them.
var noRedirect = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

func (e *env) do(method, path, token string, hdr ...string) *http.Response {
	e.t.Helper()
	return send(e.t, method, e.srv.URL+path, token, hdr...)
}

// send makes one request without following redirects, with token as its
// bearer token (none if empty) and hdr as header name, value pairs.
func send(t testing.TB, method, url, token string, hdr ...string) *http.Response {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := noRedirect.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}
