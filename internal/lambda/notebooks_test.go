package lambda_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sagegate/sagegate/internal/sandbox/awssim"
)

// notebookConfig is configFile with its routes in a file the function may
// write, and the idle reaper applying what it finds.
const notebookConfig = `
identity:
  providers:
    - {name: corp, type: oidc, issuer: "${ISSUER}", jwksUrl: "${ISSUER}/.well-known/jwks.json", audiences: [sagegate]}
aws:
  region: us-east-1
  maxAttempts: 1
  endpoints: {sts: "${SIM}", sagemaker: "${SIM}"}
routing:
  file: {path: "${ROUTES}"}
notebooks:
  reaper: {idle: 1h, apply: true}
log:
  level: debug
`

const notebookRoutes = `
lobs:
  lob-a: {accountId: "111111111111", domainId: d-aaaaaaaaaaa1, roleArn: access, externalId: ext-lob-a}
users:
  alice: {lobs: [lob-a]}
`

// TestEventsRoleRecordsNotebooksAndReaps: the events function, as Lambda
// runs it, records the notebook of a ProvisionProduct event in the routes
// and stops idle notebooks when its schedule fires.
func TestEventsRoleRecordsNotebooksAndReaps(t *testing.T) {
	w := newWorld(t)
	cfg, routes := filepath.Join(w.task, "notebooks.yaml"), filepath.Join(w.task, "routes.yaml")
	for path, body := range map[string]string{cfg: notebookConfig, routes: notebookRoutes} {
		if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	w.sim.AddNotebookInstance(awssim.NotebookInstance{Account: acctA, Name: "idle-nb", Status: awssim.NotebookInService,
		Since: time.Now().Add(-3 * time.Hour), Tags: []awssim.Tag{{Key: "sagegate:user", Value: "alice"}}})
	w.sim.AddNotebookInstance(awssim.NotebookInstance{Account: acctA, Name: "busy-nb", Status: awssim.NotebookInService,
		Tags: []awssim.Tag{{Key: "sagegate:user", Value: "alice"}}})

	f := w.start(t, "events", "none", "SAGEGATE_CONFIG="+cfg, "ROUTES="+routes)
	for fx, want := range map[string]string{
		"eventbridge-provision-product.json": `{"eventId":"6a7e8feb-b491-4cf7-a9f1-bf3703467718","outcome":"handled"}`,
		"eventbridge-scheduled-event.json":   `{"eventId":"53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa","outcome":"handled"}`,
	} {
		if res := f.invoke(fixture(t, fx)); res.Error != nil || string(res.Payload) != want {
			t.Errorf("%s: answer %s, error %+v, want %s", fx, res.Payload, res.Error, want)
		}
	}
	stdout, stderr := f.stop()

	data, _ := os.ReadFile(routes)
	if !strings.Contains(string(data), "name: notebook-alice") || !strings.Contains(string(data), "provisionedProduct: pp-abcdefghijklm") {
		t.Errorf("routes after ProvisionProduct:\n%s\n%s", data, stderr)
	}
	for name, want := range map[string]string{"idle-nb": awssim.NotebookStopped, "busy-nb": awssim.NotebookInService} {
		if info, _ := w.sim.Notebook(acctA, "us-east-1", name); info.Status != want {
			t.Errorf("%s is %s, want %s\n%s", name, info.Status, want, stderr)
		}
	}
	for _, want := range []string{`"action":"notebook_record"`, `"action":"notebook_stop"`, `"user":"sagegate-reaper"`} {
		if !strings.Contains(stdout, want) {
			t.Errorf("audit lacks %s:\n%s", want, stdout)
		}
	}
}
