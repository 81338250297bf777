package main

import (
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sagegate/sagegate/internal/sandbox/awssim"
)

const notebooksRoutes = `
lobs:
  lob-a:
    accountId: "111111111111"
    domainId: d-cliaaaaaaaa1
    notebookTemplates:
      - {name: small, instanceTypes: [ml.t3.medium, ml.t3.large], subnetId: subnet-0123456789abcdef0, roleArn: nb-exec, maxPerUser: 2}
users:
  alice: {lobs: [lob-a]}
`

// cliSim serves the simulator with the CLI's keys as its caller, and
// points the AWS SDK's environment at those keys and nothing else.
func cliSim(t *testing.T) (*awssim.Simulator, *httptest.Server) {
	t.Helper()
	sim := awssim.New(awssim.Options{})
	srv := httptest.NewServer(sim.APIHandler())
	t.Cleanup(srv.Close)
	sim.AddCaller(awssim.Caller{AccessKeyID: cliKey, SecretAccessKey: cliSecret, AccountID: "000000000000"})
	t.Setenv("AWS_ACCESS_KEY_ID", cliKey)
	t.Setenv("AWS_SECRET_ACCESS_KEY", cliSecret)
	t.Setenv("AWS_SESSION_TOKEN", "")
	t.Setenv("AWS_PROFILE", "")
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(t.TempDir(), "none"))
	return sim, srv
}

// notebooksFixture is a configuration for `sagegate notebooks` over a
// routes file, with the simulator standing in for AWS.
func notebooksFixture(t *testing.T) (*awssim.Simulator, string, string) {
	t.Helper()
	sim, srv := cliSim(t)
	sim.AddAccount(awssim.Account{ID: cliAcctA, Roles: []awssim.Role{{Name: "sagegate-access"}}})
	dir := t.TempDir()
	routes := filepath.Join(dir, "routes.yaml")
	config := filepath.Join(dir, "sagegate.yaml")
	doc := fmt.Sprintf(`identity:
  providers:
    - {name: corp, type: oidc, issuer: "https://idp.example.com", audiences: [sagegate]}
aws:
  region: us-east-1
  maxAttempts: 1
  endpoints: {sts: %q, sagemaker: %q}
routing:
  defaultRole: sagegate-access
  file: {path: %q}
notebooks:
  pollInterval: 100ms
  waitTimeout: 30s
`, srv.URL, srv.URL, routes)
	for path, body := range map[string]string{routes: notebooksRoutes, config: doc} {
		if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return sim, config, routes
}

func TestNotebooksCLI(t *testing.T) {
	sim, config, routes := notebooksFixture(t)
	for _, n := range []awssim.NotebookInstance{
		{Name: "idle-nb", Status: awssim.NotebookInService, Since: time.Now().Add(-3 * time.Hour), Tags: []awssim.Tag{{Key: "sagegate:user", Value: "alice"}}},
		{Name: "busy-nb", Status: awssim.NotebookInService, Tags: []awssim.Tag{{Key: "sagegate:user", Value: "bob"}}},
		{Name: "old-nb", Tags: []awssim.Tag{{Key: "sagegate:user", Value: "alice"}}},
	} {
		n.Account = cliAcctA
		sim.AddNotebookInstance(n)
	}
	nb := func(args ...string) (string, string, error) {
		t.Helper()
		return run(t, append([]string{"notebooks", "--config", config}, args...)...)
	}
	must := func(args ...string) string {
		t.Helper()
		out, errOut, err := nb(args...)
		if err != nil {
			t.Fatalf("notebooks %s: %v\n%s\n%s", strings.Join(args, " "), err, out, errOut)
		}
		return out
	}
	status := func(name string) string {
		info, _ := sim.Notebook(cliAcctA, "us-east-1", name)
		return info.Status
	}

	list := must("list")
	for _, want := range []string{"idle-nb", "InService", "old-nb", "Stopped", "alice", "bob", "lob-a"} {
		if !strings.Contains(list, want) {
			t.Errorf("list lacks %q:\n%s", want, list)
		}
	}
	if out := must("list", "--state", "Stopped"); strings.Contains(out, "idle-nb") || !strings.Contains(out, "old-nb") {
		t.Errorf("list --state Stopped:\n%s", out)
	}

	// Reaping is a dry run unless told.
	dry := must("reap", "--idle", "2h")
	if !strings.Contains(dry, "idle-nb") || !strings.Contains(dry, "would stop") || strings.Contains(dry, "busy-nb") || status("idle-nb") != awssim.NotebookInService {
		t.Fatalf("reap dry run:\n%s", dry)
	}
	applied := must("reap", "--idle", "2h", "--apply")
	if !strings.Contains(applied, "stopped") || status("idle-nb") != awssim.NotebookStopped || status("busy-nb") != awssim.NotebookInService {
		t.Fatalf("reap --apply:\n%s", applied)
	}

	// create: alice's first and second from the template; no third. Each
	// waits (--wait, bounded by waitTimeout) until its instance is
	// InService: without it the command would leave its wait polling in
	// the background of this test process, and a poll that saw
	// small-alice-2 Stopped, between the stop and the delete below, would
	// start it again and the delete would be refused.
	if out := must("create", "--wait", "--lob", "lob-a", "--template", "small", "--user", "alice"); !strings.Contains(out, "created notebook small-alice ") || !strings.Contains(out, "InService at") {
		t.Errorf("create: %s", out)
	}
	if out := must("create", "--wait", "--lob", "lob-a", "--template", "small", "--user", "alice", "--instance-type", "ml.t3.large"); !strings.Contains(out, "small-alice-2") || !strings.Contains(out, "InService at") {
		t.Errorf("second create: %s", out)
	}
	if data, _ := os.ReadFile(routes); !strings.Contains(string(data), "name: small-alice-2") {
		t.Errorf("the second notebook is not in alice's routes:\n%s", data)
	}
	if _, _, err := nb("create", "--lob", "lob-a", "--template", "small", "--user", "alice"); err == nil || !strings.Contains(err.Error(), "notebook_limit") {
		t.Errorf("third create: %v", err)
	}
	info, _ := sim.Notebook(cliAcctA, "us-east-1", "small-alice-2")
	if info.InstanceType != "ml.t3.large" || info.RootAccess != "Disabled" || !strings.Contains(info.CreatedBy, "sagegate-cli") {
		t.Errorf("created instance = %+v", info)
	}

	if out := must("stop", "--lob", "lob-a", "busy-nb"); !strings.Contains(out, "stopping busy-nb") || status("busy-nb") != awssim.NotebookStopped {
		t.Errorf("stop: %s (%s)", out, status("busy-nb"))
	}
	if out := must("start", "--lob", "lob-a", "small-alice"); !strings.Contains(out, "small-alice is InService") {
		t.Errorf("start of a running one: %s", out)
	}
	if _, _, err := nb("start", "old-nb"); err == nil || !strings.Contains(err.Error(), "--lob is required") {
		t.Errorf("start without --lob: %v", err)
	}
	if _, _, err := nb("delete", "--lob", "lob-a", "small-alice-2"); err == nil || !strings.Contains(err.Error(), "notebook_state") {
		t.Errorf("delete of a running notebook: %v", err)
	}
	must("stop", "--lob", "lob-a", "small-alice-2")
	if out := must("delete", "--lob", "lob-a", "--user", "alice", "small-alice-2"); !strings.Contains(out, "deleting small-alice-2") {
		t.Errorf("delete: %s", out)
	}
	if _, ok := sim.Notebook(cliAcctA, "us-east-1", "small-alice-2"); ok {
		t.Error("small-alice-2 still exists")
	}
	if data, _ := os.ReadFile(routes); strings.Contains(string(data), "small-alice-2") {
		t.Errorf("the deleted notebook is still in alice's routes:\n%s", data)
	}
	_, audit, _ := nb("stop", "--lob", "lob-a", "idle-nb") // already stopped: refused, and audited
	if !strings.Contains(audit, `"action":"notebook_stop"`) || !strings.Contains(audit, `"outcome":"denied"`) {
		t.Errorf("audit on stderr:\n%s", audit)
	}
}
