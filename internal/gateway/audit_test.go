package gateway_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/sagegate/sagegate/internal/config"
	"github.com/sagegate/sagegate/internal/gateway"
)

// auditConfig is a configuration whose audit output is output.
func auditConfig(t *testing.T, output string) *config.Config {
	t.Helper()
	cfg, err := config.Parse([]byte(fmt.Sprintf(`
identity:
  providers:
    - {name: corp, type: oidc, issuer: "https://idp.invalid", jwksUrl: "https://idp.invalid/jwks", audiences: [sagegate]}
aws: {region: us-east-1}
audit: {output: %q}
routing:
  file:
    lobs:
      lob-a: {accountId: "111122223333", domainId: d-aaaaaaaaaaaa, roleArn: access}
`, output)), func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

func staticAWS() *aws.Config {
	return &aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("AKID", "SECRET", "")}
}

// An audit file is the gateway's to close, and a failed close is reported:
// it can mean audit records that never reached the file.
func TestAuditFileIsClosed(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.log")
	for _, build := range []struct {
		name string
		fn   func() (interface{ Close() error }, error)
	}{
		{"gateway", func() (interface{ Close() error }, error) {
			return gateway.Build(context.Background(), auditConfig(t, path), gateway.Deps{AWS: staticAWS()})
		}},
		{"notebooks", func() (interface{ Close() error }, error) {
			return gateway.BuildNotebooks(context.Background(), auditConfig(t, path), gateway.Deps{AWS: staticAWS()})
		}},
	} {
		t.Run(build.name, func(t *testing.T) {
			c, err := build.fn()
			if err != nil {
				t.Fatal(err)
			}
			if _, err := os.Stat(path); err != nil {
				t.Fatalf("audit file not opened: %v", err)
			}
			if err := c.Close(); err != nil {
				t.Fatalf("Close: %v", err)
			}
			if err := c.Close(); err == nil {
				t.Error("second Close: no error, want the file's already-closed error")
			}
		})
	}
}

func TestAuditOutputUnwritable(t *testing.T) {
	path := filepath.Join(t.TempDir(), "missing-dir", "audit.log")
	_, err := gateway.Build(context.Background(), auditConfig(t, path), gateway.Deps{AWS: staticAWS()})
	if err == nil || !strings.Contains(err.Error(), "audit.output") {
		t.Errorf("Build = %v, want an audit.output error", err)
	}
}

// A Build that fails after opening the audit file closes it again.
func TestFailedBuildClosesTheAuditFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.log")
	cfg := auditConfig(t, path)
	// Browser sign-in over plain http to a non-loopback host is refused
	// by the session manager, after the audit file was opened.
	cfg.Server.PublicURL = "http://gateway.example.com"
	cfg.Login = &config.Login{Provider: "corp", ClientID: "web", CookieKeys: []string{"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="}}
	if _, err := gateway.Build(context.Background(), cfg, gateway.Deps{AWS: staticAWS()}); err == nil {
		t.Fatal("Build succeeded; the test needs a failure after the audit file opened")
	}
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("the audit file was never opened, so this test proves nothing: %v", err)
	}
	fds, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skip("no /proc/self/fd on this system")
	}
	for _, fd := range fds {
		if target, _ := os.Readlink(filepath.Join("/proc/self/fd", fd.Name())); target == path {
			t.Fatalf("the audit file is still open (fd %s)", fd.Name())
		}
	}
}
