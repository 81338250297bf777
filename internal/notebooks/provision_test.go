package notebooks_test

import (
	"context"
	"encoding/json"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sagegate/sagegate/internal/lambda/events"
	"github.com/sagegate/sagegate/internal/notebooks"
	"github.com/sagegate/sagegate/internal/routing"
	"github.com/sagegate/sagegate/internal/sandbox/awssim"
)

// fixture is the CloudTrail ProvisionProduct event the events Lambda
// receives from EventBridge, with its parameters optionally replaced.
func fixture(t *testing.T, params ...map[string]string) []byte {
	t.Helper()
	data, err := os.ReadFile("../lambda/testdata/eventbridge-provision-product.json")
	if err != nil {
		t.Fatal(err)
	}
	if len(params) == 0 {
		return data
	}
	var ev map[string]any
	if err := json.Unmarshal(data, &ev); err != nil {
		t.Fatal(err)
	}
	var list []map[string]string
	for _, p := range params {
		for k, v := range p {
			list = append(list, map[string]string{"key": k, "value": v})
		}
	}
	ev["detail"].(map[string]any)["requestParameters"].(map[string]any)["provisioningParameters"] = list
	ev["detail"].(map[string]any)["requestParameters"].(map[string]any)["tags"] = []any{}
	out, _ := json.Marshal(ev)
	return out
}

// invoke runs the events Lambda's handler, as Lambda would, with the
// notebooks Provisioner behind it.
func invoke(t *testing.T, e *env, payload []byte) events.Result {
	t.Helper()
	h := events.New(events.Options{Provision: e.m.Provisioner(notebooks.ProvisionOptions{})})
	out, err := h.Invoke(context.Background(), payload)
	if err != nil {
		t.Fatalf("Invoke: %v", err)
	}
	var res events.Result
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatal(err)
	}
	return res
}

// TestProvisionProductRecordsTarget: the fixture's event records the
// notebook as its owner's target, once however often it is delivered,
// before the instance exists; the first open then waits for the instance
// that Service Catalog creates.
func TestProvisionProductRecordsTarget(t *testing.T) {
	e := newEnv(t, envOptions{})
	ctx := context.Background()
	if res := invoke(t, e, fixture(t)); res.Outcome != "handled" {
		t.Fatalf("outcome = %+v", res)
	}
	invoke(t, e, fixture(t)) // EventBridge delivers at least once
	u, err := e.store.GetUser(ctx, "alice")
	if err != nil {
		t.Fatal(err)
	}
	want := routing.NotebookRef{LOB: "lob-a", Name: "notebook-alice", Label: "Notebook notebook-alice (Service Catalog)", ProvisionedProduct: "pp-abcdefghijklm"}
	if n := slices.IndexFunc(u.Notebooks, func(r routing.NotebookRef) bool { return r == want }); n < 0 || len(u.Notebooks) != 2 {
		t.Fatalf("alice's notebooks = %+v, want %+v recorded once", u.Notebooks, want)
	}
	if got := e.audit.actions(notebooks.ActionRecord); len(got) != 1 || got[0].User != "alice" || got[0].Target != "lob-a:notebook-alice" {
		t.Errorf("record audit = %+v", got)
	}
	if n := e.sim.Calls().Total; n != 0 {
		t.Errorf("recording made %d AWS calls", n)
	}

	// The instance does not exist yet: opening waits for it.
	alice := user("alice")
	tg := e.target(t, alice, "lob-a:notebook-alice")
	e.gate = make(chan struct{})
	e.sleeping = make(chan struct{}, 100)
	o, err := e.m.Open(ctx, alice, tg)
	if err != nil || o.Flight == nil {
		t.Fatalf("Open before the instance exists = %+v, %v", o, err)
	}
	<-e.sleeping
	e.sim.SetNotebookDelays(awssim.NotebookDelays{Start: time.Minute})
	e.sim.AddNotebookInstance(awssim.NotebookInstance{Account: acct, Name: "notebook-alice", Status: awssim.NotebookPending})
	close(e.gate)
	p, _ := o.Flight.Wait(ctx)
	if !p.Ready || !equalStates(p.History, notebooks.StateNotCreated, "Pending", "InService") {
		t.Fatalf("flight = %+v (history %v)", p, historyStates(p.History))
	}
	if n := e.calls("StartNotebookInstance") + e.calls("CreateNotebookInstance"); n != 0 {
		t.Errorf("sagegate started or created a provisioned instance (%d calls)", n)
	}
}

// TestProvisionProductReadsParametersByKey: the owner is found by the
// parameter's key wherever it is in the list, a person without a record
// gets one, and events without an owner or outside every LOB's account
// are dropped without failing (a retry would not help).
func TestProvisionProductReadsParametersByKey(t *testing.T) {
	e := newEnv(t, envOptions{})
	ctx := context.Background()
	invoke(t, e, fixture(t, map[string]string{"UserName": "carol"}, map[string]string{"InstanceType": "ml.t3.medium"},
		map[string]string{"NotebookInstanceName": "carols-notebook"}))
	u, err := e.store.GetUser(ctx, "carol")
	if err != nil || len(u.Notebooks) != 1 || u.Notebooks[0].Name != "carols-notebook" {
		t.Fatalf("carol = %+v, %v", u, err)
	}
	if ts := e.targets(t, user("carol")); len(ts) != 1 || ts[0].ID != "lob-a:carols-notebook" {
		t.Errorf("carol's targets = %+v", ts)
	}

	// No owner parameter or tag: the caller's source identity (sagegate's
	// session of alice) names her.
	invoke(t, e, fixture(t, map[string]string{"InstanceType": "ml.t3.medium"}))
	if u, _ := e.store.GetUser(ctx, "alice"); !slices.ContainsFunc(u.Notebooks, func(r routing.NotebookRef) bool { return r.Name == "notebook-alice" }) {
		t.Errorf("alice's notebooks = %+v", u.Notebooks)
	}

	before, _ := os.ReadFile(e.routesPath)
	noOwner := strings.Replace(string(fixture(t, map[string]string{"InstanceType": "ml.t3.medium"})), `"sourceIdentity":"alice"`, `"sourceIdentity":""`, 1)
	if res := invoke(t, e, []byte(noOwner)); res.Outcome != "handled" {
		t.Errorf("no owner: %+v", res)
	}
	other := strings.Replace(string(fixture(t)), `"account": "111111111111"`, `"account": "999999999999"`, 1)
	invoke(t, e, []byte(other))
	if after, _ := os.ReadFile(e.routesPath); string(after) != string(before) {
		t.Errorf("routes changed by unusable events:\n%s", after)
	}
}
