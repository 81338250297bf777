package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sagegate/sagegate/internal/routing/dynamodb"
)

const dynamoDoc = `
identity:
  providers:
    - {name: corp, type: cognito, userPoolId: eu-west-1_AbCdEf123, clientIds: [abc123]}
aws:
  region: eu-west-1
routing:
  type: dynamodb
  defaultRole: sagegate-access
`

func TestDynamoDBRouting(t *testing.T) {
	c, err := Parse([]byte(dynamoDoc+"  cache: {ttl: 1m, staleMaxAge: 1h}\n"), env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if c.Routing.Type != "dynamodb" || c.RoutingDefaults().RoleName != "sagegate-access" {
		t.Errorf("routing = %+v", c.Routing)
	}
	if o := c.Routing.Cache.Options(); o.TTL != time.Minute || o.StaleMaxAge != time.Hour || o.NegativeTTL != 5*time.Second {
		t.Errorf("cache options = %+v", o)
	}
	// The section may be left out: the sample's table names are defaults.
	var d dynamodb.Config
	if c.Routing.DynamoDB != nil {
		d = *c.Routing.DynamoDB
	}
	if d = d.WithDefaults(); d.UsersTable != "users-map-table" || d.LOBsTable != "lobs-map-table" {
		t.Errorf("tables = %+v", d)
	}

	_, err = Parse([]byte(dynamoDoc+"  dynamodb: {usersTable: u, endpoint: \"localhost\"}\n  cache: {ttl: 1h, staleMaxAge: 1m}\n"), env(nil))
	wantProblems(t, problems(t, err),
		"routing.dynamodb.usersTable: must be 3 to 255",
		"routing.dynamodb.endpoint: want an absolute http(s) URL",
		"routing.cache.staleMaxAge: must be at least ttl")
	_, err = Parse([]byte(strings.Replace(dynamoDoc, "type: dynamodb", "type: postgres", 1)), env(nil))
	wantProblems(t, problems(t, err), `routing.type: unknown backend "postgres" (known: file, dynamodb)`)
}

// TestLoadForRoutesAdmin: the admin CLI opens a routes file holding a bad
// record; the gateway's Load refuses it.
func TestLoadForRoutesAdmin(t *testing.T) {
	dir := t.TempDir()
	routes := filepath.Join(dir, "routes.yaml")
	if err := os.WriteFile(routes, []byte("lobs:\n  lob-a: {accountId: \"1\"}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	doc := strings.Replace(dynamoDoc, "type: dynamodb", "file: {path: "+routes+"}", 1)
	path := filepath.Join(dir, "sagegate.yaml")
	if err := os.WriteFile(path, []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := Load(path, env(nil))
	wantProblems(t, problems(t, err), "lobs.lob-a.accountId: must be 12 digits")
	if _, err := LoadForRoutesAdmin(path, env(nil)); err != nil {
		t.Errorf("LoadForRoutesAdmin: %v", err)
	}
	// A file that cannot be read fails both.
	if err := os.WriteFile(routes, []byte("lobs: [\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadForRoutesAdmin(path, env(nil)); err == nil {
		t.Error("LoadForRoutesAdmin accepted a malformed routes file")
	}
}
