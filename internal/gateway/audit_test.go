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
