package stacks

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/jsii-runtime-go"

	"github.com/sagegate/sagegate/deploy/internal/templatecheck"
)

func TestMain(m *testing.M) {
	code := m.Run()
	jsii.Close() // ends the node process behind CDK
	os.Exit(code)
}

const (
	gatewayAccount = "111111111111"
	lobAccount     = "222222222222"
	region         = "eu-west-1"
)

func newApp(t *testing.T) awscdk.App {
	return awscdk.NewApp(&awscdk.AppProps{Outdir: jsii.String(t.TempDir())})
}

func stackEnv(account string) awscdk.StackProps {
	return awscdk.StackProps{Env: &awscdk.Environment{Account: jsii.String(account), Region: jsii.String(region)}}
}

// synthesized is a stack's template, both for CDK assertions and as JSON
// for the security checks.
type synthesized struct {
	t    *testing.T
	tmpl assertions.Template
	json templatecheck.Template
}

func synth(t *testing.T, stack awscdk.Stack) *synthesized {
	t.Helper()
	tmpl := assertions.Template_FromStack(stack, nil)
	return &synthesized{t: t, tmpl: tmpl, json: *tmpl.ToJSON()}
}

// assert runs a CDK assertion, which panics (from node, through jsii) when
// it fails, and reports the failure as a test error.
func (s *synthesized) assert(what string, f func(assertions.Template)) {
	s.t.Helper()
	defer func() {
		if r := recover(); r != nil {
			s.t.Errorf("%s: %v", what, r)
		}
	}()
	f(s.tmpl)
}

func (s *synthesized) has(typ string, props map[string]any) {
	s.t.Helper()
	s.assert(typ, func(tmpl assertions.Template) { tmpl.HasResourceProperties(jsii.String(typ), props) })
}

func (s *synthesized) count(typ string, n int) {
	s.t.Helper()
	s.assert(fmt.Sprintf("%d %s", n, typ), func(tmpl assertions.Template) { tmpl.ResourceCountIs(jsii.String(typ), jsii.Number(float64(n))) })
}

func (s *synthesized) resources(typ string) map[string]map[string]any {
	return templatecheck.Resources(s.json, typ)
}

// secure fails the test with every problem the security checks find.
func (s *synthesized) secure() {
	s.t.Helper()
	for _, p := range templatecheck.Check(s.json) {
		s.t.Errorf("security: %s", p)
	}
}

// statement finds a statement by kind and Sid.
func (s *synthesized) statement(kind, sid string) templatecheck.Statement {
	s.t.Helper()
	for _, st := range templatecheck.Statements(s.json) {
		if st.Kind == kind && st.Sid == sid {
			return st
		}
	}
	s.t.Fatalf("no %s statement %q", kind, sid)
	return templatecheck.Statement{}
}

func (s *synthesized) hasStatement(kind, sid string) bool {
	for _, st := range templatecheck.Statements(s.json) {
		if st.Kind == kind && st.Sid == sid {
			return true
		}
	}
	return false
}

// buildErr builds a stack that should be refused and returns the error.
func buildErr(t *testing.T, build func(app awscdk.App) error, want string) {
	t.Helper()
	err := build(newApp(t))
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("error %v, want one containing %q", err, want)
	}
}

func objectLike(m map[string]any) assertions.Matcher { return assertions.Match_ObjectLike(&m) }

func arrayWith(vs ...any) assertions.Matcher { return assertions.Match_ArrayWith(&vs) }

// lambdaAsset writes a stand-in bootstrap zip: synth only hashes it.
func lambdaAsset(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "bootstrap.zip")
	if err := os.WriteFile(path, []byte("PK\x05\x06"+strings.Repeat("\x00", 18)), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// configDir holds a sagegate.yaml and a file that must not be shipped.
func configDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for name, body := range map[string]string{"sagegate.yaml": "aws: {region: eu-west-1}\n", "secret.txt": "not for Lambda\n"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func contains(vs []string, want string) bool {
	for _, v := range vs {
		if v == want {
			return true
		}
	}
	return false
}
