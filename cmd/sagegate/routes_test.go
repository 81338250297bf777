package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/sagegate/sagegate/internal/routing/dynamodb/dynamodbtest"
	"github.com/sagegate/sagegate/internal/sandbox/awssim"
)

const (
	cliKey    = "AKIAROUTESCLI0000001"
	cliSecret = "routes-cli-secret"
	cliAcctA  = "111111111111"
	cliAcctB  = "222222222222"
	cliDomA   = "d-cliaaaaaaaa1"
	cliDomB   = "d-clibbbbbbbb2"
)

// routesFixture is a configuration for `sagegate routes` on one backend,
// with the simulator standing in for AWS.
type routesFixture struct {
	config     string
	sim        *awssim.Simulator
	db         *dynamodbtest.DB // dynamodb backend only
	tables     [2]string
	routesFile string // file backend only
}

func newRoutesFixture(t *testing.T, backend string) *routesFixture {
	t.Helper()
	sim, srv := cliSim(t)
	f := &routesFixture{sim: sim}
	f.sim.AddAccount(awssim.Account{ID: cliAcctA, Roles: []awssim.Role{{Name: "sagegate-access"}},
		Domains: []awssim.Domain{{ID: cliDomA, Name: "a", UserProfiles: []string{"alice"}}}})
	f.sim.AddAccount(awssim.Account{ID: cliAcctB, Roles: []awssim.Role{{Name: "sagegate-access"}},
		Domains: []awssim.Domain{{ID: cliDomB, Name: "b"}, {ID: "d-clisso000003", Name: "old", Status: "Deleting"}}})

	dir := t.TempDir()
	var routing string
	switch backend {
	case "file":
		f.routesFile = filepath.Join(dir, "routes.yaml")
		if err := os.WriteFile(f.routesFile, []byte("{}\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		routing = fmt.Sprintf("type: file\n  file: {path: %q}", f.routesFile)
	case "dynamodb":
		f.db = dynamodbtest.Start(t)
		c := f.db.Tables(t)
		f.tables = [2]string{c.UsersTable, c.LOBsTable}
		routing = fmt.Sprintf("type: dynamodb\n  dynamodb: {usersTable: %s, lobsTable: %s, endpoint: %q}", c.UsersTable, c.LOBsTable, c.Endpoint)
	}
	doc := fmt.Sprintf(`identity:
  providers:
    - {name: corp, type: oidc, issuer: "https://idp.example.com", audiences: [sagegate]}
aws:
  region: us-east-1
  maxAttempts: 2
  endpoints: {sts: %q, sagemaker: %q}
routing:
  defaultRole: sagegate-access
  %s
`, srv.URL, srv.URL, routing)
	f.config = filepath.Join(dir, "sagegate.yaml")
	if err := os.WriteFile(f.config, []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
	return f
}

// routes runs `sagegate routes --config ... args...`.
func (f *routesFixture) routes(t *testing.T, args ...string) (string, string, error) {
	t.Helper()
	return run(t, append([]string{"routes", "--config", f.config}, args...)...)
}

// must runs a routes command that must succeed and returns its output.
func (f *routesFixture) must(t *testing.T, args ...string) string {
	t.Helper()
	out, errOut, err := f.routes(t, args...)
	if err != nil {
		t.Fatalf("routes %s: %v\nstdout: %s\nstderr: %s", strings.Join(args, " "), err, out, errOut)
	}
	return out
}

func wantExit(t *testing.T, err error, code int) {
	t.Helper()
	var ec exitCode
	if !errors.As(err, &ec) || int(ec) != code {
		t.Fatalf("err = %v, want exit status %d", err, code)
	}
}

func TestRoutesCLI(t *testing.T) {
	for _, backend := range []string{"file", "dynamodb"} {
		t.Run(backend, func(t *testing.T) {
			f := newRoutesFixture(t, backend)

			f.must(t, "put-lob", "lob-a", "--account", cliAcctA, "--domain", cliDomA, "--label", "Team A")
			if out := f.must(t, "put-lob", "lob-b", "--account", cliAcctB); !strings.Contains(out, "created LOB lob-b") {
				t.Errorf("put-lob: %q", out)
			}
			f.must(t, "put-user", "alice", "--lobs", "lob-a")
			f.must(t, "put-user", "bob", "--lobs", "lob-b")
			f.must(t, "put-group", "data-science", "--lobs", "lob-b,lob-a")
			if _, _, err := f.routes(t, "put-user", "ghost", "--lobs", "lob-nope"); err == nil || !strings.Contains(err.Error(), "no such LOB: [lob-nope]") {
				t.Errorf("put-user with a missing LOB: %v", err)
			}
			// Only the flags given change.
			if out := f.must(t, "put-user", "alice", "--profile", "alice"); !strings.Contains(out, "updated user alice") {
				t.Errorf("put-user update: %q", out)
			}

			list := f.must(t, "list")
			for _, want := range []string{"lob-a", cliAcctA, cliDomA, "Team A", "lob-b", "(discover)", "arn:aws:iam::222222222222:role/sagegate-access",
				"alice", "data-science", "lob-b,lob-a"} {
				if !strings.Contains(list, want) {
					t.Errorf("list does not show %q:\n%s", want, list)
				}
			}
			get := f.must(t, "get", "alice", "--groups", "data-science")
			if !strings.Contains(get, "profile:   alice") || !strings.Contains(get, "lob-b") || !strings.Contains(get, cliDomA) {
				t.Errorf("get alice:\n%s", get)
			}

			// check: bob has no profile in lob-b's (discovered) domain.
			out, _, err := f.routes(t, "check")
			wantExit(t, err, 1)
			for _, want := range []string{"ok       lob-a", "domain " + cliDomA, "PROBLEM  lob-b", cliDomB + " (discovered)", "1 user(s) without a user profile: bob (bob)", "2 LOB(s) checked, 1 problem(s)"} {
				if !strings.Contains(out, want) {
					t.Errorf("check output lacks %q:\n%s", want, out)
				}
			}
			if log := f.sim.CallLog(); log[0].Operation != "AssumeRole" || log[0].SourceIdentity != "sagegate-routes-check" {
				t.Errorf("check acted as %+v", log[0])
			}
			// With profiles made on first launch, a missing one is fine.
			f.must(t, "put-lob", "lob-b", "--jit-profiles")
			if out := f.must(t, "check"); !strings.Contains(out, "(created on first launch)") || !strings.Contains(out, "0 problem(s)") {
				t.Errorf("check with JIT:\n%s", out)
			}

			// Export, then import into the same routes: nothing to do.
			for _, format := range []string{"yaml", "csv"} {
				path := filepath.Join(t.TempDir(), "routes."+format)
				f.must(t, "export", "--format", format, "-o", path)
				if out := f.must(t, "import", path); !strings.Contains(out, "0 change(s) made") {
					t.Errorf("re-import of the %s export changed something:\n%s", format, out)
				}
			}

			// Deleting: a LOB still named by a group is refused by the file
			// backend (the gateway would not start); take the group first.
			f.must(t, "delete-group", "data-science")
			f.must(t, "delete-user", "bob")
			f.must(t, "delete-lob", "lob-b")
			if _, _, err := f.routes(t, "delete-user", "bob"); err == nil || !strings.Contains(err.Error(), "not found") {
				t.Errorf("deleting bob twice: %v", err)
			}
		})
	}
}

// TestRoutesImport: a CSV in, a dry run that shows the diff and changes
// nothing, then the import, then the same import again changing nothing.
func TestRoutesImport(t *testing.T) {
	for _, backend := range []string{"file", "dynamodb"} {
		t.Run(backend, func(t *testing.T) {
			f := newRoutesFixture(t, backend)
			f.must(t, "put-lob", "lob-a", "--account", cliAcctA, "--domain", cliDomA)
			f.must(t, "put-user", "alice", "--lobs", "lob-a")
			csv := filepath.Join(t.TempDir(), "routes.csv")
			doc := "kind,name,lobs,accountId,domainId,label,jitProfiles\n" +
				"lob,lob-a,,111111111111," + cliDomA + ",Renamed,\n" +
				"lob,lob-b,,222222222222,,,true\n" +
				"user,alice,lob-a;lob-b,,,,\n" +
				"user,carol,lob-b,,,,\n" +
				"group,ds,lob-b,,,,\n"
			if err := os.WriteFile(csv, []byte(doc), 0o600); err != nil {
				t.Fatal(err)
			}
			dry := f.must(t, "import", "--dry-run", csv)
			want := []string{
				`~ lob lob-a: label (none) -> "Renamed"`,
				"+ lob lob-b",
				"+ group ds",
				`~ user alice: lobs ["lob-a"] -> ["lob-a","lob-b"]`,
				"+ user carol",
				"5 change(s) (dry run: none made)",
			}
			if got := strings.Split(strings.TrimSpace(dry), "\n"); strings.Join(got, "\n") != strings.Join(want, "\n") {
				t.Errorf("dry run:\n%s\nwant:\n%s", dry, strings.Join(want, "\n"))
			}
			if out := f.must(t, "list", "--kind", "lobs"); strings.Contains(out, "lob-b") {
				t.Errorf("the dry run made changes:\n%s", out)
			}
			if out := f.must(t, "import", csv); !strings.Contains(out, "5 change(s) made") {
				t.Errorf("import:\n%s", out)
			}
			if out := f.must(t, "import", csv); strings.TrimSpace(out) != "0 change(s) made" {
				t.Errorf("second import:\n%s", out)
			}
			if out := f.must(t, "get", "carol"); !strings.Contains(out, "lob-b") {
				t.Errorf("get carol:\n%s", out)
			}
			// --prune deletes what the file lacks.
			yml := filepath.Join(t.TempDir(), "less.yaml")
			if err := os.WriteFile(yml, []byte("lobs:\n  lob-a: {accountId: \"111111111111\", domainId: "+cliDomA+", label: Renamed}\nusers:\n  alice: {lobs: [lob-a]}\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			out := f.must(t, "import", "--prune", yml)
			for _, w := range []string{"- user carol", "- group ds", "- lob lob-b", "~ user alice"} {
				if !strings.Contains(out, w) {
					t.Errorf("prune output lacks %q:\n%s", w, out)
				}
			}
		})
	}
}

// TestRoutesListReportsBadRecords: one bad record is named on stderr, the
// rest is listed, and the exit status says something is wrong.
func TestRoutesListReportsBadRecords(t *testing.T) {
	for _, backend := range []string{"file", "dynamodb"} {
		t.Run(backend, func(t *testing.T) {
			f := newRoutesFixture(t, backend)
			f.must(t, "put-lob", "lob-a", "--account", cliAcctA, "--domain", cliDomA)
			if backend == "file" {
				doc := "lobs:\n  lob-a: {accountId: \"111111111111\", domainId: " + cliDomA + "}\n  lob-bad: {domainId: NOT-A-DOMAIN}\n"
				if err := os.WriteFile(f.routesFile, []byte(doc), 0o600); err != nil {
					t.Fatal(err)
				}
			} else {
				f.db.PutItem(t, f.tables[1], map[string]types.AttributeValue{
					"PK": &types.AttributeValueMemberS{Value: "lob-bad"}, "DOMAIN_ID": &types.AttributeValueMemberS{Value: "NOT-A-DOMAIN"}})
			}
			out, errOut, err := f.routes(t, "list", "--kind", "lobs")
			wantExit(t, err, 1)
			if !strings.Contains(out, "lob-a") || strings.Contains(out, "lob-bad") {
				t.Errorf("stdout:\n%s", out)
			}
			if !strings.Contains(errOut, `invalid lob "lob-bad"`) || !strings.Contains(errOut, "accountId: required") || !strings.Contains(errOut, "domainId: must be") {
				t.Errorf("stderr:\n%s", errOut)
			}
			// And it can be repaired from the CLI.
			f.must(t, "put-lob", "lob-bad", "--account", cliAcctB, "--domain", cliDomB)
			f.must(t, "list")
		})
	}
}

func TestRoutesInlineIsReadOnly(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "sagegate.yaml")
	doc := `identity:
  providers:
    - {name: corp, type: oidc, issuer: "https://idp.example.com", audiences: [sagegate]}
aws: {region: us-east-1}
routing:
  file:
    lobs:
      lob-a: {accountId: "111111111111", roleArn: r}
`
	if err := os.WriteFile(cfg, []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
	_, _, err := run(t, "routes", "--config", cfg, "put-user", "alice", "--lobs", "lob-a")
	if err == nil || !strings.Contains(err.Error(), "read-only") || !strings.Contains(err.Error(), "routing.file.path") {
		t.Errorf("put-user on inline routes: %v", err)
	}
	out, _, err := run(t, "routes", "--config", cfg, "list", "--kind", "lobs")
	if err != nil || !strings.Contains(out, "lob-a") {
		t.Errorf("list of inline routes: %v\n%s", err, out)
	}
}
