package config

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const minimal = `
identity:
  providers:
    - name: corp
      type: cognito
      userPoolId: eu-west-1_AbCdEf123
      clientIds: [abc123]
aws:
  region: eu-west-1
routing:
  file:
    lobs:
      lob-a: {accountId: "111111111111", domainId: d-abc123, roleArn: sagegate-access}
    users:
      alice: {lobs: [lob-a]}
`

func env(m map[string]string) LookupEnv {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

func problems(t *testing.T, err error) []string {
	t.Helper()
	var p Problems
	if !errors.As(err, &p) {
		t.Fatalf("want Problems, got %v", err)
	}
	out := make([]string, len(p))
	for i, e := range p {
		out[i] = e.Error()
	}
	return out
}

func wantProblems(t *testing.T, got []string, want ...string) {
	t.Helper()
	for _, w := range want {
		found := false
		for _, g := range got {
			found = found || strings.Contains(g, w)
		}
		if !found {
			t.Errorf("no problem mentions %q; got:\n  %s", w, strings.Join(got, "\n  "))
		}
	}
}

func TestParseMinimalAppliesDefaults(t *testing.T) {
	c, err := Parse([]byte(minimal), env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if c.Server.Addr != DefaultAddr || c.Server.PublicURL != "http://"+DefaultAddr {
		t.Errorf("server = %+v", c.Server)
	}
	if c.AWS.CallTimeout.D() != 5*time.Second || c.Routing.URLLifetime.D() != 5*time.Second || c.Routing.SessionDuration.D() != 12*time.Hour {
		t.Errorf("defaults not applied: aws=%+v routing=%+v", c.AWS, c.Routing)
	}
	if d := c.RoutingDefaults(); d.Region != "eu-west-1" {
		t.Errorf("routing defaults = %+v", d)
	}
}

func TestUnknownKeysAreAllReportedWithPaths(t *testing.T) {
	doc := minimal + `
server:
  adr: ":8080"
aws:
  region: eu-west-1
  endpoint: {sts: x}
`
	doc = strings.Replace(doc, "aws:\n  region: eu-west-1\nrouting", "routing", 1)
	doc = strings.Replace(doc, "clientIds: [abc123]", "clientIds: [abc123]\n      clientSecret: nope", 1)
	_, err := Parse([]byte(doc), env(nil))
	wantProblems(t, problems(t, err), "server.adr: unknown key", "aws.endpoint: unknown key", "identity.providers[0].clientSecret: unknown key")
}

func TestUnknownKeyInsideLOB(t *testing.T) {
	doc := strings.Replace(minimal, "roleArn: sagegate-access}", "roleArn: sagegate-access, acount: x}", 1)
	_, err := Parse([]byte(doc), env(nil))
	wantProblems(t, problems(t, err), "routing.file.lobs.lob-a.acount: unknown key")
}

func TestEnvExpansion(t *testing.T) {
	doc := strings.Replace(minimal, "region: eu-west-1\nrouting", "region: ${REGION}\n  endpoints: {sts: \"${STS_URL}\"}\nrouting", 1)
	c, err := Parse([]byte(doc), env(map[string]string{"REGION": "eu-west-1", "STS_URL": "https://sts.example.com"}))
	if err != nil {
		t.Fatal(err)
	}
	if c.AWS.Region != "eu-west-1" || c.AWS.Endpoints.STS != "https://sts.example.com" {
		t.Errorf("aws = %+v", c.AWS)
	}

	// An environment value is data: it cannot add keys to the document.
	c, err = Parse([]byte(doc), env(map[string]string{"REGION": "eu-west-1", "STS_URL": "x\nserver: {addr: evil}"}))
	if err == nil {
		t.Fatalf("expected the bad endpoint to be refused, got %+v", c.AWS)
	}
	wantProblems(t, problems(t, err), "aws.endpoints.sts: want an absolute http(s) URL")

	_, err = Parse([]byte(doc), env(nil))
	wantProblems(t, problems(t, err), "aws.region: environment variable REGION is not set", "aws.endpoints.sts: environment variable STS_URL is not set")

	c, err = Parse([]byte(strings.Replace(minimal, "abc123]", "abc123, \"$${LITERAL}\"]", 1)), env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if got := c.Identity.Providers[0].ClientIDs[1]; got != "${LITERAL}" {
		t.Errorf("escaped ${ = %q", got)
	}
}

func TestValidateReportsEverythingAtOnce(t *testing.T) {
	doc := `
server: {addr: "nope", publicUrl: "ftp://x"}
identity:
  providers:
    - {name: corp, type: saml}
  leeway: 1h
login: {provider: other, cookieKeys: [short]}
aws: {maxAttempts: 50, endpoints: {sagemaker: "not a url"}}
routing:
  urlLifetime: 1s
  sessionDuration: 1m
  file:
    lobs:
      lob-a: {accountId: "12", domainId: "x", roleArn: r}
    users:
      alice: {lobs: [lob-z]}
log: {level: loud}
runtime: {gcPercent: 2, memoryLimit: plenty}
`
	_, err := Parse([]byte(doc), env(nil))
	wantProblems(t, problems(t, err),
		"server.addr", "server.publicUrl", "identity.providers[0].type", "identity.leeway",
		"login.provider", "login.clientId", "login.cookieKeys[0]", "aws.region", "aws.maxAttempts",
		"aws.endpoints.sagemaker", "routing.urlLifetime", "routing.sessionDuration",
		"routing.file.lobs.lob-a.accountId", "routing.file.lobs.lob-a.domainId", "routing.file.users.alice.lobs[0]", "log.level",
		"runtime.gcPercent: want 10 to 1000", "runtime.memoryLimit: want a positive size")
}

func TestTypeErrorNamesTheField(t *testing.T) {
	_, err := Parse([]byte(minimal+"\nserver: {shutdownTimeout: 5}\n"), env(nil))
	wantProblems(t, problems(t, err), "shutdownTimeout")
	_, err = Parse([]byte(minimal+"\naws: {region: eu-west-1, maxAttempts: many}\n"), env(nil))
	wantProblems(t, problems(t, err), "aws.maxAttempts")
}

func TestNotYAML(t *testing.T) {
	_, err := Parse([]byte("server: [unclosed"), env(nil))
	wantProblems(t, problems(t, err), "not valid YAML")
}

// The example shipped for real AWS must stay valid.
func TestExampleConfigIsValid(t *testing.T) {
	path := filepath.Join("..", "..", "examples", "sagegate.yaml")
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("example config missing: %v", err)
	}
	_, err := Load(path, env(map[string]string{"SAGEGATE_COOKIE_KEY": "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="}))
	if err != nil {
		t.Fatal(err)
	}
}

func TestUnquotedAccountIDReadsAsString(t *testing.T) {
	doc := strings.Replace(minimal, `accountId: "111111111111"`, `accountId: 111111111111`, 1)
	c, err := Parse([]byte(doc), env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if got := c.Routing.File.LOBs["lob-a"].AccountID; got != "111111111111" {
		t.Errorf("accountId = %q", got)
	}
}
