package lambda_test

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sagegate/sagegate/internal/identity/identitytest"
	"github.com/sagegate/sagegate/internal/lambda/lambdatest"
	"github.com/sagegate/sagegate/internal/sandbox/awssim"
)

const (
	gwAccount = "000000000000"
	gwKey     = "AKIATESTLAMBDA000001"
	gwSecret  = "test-lambda-secret"
	acctA     = "111111111111"
	domainA   = "d-aaaaaaaaaaa1"
)

// The binary is built once per test run, into a directory TestMain removes.
var (
	buildOnce sync.Once
	binPath   string
	binDir    string
)

func TestMain(m *testing.M) {
	code := m.Run()
	if binDir != "" {
		_ = os.RemoveAll(binDir)
	}
	os.Exit(code)
}

func binary(tb testing.TB) string {
	tb.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "sagegate-lambda-test-")
		if err != nil {
			tb.Fatal(err)
		}
		binDir = dir
		binPath = lambdatest.Build(tb, dir)
	})
	if binPath == "" {
		tb.Fatal("the sagegate binary could not be built (see the first failure)")
	}
	return binPath
}

// config is the function's configuration file; ${...} comes from the
// function's environment, as it would in Lambda.
const configFile = `
server:
  publicUrl: https://sagegate.example.com
identity:
  providers:
    - {name: corp, type: oidc, issuer: "${ISSUER}", jwksUrl: "${ISSUER}/.well-known/jwks.json", audiences: [sagegate]}
login:
  provider: corp
  clientId: sagegate
  authUrl: "${ISSUER}/authorize"
  tokenUrl: "${ISSUER}/token"
  cookieKeys: [AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=]
aws:
  region: us-east-1
  maxAttempts: 1
  endpoints: {sts: "${SIM}", sagemaker: "${SIM}"}
routing:
  file:
    lobs:
      lob-a: {accountId: "111111111111", domainId: d-aaaaaaaaaaa1, roleArn: access, externalId: ext-lob-a}
    users:
      alice: {lobs: [lob-a]}
      bob: {lobs: [lob-a]}
lambda:
  trustAuthorizerContext: "${SAGEGATE_TRUST}"
log:
  level: debug
`

// world is what a function talks to: the AWS simulator and a token issuer
// on 127.0.0.1, and the deployment package directory holding the config.
type world struct {
	sim    *awssim.Simulator
	simURL string
	iss    *identitytest.Issuer
	task   string // LAMBDA_TASK_ROOT
}

func newWorld(tb testing.TB) *world {
	tb.Helper()
	w := &world{}
	w.sim = awssim.New(awssim.Options{StudioBaseURL: "http://studio.invalid/studio"})
	srv := httptest.NewServer(w.sim.APIHandler())
	tb.Cleanup(srv.Close)
	w.simURL = srv.URL
	w.sim.AddCaller(awssim.Caller{AccessKeyID: gwKey, SecretAccessKey: gwSecret, AccountID: gwAccount})
	w.sim.AddAccount(awssim.Account{
		ID:      acctA,
		Roles:   []awssim.Role{{Name: "access", ExternalID: "ext-lob-a", TrustedAccounts: []string{gwAccount}}},
		Domains: []awssim.Domain{{ID: domainA, Name: "lob-a", UserProfiles: []string{"alice", "bob"}}},
	})
	w.iss = identitytest.NewIssuer(tb)
	w.task = tb.TempDir()
	if err := os.WriteFile(filepath.Join(w.task, "sagegate.yaml"), []byte(configFile), 0o600); err != nil {
		tb.Fatal(err)
	}
	return w
}

// token is a valid access token of the oidc provider for user.
func (w *world) token(user string) string {
	return w.iss.Sign(map[string]any{"sub": "sub-" + user, "preferred_username": user, "aud": "sagegate"})
}

// env is the whole environment of a function: Lambda's variables, the
// static keys of the gateway's identity in the simulator, and nothing from
// the host (no shared AWS config, no instance metadata).
func (w *world) env(rt *lambdatest.Runtime, role, trust string, extra ...string) []string {
	return append([]string{
		"AWS_LAMBDA_RUNTIME_API=" + rt.Addr(),
		"SAGEGATE_LAMBDA_ROLE=" + role,
		"LAMBDA_TASK_ROOT=" + w.task,
		"ISSUER=" + w.iss.URL(),
		"SIM=" + w.simURL,
		"SAGEGATE_TRUST=" + trust,
		"AWS_REGION=us-east-1",
		"AWS_ACCESS_KEY_ID=" + gwKey,
		"AWS_SECRET_ACCESS_KEY=" + gwSecret,
		"AWS_CONFIG_FILE=" + filepath.Join(w.task, "no-aws-config"),
		"AWS_SHARED_CREDENTIALS_FILE=" + filepath.Join(w.task, "no-aws-credentials"),
		"AWS_EC2_METADATA_DISABLED=true",
		"HOME=" + w.task,
	}, extra...)
}

// function is one running function process and its Runtime API.
type function struct {
	t  *testing.T
	rt *lambdatest.Runtime
	p  *lambdatest.Process
}

func (w *world) start(t *testing.T, role, trust string, extra ...string) *function {
	t.Helper()
	rt := lambdatest.NewRuntime(t)
	p := lambdatest.Start(t, binary(t), w.env(rt, role, trust, extra...))
	return &function{t: t, rt: rt, p: p}
}

// invoke sends payload and returns the answer. It fails the test when the
// process exits or nothing answers in time.
func (f *function) invoke(payload []byte) lambdatest.Result {
	f.t.Helper()
	ctx, cancel := context.WithTimeout(f.p.Exited, 20*time.Second)
	defer cancel()
	res, err := f.rt.Invoke(ctx, payload)
	if err != nil {
		f.t.Fatalf("invoke: %v\nstderr:\n%s", err, f.p.Stderr.String())
	}
	return res
}

// stop ends the process; its output is then complete.
func (f *function) stop() (stdout, stderr string) {
	f.p.Stop()
	return f.p.Stdout.String(), f.p.Stderr.String()
}

// fixture reads testdata/name with its placeholders replaced (pairs of
// placeholder, value).
func fixture(tb testing.TB, name string, repl ...string) []byte {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		tb.Fatal(err)
	}
	return []byte(strings.NewReplacer(repl...).Replace(string(b)))
}

// httpResponse is any of the three proxy answers: REST (payload 1.0) and
// ALB use multiValueHeaders, HTTP APIs (payload 2.0) headers and cookies.
type httpResponse struct {
	StatusCode        int                 `json:"statusCode"`
	Headers           map[string]string   `json:"headers"`
	MultiValueHeaders map[string][]string `json:"multiValueHeaders"`
	Cookies           []string            `json:"cookies"`
	Body              string              `json:"body"`
	IsBase64Encoded   bool                `json:"isBase64Encoded"`
}

func (r httpResponse) header(name string) string {
	if v, ok := r.Headers[name]; ok {
		return v
	}
	if vs := r.MultiValueHeaders[name]; len(vs) > 0 {
		return vs[0]
	}
	return ""
}

func decodeHTTP(t *testing.T, res lambdatest.Result) httpResponse {
	t.Helper()
	if res.Error != nil {
		t.Fatalf("function error: %v", res.Error)
	}
	var r httpResponse
	if err := json.Unmarshal(res.Payload, &r); err != nil {
		t.Fatalf("answer %s: %v", res.Payload, err)
	}
	return r
}

func decodeBody(t *testing.T, r httpResponse) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(r.Body), &m); err != nil {
		t.Fatalf("body %q: %v", r.Body, err)
	}
	return m
}

// jsonLines decodes the JSON lines of out that have key.
func jsonLines(out, key string) []map[string]any {
	var recs []map[string]any
	for _, line := range strings.Split(out, "\n") {
		var m map[string]any
		if json.Unmarshal([]byte(line), &m) == nil {
			if _, ok := m[key]; ok {
				recs = append(recs, m)
			}
		}
	}
	return recs
}
