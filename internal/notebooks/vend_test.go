package notebooks_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sagegate/sagegate/internal/audit"
	"github.com/sagegate/sagegate/internal/notebooks"
	"github.com/sagegate/sagegate/internal/problem"
	"github.com/sagegate/sagegate/internal/routing"
	"github.com/sagegate/sagegate/internal/routing/file"
	"github.com/sagegate/sagegate/internal/sandbox/awssim"
)

// TestFirstOpenVendsFromTemplate: a template target whose instance does
// not exist is created on first open, with the template's secure
// defaults and the owner's tags, then waited for.
func TestFirstOpenVendsFromTemplate(t *testing.T) {
	e := newEnv(t, envOptions{})
	e.sim.SetNotebookDelays(awssim.NotebookDelays{Start: 2 * time.Minute})
	_, p := e.openAndWait(t, "lob-a:small-alice")
	if !p.Ready || !equalStates(p.History, notebooks.StateNotCreated, "Pending", "InService") {
		t.Fatalf("flight = %+v (history %v)", p, historyStates(p.History))
	}
	info, ok := e.sim.Notebook(acct, region, "small-alice")
	if !ok {
		t.Fatal("no instance was created")
	}
	if info.InstanceType != "ml.t3.medium" || info.RootAccess != "Disabled" || info.DirectInternetAccess != "Disabled" ||
		info.KMSKeyID != "alias/notebooks" || info.SubnetID != "subnet-0123456789abcdef0" || !slices.Equal(info.SecurityGroups, []string{"sg-0123456789abcdef0"}) ||
		info.LifecycleConfig != "idle-stop" || info.VolumeSizeGB != 10 || info.RoleARN != "arn:aws:iam::111111111111:role/notebook-exec" ||
		!strings.Contains(info.CreatedBy, "assumed-role/access/alice") {
		t.Errorf("created instance = %+v", info)
	}
	for k, v := range map[string]string{"sagegate:user": "alice", "sagegate:lob": "lob-a", "sagegate:template": "small", "cost-center": "42"} {
		if got := tagValue(info.Tags, k); got != v {
			t.Errorf("tag %s = %q, want %q", k, got, v)
		}
	}
	if got := e.audit.actions(notebooks.ActionCreate); len(got) != 1 || got[0].Outcome != audit.Granted || got[0].Target != "lob-a:small-alice" {
		t.Errorf("create audit = %+v", got)
	}
}

// TestVendMore: a template allowing two per person vends the second on
// request, records it, and refuses a third.
func TestVendMore(t *testing.T) {
	e := newEnv(t, envOptions{})
	alice := user("alice")
	ctx := context.Background()
	e.openAndWait(t, "lob-a:small-alice")
	creates := e.calls("CreateNotebookInstance")

	for _, bad := range []struct {
		req  notebooks.VendRequest
		code string
	}{
		{notebooks.VendRequest{LOB: "lob-a", Template: "small", InstanceType: "ml.p4d.24xlarge"}, notebooks.CodeInstanceTypeRefused},
		{notebooks.VendRequest{LOB: "lob-a", Template: "huge"}, notebooks.CodeTemplateNotFound},
		{notebooks.VendRequest{LOB: "lob-b", Template: "small"}, notebooks.CodeTemplateNotFound},
	} {
		_, _, err := e.m.Vend(ctx, alice, e.targets(t, alice), bad.req)
		if problem.From(err).Code != bad.code {
			t.Errorf("Vend(%+v) = %v, want %s", bad.req, err, bad.code)
		}
	}

	tg, f, err := e.m.Vend(ctx, alice, e.targets(t, alice), notebooks.VendRequest{LOB: "lob-a", Template: "small", InstanceType: "ml.t3.large"})
	if err != nil {
		t.Fatalf("Vend: %v", err)
	}
	if tg.ID != "lob-a:small-alice-2" || tg.Label != "Small notebook #2" || f == nil {
		t.Fatalf("vended %+v", tg)
	}
	if p, _ := f.Wait(ctx); !p.Ready {
		t.Fatalf("flight = %+v", p)
	}
	if info, _ := e.sim.Notebook(acct, region, "small-alice-2"); info.InstanceType != "ml.t3.large" {
		t.Errorf("instance type = %q", info.InstanceType)
	}
	u, _ := e.store.GetUser(ctx, "alice")
	if !slices.ContainsFunc(u.Notebooks, func(r routing.NotebookRef) bool {
		return r.LOB == "lob-a" && r.Name == "small-alice-2" && r.Template == "small"
	}) {
		t.Errorf("not recorded: %+v", u.Notebooks)
	}
	if _, ok := routing.FindTarget(e.targets(t, alice), "lob-a:small-alice-2"); !ok {
		t.Error("the new notebook is not among alice's targets")
	}
	_, _, err = e.m.Vend(ctx, alice, e.targets(t, alice), notebooks.VendRequest{LOB: "lob-a", Template: "small"})
	if pe := problem.From(err); pe.Code != notebooks.CodeLimit || pe.Status != 409 {
		t.Errorf("third Vend = %v", err)
	}
	if n := e.calls("CreateNotebookInstance"); n != creates+1 {
		t.Errorf("CreateNotebookInstance calls = %d, want %d: refusals must not reach AWS", n, creates+1)
	}
}

// TestVendReadOnlyRoutes: with routes sagegate cannot write, a second
// notebook is refused before anything is created.
func TestVendReadOnlyRoutes(t *testing.T) {
	e := newEnv(t, envOptions{})
	doc := defaultRoutes()
	inline, err := file.New(file.Config{LOBs: doc.LOBs, Users: doc.Users}, routing.Defaults{Region: region})
	if err != nil {
		t.Fatal(err)
	}
	m := notebooks.New(notebooks.Options{Control: e.broker, Store: inline, PollInterval: poll, Sleep: e.sleep, Now: e.clock.Now})
	e.sim.AddNotebookInstance(awssim.NotebookInstance{Account: acct, Name: "small-alice"})
	alice := user("alice")
	_, _, err = m.Vend(context.Background(), alice, e.targets(t, alice), notebooks.VendRequest{LOB: "lob-a", Template: "small"})
	if problem.From(err).Code != notebooks.CodeReadOnly {
		t.Fatalf("Vend on read-only routes = %v", err)
	}
	if n := e.calls("CreateNotebookInstance"); n != 0 {
		t.Errorf("%d instances created", n)
	}
}

func TestStopAuthorization(t *testing.T) {
	e := newEnv(t, envOptions{admins: []string{"nb-admins"}})
	for _, n := range []string{"nb-alice", "team-nb"} {
		e.sim.AddNotebookInstance(awssim.NotebookInstance{Account: acct, Name: n, Status: awssim.NotebookInService})
	}
	ctx := context.Background()
	alice := user("alice")
	own := e.target(t, alice, "lob-a:nb-alice")
	shared := e.target(t, alice, "lob-a:team-nb")

	for _, c := range []struct {
		who  string
		p    func() error
		code string
	}{
		{"bob on alice's", func() error { return e.m.Stop(ctx, user("bob"), own) }, problem.CodeForbidden},
		{"alice on the LOB's shared one", func() error { return e.m.Stop(ctx, alice, shared) }, problem.CodeForbidden},
	} {
		if err := c.p(); problem.From(err).Code != c.code {
			t.Errorf("%s: %v, want %s", c.who, err, c.code)
		}
	}
	if n := e.calls("StopNotebookInstance"); n != 0 {
		t.Fatalf("refusals made %d AWS calls", n)
	}
	if err := e.m.Stop(ctx, alice, own); err != nil {
		t.Fatalf("alice stopping her own: %v", err)
	}
	if err := e.m.Stop(ctx, user("carol", "nb-admins"), shared); err != nil {
		t.Fatalf("an admin stopping the shared one: %v", err)
	}
	for _, n := range []string{"nb-alice", "team-nb"} {
		if info, _ := e.sim.Notebook(acct, region, n); info.Status != awssim.NotebookStopped && info.Status != awssim.NotebookStopping {
			t.Errorf("%s is %s", n, info.Status)
		}
	}
	// Stopping a stopped one says why it cannot.
	if err := e.m.Stop(ctx, alice, own); problem.From(err).Status != 409 {
		t.Errorf("stopping a stopped notebook = %v", err)
	}
	var outcomes []string
	for _, ev := range e.audit.actions(notebooks.ActionStop) {
		outcomes = append(outcomes, ev.User+":"+ev.Outcome)
	}
	if want := []string{"bob:denied", "alice:denied", "alice:granted", "carol:granted", "alice:denied"}; !slices.Equal(outcomes, want) {
		t.Errorf("stop audit = %v, want %v", outcomes, want)
	}
}

func TestPublishToSSM(t *testing.T) {
	e := newEnv(t, envOptions{ssm: true})
	e.sim.AddNotebookInstance(awssim.NotebookInstance{Account: acct, Name: "nb-alice", Status: awssim.NotebookInService})
	alice := user("alice@example.com")
	tg := e.target(t, user("alice"), "lob-a:nb-alice")
	o, err := e.m.Open(context.Background(), alice, tg)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.m.Publish(context.Background(), alice, tg, alice.Username, o.Result.URL); err != nil {
		t.Fatalf("Publish: %v", err)
	}
	name := notebooks.ParameterName(alice.Username)
	if name != "/SageMaker/Notebooks/alice-example.com-Notebook" {
		t.Errorf("parameter name = %q", name)
	}
	p, ok := e.sim.Parameter(acct, region, name)
	if !ok || p.Type != "SecureString" || p.KeyID != "alias/sagegate" || p.Value != o.Result.URL {
		t.Errorf("parameter = %+v, %v", p, ok)
	}
	if n := e.sim.Calls().Count("ssm", "PutParameter", acct); n != 1 {
		t.Errorf("PutParameter in the notebook's account: %d", n)
	}
}

func TestNotebookOf(t *testing.T) {
	studio := routing.Target{ID: "lob-a", Kind: routing.KindStudio}
	own := routing.Target{ID: "lob-a:mine", Kind: routing.KindNotebook, Owner: "alice"}
	shared := routing.Target{ID: "lob-a:team", Kind: routing.KindNotebook}
	for _, c := range []struct {
		ts   []routing.Target
		want string
	}{
		{[]routing.Target{studio, shared, own}, "lob-a:mine"},
		{[]routing.Target{studio, shared}, "lob-a:team"},
		{[]routing.Target{studio, shared, shared}, ""},
		{[]routing.Target{studio}, ""},
	} {
		got, ok := notebooks.NotebookOf(c.ts, "alice")
		if got.ID != c.want || ok != (c.want != "") {
			t.Errorf("NotebookOf = %q, %v; want %q", got.ID, ok, c.want)
		}
	}
}
