package notebooks_test

import (
	"context"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"sigs.k8s.io/yaml"

	"github.com/sagegate/sagegate/internal/audit"
	"github.com/sagegate/sagegate/internal/broker"
	"github.com/sagegate/sagegate/internal/identity"
	"github.com/sagegate/sagegate/internal/notebooks"
	"github.com/sagegate/sagegate/internal/routing"
	"github.com/sagegate/sagegate/internal/routing/file"
	"github.com/sagegate/sagegate/internal/sandbox/awssim"
	"github.com/sagegate/sagegate/internal/testutil"
)

const (
	gwAccount = "000000000000"
	gwKey     = "AKIAGATEWAYNOTEBOOK1"
	gwSecret  = "gateway-secret"
	acct      = "111111111111"
	region    = "us-east-1"
	poll      = 5 * time.Second
)

// env is a Manager on the real broker and SDK, talking HTTP to the
// simulator, with one clock for all of them. Its Sleep moves the clock
// instead of sleeping; gate, when set, holds every Sleep until it is
// closed, so a test can act while a flight is mid-wait.
type env struct {
	sim    *awssim.Simulator
	clock  *testutil.Clock
	broker *broker.Broker
	m      *notebooks.Manager
	store  *file.Store
	// routesPath is the routes file the store reads and writes.
	routesPath string
	audit      *auditLog
	gate       chan struct{}
	// sleeping receives a value each time a Sleep begins, when set.
	sleeping chan struct{}
}

type envOptions struct {
	wait   time.Duration
	admins []string
	ssm    bool
	routes file.Document
}

func newEnv(t *testing.T, o envOptions) *env {
	t.Helper()
	e := &env{clock: testutil.NewClock(time.Now().UTC().Truncate(time.Second)), audit: &auditLog{}}
	e.sim = awssim.New(awssim.Options{Now: e.clock.Now})
	srv := httptest.NewServer(e.sim.APIHandler())
	t.Cleanup(srv.Close)
	e.sim.AddCaller(awssim.Caller{AccessKeyID: gwKey, SecretAccessKey: gwSecret, AccountID: gwAccount})
	e.sim.AddAccount(awssim.Account{ID: acct, Roles: []awssim.Role{{Name: "access"}}})
	cfg := aws.Config{Region: region, Credentials: credentials.NewStaticCredentialsProvider(gwKey, gwSecret, "")}
	e.broker = broker.New(cfg, broker.Options{
		STSEndpoint: srv.URL, SageMakerEndpoint: srv.URL, SSMEndpoint: srv.URL, Now: e.clock.Now, MaxAttempts: 1,
	})
	if o.routes.LOBs == nil {
		o.routes = defaultRoutes()
	}
	path := filepath.Join(t.TempDir(), "routes.yaml")
	data, err := yaml.Marshal(o.routes)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	e.routesPath = path
	e.store, err = file.New(file.Config{Path: path}, routing.Defaults{Region: region})
	if err != nil {
		t.Fatal(err)
	}
	e.m = notebooks.New(notebooks.Options{
		Control: e.broker, Store: e.store, Audit: e.audit, WaitTimeout: o.wait, PollInterval: poll,
		Sleep: e.sleep, AdminGroups: o.admins, SSMPublish: o.ssm, SSMKeyID: "alias/sagegate", Now: e.clock.Now,
	})
	return e
}

func (e *env) sleep(ctx context.Context, d time.Duration) error {
	if e.sleeping != nil {
		e.sleeping <- struct{}{}
	}
	if e.gate != nil {
		select {
		case <-e.gate:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	e.clock.Advance(d)
	return ctx.Err()
}

func smallTemplate() routing.NotebookTemplate {
	return routing.NotebookTemplate{
		Name: "small", Label: "Small notebook", InstanceTypes: []string{"ml.t3.medium", "ml.t3.large"},
		VolumeSizeGB: 10, LifecycleConfig: "idle-stop", KMSKeyID: "alias/notebooks",
		SubnetID: "subnet-0123456789abcdef0", SecurityGroupIDs: []string{"sg-0123456789abcdef0"},
		RoleARN: "notebook-exec", MaxPerUser: 2, Tags: map[string]string{"cost-center": "42"},
	}
}

func defaultRoutes() file.Document {
	return file.Document{
		LOBs: map[string]routing.LOB{"lob-a": {
			AccountID: acct, RoleARN: "access", DomainID: "d-aaaaaaaaaaaa",
			SessionDuration:   routing.Duration(2 * time.Hour),
			Notebooks:         []routing.NotebookRef{{Name: "team-nb"}},
			NotebookTemplates: []routing.NotebookTemplate{smallTemplate()},
		}},
		Users: map[string]routing.User{
			"alice": {LOBs: []string{"lob-a"}, Notebooks: []routing.NotebookRef{{LOB: "lob-a", Name: "nb-alice", Label: "Alice's notebook"}}},
			"bob":   {LOBs: []string{"lob-a"}},
		},
	}
}

// targets resolves p's targets against the env's store.
func (e *env) targets(t *testing.T, p *identity.Principal) []routing.Target {
	t.Helper()
	ts, err := routing.NewResolver(e.store, nil).Targets(context.Background(), p)
	if err != nil {
		t.Fatal(err)
	}
	return ts
}

func (e *env) target(t *testing.T, p *identity.Principal, id string) routing.Target {
	t.Helper()
	tg, ok := routing.FindTarget(e.targets(t, p), id)
	if !ok {
		t.Fatalf("%s has no target %q", p.Username, id)
	}
	return tg
}

func (e *env) calls(op string) int { return e.sim.Calls().Count("sagemaker", op, acct) }

func user(name string, groups ...string) *identity.Principal {
	return &identity.Principal{Username: name, Subject: "sub-" + name, Groups: groups}
}

// auditLog is an audit.Sink that keeps what it gets.
type auditLog struct {
	mu     sync.Mutex
	events []audit.Event
}

func (a *auditLog) Record(_ context.Context, e audit.Event) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.events = append(a.events, e)
}

func (a *auditLog) actions(action string) []audit.Event {
	a.mu.Lock()
	defer a.mu.Unlock()
	var out []audit.Event
	for _, e := range a.events {
		if e.Action == action {
			out = append(out, e)
		}
	}
	return out
}

func historyStates(h []notebooks.Step) []string {
	var out []string
	for _, s := range h {
		out = append(out, s.State)
	}
	return out
}

func equalStates(h []notebooks.Step, want ...string) bool {
	return slices.Equal(historyStates(h), want)
}
