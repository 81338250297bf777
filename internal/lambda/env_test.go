package lambda_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/sagegate/sagegate/internal/config"
	"github.com/sagegate/sagegate/internal/lambda"
)

type envOf map[string]string

func (m envOf) lookup(k string) (string, bool) { v, ok := m[k]; return v, ok }

func TestRoleFrom(t *testing.T) {
	for v, want := range map[string]lambda.Role{"http": lambda.RoleHTTP, "authorizer": lambda.RoleAuthorizer, "events": lambda.RoleEvents} {
		if r, err := lambda.RoleFrom(envOf{"SAGEGATE_LAMBDA_ROLE": v}.lookup); err != nil || r != want {
			t.Errorf("%q: %q, %v", v, r, err)
		}
	}
	for _, v := range []string{"", "HTTP", "proxy"} {
		if r, err := lambda.RoleFrom(envOf{"SAGEGATE_LAMBDA_ROLE": v}.lookup); err == nil {
			t.Errorf("%q accepted as %q", v, r)
		}
	}
}

func TestConfigPath(t *testing.T) {
	for want, env := range map[string]map[string]string{
		"/var/task/sagegate.yaml": {},
		"/opt/task/sagegate.yaml": {"LAMBDA_TASK_ROOT": "/opt/task"},
		"/etc/sg.yaml":            {"LAMBDA_TASK_ROOT": "/opt/task", "SAGEGATE_CONFIG": "/etc/sg.yaml"},
	} {
		if got := lambda.ConfigPath(envOf(env).lookup); got != want {
			t.Errorf("ConfigPath(%v) = %q, want %q", env, got, want)
		}
	}
}

// The lambda section is checked with the rest of the file, every problem
// reported at once.
func TestLambdaConfig(t *testing.T) {
	const base = `
identity:
  providers: [{name: corp, type: oidc, issuer: "https://idp.example.com", audiences: [sagegate]}]
aws: {region: us-east-1}
routing: {file: {lobs: {}, users: {}}}
`
	cfg, err := config.Parse([]byte(base), envOf(nil).lookup)
	if err != nil {
		t.Fatal(err)
	}
	if l := cfg.Lambda; l.TrustAuthorizerContext != "none" || l.HTTPAPIAuthorizerResponse != "simple" || l.MetricsNamespace != "sagegate" || l.BasePath != "" {
		t.Errorf("defaults = %+v", l)
	}
	_, err = config.Parse([]byte(base+`
lambda:
  trustAuthorizerContext: everyone
  basePath: sagegate/
  httpApiAuthorizerResponse: iam
  metricsNamespace: "AWS/Lambda"
`), envOf(nil).lookup)
	var probs config.Problems
	if !errors.As(err, &probs) {
		t.Fatalf("err = %v", err)
	}
	for _, key := range []string{"lambda.trustAuthorizerContext", "lambda.basePath", "lambda.httpApiAuthorizerResponse", "lambda.metricsNamespace"} {
		if !strings.Contains(err.Error(), key+":") {
			t.Errorf("no problem reported for %s:\n%v", key, err)
		}
	}
}
