package spec

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const example = "../examples/two-accounts.json"

func load(t *testing.T) *Deployment {
	t.Helper()
	d, err := Load(example)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestExampleIsValid(t *testing.T) {
	d := load(t)
	d.ApplyDefaults()
	if err := d.Validate(); err != nil {
		t.Fatal(err)
	}
	if d.Gateway.UsersTable != "users-map-table" || d.Gateway.LobsTable != "lobs-map-table" {
		t.Errorf("tables %q, %q: not those of the multi-account sample", d.Gateway.UsersTable, d.Gateway.LobsTable)
	}
	if d.Gateway.RoleName != "sagegate-gateway" || d.AccessRoleName != "sagegate-access" {
		t.Errorf("role names %q, %q", d.Gateway.RoleName, d.AccessRoleName)
	}
	a, _ := d.Account("lob-b")
	if got := a.Studio.AvailabilityZones; len(got) != 2 || got[0] != "eu-west-1a" || got[1] != "eu-west-1b" {
		t.Errorf("default zones %v", got)
	}
	if a.Studio.Domains[0].IdleTimeoutMinutes != DefaultIdleMinutes || a.Studio.Domains[1].IdleTimeoutMinutes != 60 {
		t.Errorf("idle timeouts %d, %d", a.Studio.Domains[0].IdleTimeoutMinutes, a.Studio.Domains[1].IdleTimeoutMinutes)
	}
	// Relative paths are the file's.
	if got := d.Path(d.Gateway.ConfigDir); got != filepath.Join("..", "examples", "two-accounts", "gateway") {
		t.Errorf("config dir %q", got)
	}
}

func TestDefaultsAreIdempotent(t *testing.T) {
	d := load(t)
	d.ApplyDefaults()
	once := *d.Gateway.API.AuthorizerCacheSeconds
	d.Gateway.API.AuthorizerCacheSeconds = new(int) // 0 is a choice: no caching
	d.ApplyDefaults()
	if *d.Gateway.API.AuthorizerCacheSeconds != 0 || once != DefaultAuthorizerCache {
		t.Errorf("authorizer cache %d then %d", once, *d.Gateway.API.AuthorizerCacheSeconds)
	}
}

func TestUnknownKeysAreRefused(t *testing.T) {
	_, err := Parse([]byte(`{"gateway": {"acount": "111111111111"}}`), ".")
	if err == nil || !strings.Contains(err.Error(), `unknown field "acount"`) {
		t.Errorf("error %v", err)
	}
	if _, err := Parse([]byte(`{} {}`), "."); err == nil {
		t.Error("trailing data accepted")
	}
}

// Every problem is reported at once, each with its field.
func TestValidateReportsEveryProblem(t *testing.T) {
	d := load(t)
	d.Name = "Sagegate"
	d.Gateway.Account = "1111"
	d.Gateway.Architecture = "x86"
	d.Gateway.ConfigFile = "missing.yaml"
	d.Gateway.Environment["SAGEGATE_LAMBDA_ROLE"] = "http"
	d.Gateway.Environment["SAGEGATE_ACCOUNT_LOB_A"] = "1"
	d.Gateway.API.Endpoint = "private"
	d.Gateway.API.Authorizer = "iam"
	d.Gateway.Identity.DomainPrefix = "my-cognito-login"
	d.Gateway.Identity.PublicURL = "http://studio.example.com"
	d.Gateway.LogRetentionDays = 42
	a := &d.Accounts[0]
	a.ExternalID = "x"
	a.DomainIDs = []string{"domain-1"}
	a.ResourceTag = &Tag{Key: "aws:lob", Value: "a"}
	a.Studio.AvailabilityZones = []string{"us-east-1a", "eu-west-1b"}
	a.Studio.Domains[0].Users = []string{"alice", "alice", "bob@example.com"}
	a.Studio.Domains[0].IdleTimeoutMinutes = 5
	a.Notebooks = false
	b := &d.Accounts[1]
	b.Name = "lob-a"
	b.ID = d.Accounts[0].ID
	b.Studio.CIDR = "10.0.0.0/8"

	d.ApplyDefaults()
	err := d.Validate()
	var probs Problems
	if !errors.As(err, &probs) {
		t.Fatalf("error %v is not Problems", err)
	}
	for _, want := range []string{
		`name: "Sagegate" is not a name`,
		`gateway.account: "1111" is not a 12-digit account id`,
		`gateway.architecture: "x86" is not arm64 or amd64`,
		`gateway.configDir: stat`,
		`gateway.environment: SAGEGATE_LAMBDA_ROLE is set by the stack`,
		`gateway.environment: SAGEGATE_ACCOUNT_LOB_A is set by the stack`,
		`gateway.api.vpcEndpointIds: a private API needs`,
		`gateway.api.authorizer: "iam" is not none, lambda or cognito`,
		`gateway.api.domainName: only for a regional API`,
		`gateway.identity.domainPrefix: Cognito refuses prefixes containing "cognito"`,
		`gateway.identity.publicUrl: "http://studio.example.com" is not an https URL`,
		`gateway.logRetentionDays: 42 is not one of`,
		`accounts[0].externalId: "x" is not an external id`,
		`accounts[0].domainIds[0]: "domain-1" is not a Studio domain id`,
		`accounts[0].resourceTag: needs a key (not aws:)`,
		`accounts[0].resourceTag: scopes the access role instead of domainIds`,
		`accounts[0].createUserProfiles: needs domain scoping`,
		`accounts[0].studio.availabilityZones[0]: "us-east-1a" is not a zone of eu-west-1`,
		`accounts[0].studio.domains[0].users: "alice" is listed twice`,
		`accounts[0].studio.domains[0].users[2]: "bob@example.com" is not a SageMaker user profile name`,
		`accounts[0].studio.domains[0].idleTimeoutMinutes: 5 is not within 60..525600`,
		`accounts[0].vending: needs notebooks: true`,
		`accounts[1].name: "lob-a" is also the name of accounts[0]`,
		`accounts[1].id: account 111111111111 is also accounts[0]`,
		`accounts[1].studio.cidr: /8`,
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("no problem reads %q", want)
		}
	}
	if len(probs) != 25 {
		t.Errorf("%d problems, want 25:\n%v", len(probs), err)
	}
}

func TestValidateCrossFieldRules(t *testing.T) {
	tests := []struct {
		name string
		mod  func(d *Deployment)
		want string
	}{
		{"cognito authorizer with oidc", func(d *Deployment) {
			d.Gateway.Identity = Identity{Type: IdentityOIDC, Issuer: "https://idp.example.com"}
			d.Gateway.API.Authorizer = AuthorizerCognito
		}, "gateway.api.authorizer: cognito needs identity.type cognito"},
		{"a certificate of another region", func(d *Deployment) {
			d.Gateway.API.CertificateARN = "arn:aws:acm:us-east-1:111111111111:certificate/0a1b2c3d-0000-0000-0000-000000000000"
		}, "gateway.api.certificateArn: must be in the gateway's region eu-west-1"},
		{"regional with endpoints", func(d *Deployment) {
			d.Gateway.API.VPCEndpointIDs = []string{"vpce-0a1b2c3d4e5f60718"}
		}, "only a private API takes VPC endpoints"},
		{"vending without studio", func(d *Deployment) { d.Accounts[0].Studio = nil }, "accounts[0].vending: needs studio"},
		{"vending in another region of the gateway's account", func(d *Deployment) {
			d.Accounts[0].Region = "eu-central-1"
			d.Accounts[0].Studio.AvailabilityZones = nil
		}, "vending must be in the gateway's region"},
		{"no scope", func(d *Deployment) { d.Accounts[1].ResourceTag, d.Accounts[1].Studio = nil, nil }, "accounts[1]: the access role needs a scope"},
		{"tag scope with profile creation", func(d *Deployment) { d.Accounts[1].CreateUserProfiles = true },
			"accounts[1].createUserProfiles: needs domain scoping"},
		{"the reserved name", func(d *Deployment) { d.Accounts[1].Name = "gateway" }, `"gateway" is reserved`},
		{"a network without groups", func(d *Deployment) {
			d.Gateway.Network = &Network{SubnetIDs: []string{"subnet-0a1b2c3d"}}
		}, "gateway.network: needs subnetIds and securityGroupIds"},
		{"no accounts", func(d *Deployment) { d.Accounts = nil }, "at least one LOB account"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := load(t)
			tt.mod(d)
			d.ApplyDefaults()
			err := d.Validate()
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %v, want %q", err, tt.want)
			}
		})
	}
}

func TestAccountEnv(t *testing.T) {
	if got := AccountEnv("lob-b-2"); got != "SAGEGATE_ACCOUNT_LOB_B_2" {
		t.Errorf("AccountEnv = %q", got)
	}
}

func TestLoadMissingFile(t *testing.T) {
	_, err := Load(filepath.Join(t.TempDir(), "none.json"))
	if !errors.Is(err, os.ErrNotExist) {
		t.Errorf("error %v", err)
	}
}
