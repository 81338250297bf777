package gateway_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/sagegate/sagegate/internal/config"
	"github.com/sagegate/sagegate/internal/gateway"
	"github.com/sagegate/sagegate/internal/identity/identitytest"
	"github.com/sagegate/sagegate/internal/routing/dynamodb/dynamodbtest"
	"github.com/sagegate/sagegate/internal/sandbox/awssim"
	"github.com/sagegate/sagegate/internal/testutil"
)

// ddbEnv is a gateway routing from DynamoDB (dynalite) in the AWS sample's
// tables, launching into the simulator. DynamoDB requests go through a
// proxy that counts them and can play dead.
type ddbEnv struct {
	t     testing.TB
	db    *dynamodbtest.DB
	sim   *awssim.Simulator
	idp   *identitytest.Issuer
	clock *testutil.Clock
	gw    *gateway.Gateway
	srv   *httptest.Server
	logs  *testutil.SyncBuffer
	// ddbRequests counts requests to DynamoDB; ddbDown fails them.
	ddbRequests atomic.Int64
	ddbDown     atomic.Bool
}

// sampleAccounts are the accounts of the sample's two LOBs: each has one
// InService domain (the sample's tables name none), and a Deleting one
// that discovery must not pick.
var sampleAccounts = []struct{ lob, account, domain string }{
	{"lob-a", "111111111111", "d-samplea00001"},
	{"lob-b", "222222222222", "d-sampleb00001"},
}

func newDDBEnv(t testing.TB, accounts []awssim.Account, cacheYAML string) *ddbEnv {
	t.Helper()
	e := &ddbEnv{t: t, clock: testutil.NewClock(time.Now().UTC().Truncate(time.Second)), logs: &testutil.SyncBuffer{}}
	e.sim = awssim.New(awssim.Options{Now: e.clock.Now, StudioBaseURL: "http://studio.invalid/studio"})
	simSrv := httptest.NewServer(e.sim.APIHandler())
	t.Cleanup(simSrv.Close)
	e.sim.AddCaller(awssim.Caller{AccessKeyID: gwKey, SecretAccessKey: gwSecret, AccountID: gwAccount})
	for _, a := range accounts {
		e.sim.AddAccount(a)
	}

	e.db = dynamodbtest.Start(t)
	// The sample's own table names, which are sagegate's defaults.
	e.db.Tables(t, "users-map-table", "lobs-map-table")
	target, err := url.Parse(e.db.Endpoint)
	if err != nil {
		t.Fatal(err)
	}
	proxy := httputil.NewSingleHostReverseProxy(target)
	ddbSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		e.ddbRequests.Add(1)
		if e.ddbDown.Load() {
			w.Header().Set("Content-Type", "application/x-amz-json-1.0")
			w.WriteHeader(http.StatusInternalServerError)
			fmt.Fprint(w, `{"__type":"com.amazonaws.dynamodb.v20120810#InternalServerError","message":"down for the test"}`)
			return
		}
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(ddbSrv.Close)

	e.idp = identitytest.NewIssuer(t)
	doc := fmt.Sprintf(`
identity:
  providers:
    - {name: corp, type: oidc, issuer: %q, jwksUrl: %q, audiences: [sagegate]}
limits: {launchesPerMinute: 60000000, launchBurst: 1000000}
aws:
  region: us-east-1
  endpoints: {sts: %q, sagemaker: %q}
routing:
  type: dynamodb
  defaultRole: sagegate-access
  dynamodb: {endpoint: %q}
%s
`, e.idp.URL(), e.idp.JWKSURL(), simSrv.URL, simSrv.URL, ddbSrv.URL, cacheYAML)
	cfg, err := config.Parse([]byte(doc), func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatal(err)
	}
	awsCfg := aws.Config{
		Region:      "us-east-1",
		Credentials: credentials.NewStaticCredentialsProvider(gwKey, gwSecret, ""),
		// A failing store must fail at once, not after the SDK's backoff.
		Retryer: func() aws.Retryer { return aws.NopRetryer{} },
	}
	e.gw, err = gateway.Build(context.Background(), cfg, gateway.Deps{
		AWS: &awsCfg, AuditWriter: &testutil.SyncBuffer{}, Now: e.clock.Now,
		Logger: slog.New(slog.NewJSONHandler(e.logs, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	e.srv = httptest.NewServer(e.gw.Handler)
	t.Cleanup(e.srv.Close)
	return e
}

// sampleSimAccounts returns the sample's accounts, with profiles for users.
func sampleSimAccounts(profiles map[string][]string) []awssim.Account {
	var out []awssim.Account
	for _, a := range sampleAccounts {
		out = append(out, awssim.Account{
			ID:    a.account,
			Roles: []awssim.Role{{Name: "sagegate-access", TrustedAccounts: []string{gwAccount}}},
			Domains: []awssim.Domain{
				{ID: "d-old" + a.domain[2:], Name: "retired", Status: "Deleting"},
				{ID: a.domain, Name: a.lob, UserProfiles: profiles[a.lob]},
			},
		})
	}
	return out
}

// putSample writes the sample's data with plain PutItem calls in its shape.
func (e *ddbEnv) putSample() {
	for _, a := range sampleAccounts {
		e.db.Put(e.t, "users-map-table", "PK", "user-"+a.lob, "LOB", a.lob)
		e.db.Put(e.t, "lobs-map-table", "PK", a.lob, "ACCOUNT_ID", a.account)
	}
}

func (e *ddbEnv) token(user string, groups ...string) string {
	claims := map[string]any{"sub": "sub-" + user, "preferred_username": user, "aud": "sagegate"}
	if len(groups) > 0 {
		claims["groups"] = groups
	}
	return e.idp.Sign(claims)
}

func (e *ddbEnv) get(path, token string) *http.Response {
	e.t.Helper()
	return send(e.t, "GET", e.srv.URL+path, token)
}

// TestSampleTablesLaunchEachUserIntoOwnAccount is the acceptance test: the
// sample's data, as the sample writes it, routes each user into their own
// account's domain; in steady state a launch is one AWS call and no
// DynamoDB read.
func TestSampleTablesLaunchEachUserIntoOwnAccount(t *testing.T) {
	e := newDDBEnv(t, sampleSimAccounts(map[string][]string{"lob-a": {"user-lob-a"}, "lob-b": {"user-lob-b"}}), "")
	e.putSample()

	for _, a := range sampleAccounts {
		user := "user-" + a.lob
		resp := e.get("/studio", e.token(user))
		if resp.StatusCode != http.StatusFound || !strings.Contains(resp.Header.Get("Location"), a.domain) {
			t.Fatalf("%s: %s, Location %q; want a redirect into %s", user, resp.Status, resp.Header.Get("Location"), a.domain)
		}
		// The sample's own path works too.
		if resp := e.get("/studio/"+user, e.token(user)); resp.StatusCode != http.StatusFound {
			t.Errorf("/studio/%s: %s", user, resp.Status)
		}
		// The other LOB is not theirs.
		other := "lob-b"
		if a.lob == "lob-b" {
			other = "lob-a"
		}
		if resp := e.get("/launch/"+other, e.token(user)); resp.StatusCode != http.StatusNotFound {
			t.Errorf("%s launching %s: %s", user, other, resp.Status)
		}
	}
	// Every call a user's launch made stayed in that user's account.
	for _, c := range e.sim.CallLog() {
		want := map[string]string{"user-lob-a": "111111111111", "user-lob-b": "222222222222"}[c.SourceIdentity]
		if want == "" || c.Account != want {
			t.Errorf("call %s by %q went to account %s", c.Operation, c.SourceIdentity, c.Account)
		}
	}
	if n := e.sim.Calls().Count("sagemaker", "ListDomains", ""); n != 2 {
		t.Errorf("ListDomains called %d times, want once per account", n)
	}

	// Steady state.
	e.sim.ResetCalls()
	e.ddbRequests.Store(0)
	for range 3 {
		if resp := e.get("/studio", e.token("user-lob-a")); resp.StatusCode != http.StatusFound {
			t.Fatalf("steady-state launch: %s", resp.Status)
		}
	}
	calls := e.sim.Calls()
	if calls.Total != 3 || calls.Count("sagemaker", "CreatePresignedDomainUrl", "111111111111") != 3 {
		t.Errorf("3 steady-state launches made %+v, want 3 presigns and nothing else", calls)
	}
	if n := e.ddbRequests.Load(); n != 0 {
		t.Errorf("3 steady-state launches made %d DynamoDB requests, want 0", n)
	}

	// Past the cache TTL the routes are read again (the user and the LOB),
	// but the credentials and the discovered domain are still good.
	e.clock.Advance(31 * time.Second)
	e.sim.ResetCalls()
	if resp := e.get("/studio", e.token("user-lob-a")); resp.StatusCode != http.StatusFound {
		t.Fatalf("launch after the TTL: %s", resp.Status)
	}
	if n := e.ddbRequests.Load(); n != 2 {
		t.Errorf("after the TTL: %d DynamoDB requests, want 2 (user, LOB)", n)
	}
	if calls := e.sim.Calls(); calls.Total != 1 {
		t.Errorf("after the TTL: AWS calls %+v, want the presign alone", calls)
	}
}

// TestDynamoDBDownServesStaleThen503: an outage of the table is ridden out
// with what the cache holds; someone it holds nothing for gets 503 with
// Retry-After.
func TestDynamoDBDownServesStaleThen503(t *testing.T) {
	e := newDDBEnv(t, sampleSimAccounts(map[string][]string{"lob-a": {"user-lob-a"}, "lob-b": {"user-lob-b"}}),
		"  cache: {ttl: 10s, negativeTtl: 2s, staleMaxAge: 1m}")
	e.putSample()
	if resp := e.get("/studio", e.token("user-lob-a")); resp.StatusCode != http.StatusFound {
		t.Fatalf("warm-up: %s", resp.Status)
	}
	e.ddbDown.Store(true)
	e.clock.Advance(11 * time.Second)
	if resp := e.get("/studio", e.token("user-lob-a")); resp.StatusCode != http.StatusFound {
		t.Errorf("launch on stale routes: %s", resp.Status)
	}
	if !strings.Contains(e.logs.String(), "serving a cached answer") {
		t.Errorf("no log line for the stale answer:\n%s", e.logs)
	}
	resp := e.get("/studio", e.token("user-lob-b"))
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" {
		t.Errorf("uncached user with the store down: %s, Retry-After %q", resp.Status, resp.Header.Get("Retry-After"))
	}
	// Past the maximum age, stale routes are no longer trusted.
	e.clock.Advance(time.Minute)
	if resp := e.get("/studio", e.token("user-lob-a")); resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("past staleMaxAge: %s", resp.Status)
	}
	// Back up: launches resume.
	e.ddbDown.Store(false)
	if resp := e.get("/studio", e.token("user-lob-b")); resp.StatusCode != http.StatusFound {
		t.Errorf("after recovery: %s", resp.Status)
	}
}

// TestGroupsDisabledAndJITFromDynamoDB: a group item in the LOBs table
// grants a LOB to people without a user record, a DISABLED user is
// refused whatever their groups, and a LOB with JIT_PROFILES creates the
// profile of a newcomer on their first launch.
func TestGroupsDisabledAndJITFromDynamoDB(t *testing.T) {
	e := newDDBEnv(t, sampleSimAccounts(map[string][]string{"lob-a": {"user-lob-a"}}), "")
	e.putSample()
	s := func(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }
	e.db.PutItem(t, "lobs-map-table", map[string]types.AttributeValue{
		"PK": s("lob-b"), "ACCOUNT_ID": s("222222222222"), "JIT_PROFILES": &types.AttributeValueMemberBOOL{Value: true}, "LABEL": s("LOB B")})
	e.db.PutItem(t, "lobs-map-table", map[string]types.AttributeValue{
		"PK": s("group#data-science"), "LOBS": &types.AttributeValueMemberL{Value: []types.AttributeValue{s("lob-b"), s("lob-a")}}})
	e.db.PutItem(t, "users-map-table", map[string]types.AttributeValue{
		"PK": s("mallory"), "LOB": s("lob-a"), "DISABLED": &types.AttributeValueMemberBOOL{Value: true}})

	// A newcomer in the group: two targets, lob-b first as the group says.
	resp := e.get("/api/v1/targets", e.token("newcomer", "data-science", "unrelated"))
	body := decode(t, resp)
	ts, _ := body["targets"].([]any)
	if len(ts) != 2 || ts[0].(map[string]any)["id"] != "lob-b" || ts[0].(map[string]any)["label"] != "LOB B" {
		t.Fatalf("targets = %v", body)
	}
	if resp := e.get("/launch/lob-b", e.token("newcomer", "data-science")); resp.StatusCode != http.StatusFound {
		t.Fatalf("JIT launch: %s", resp.Status)
	}
	info, ok := e.sim.UserProfile("222222222222", "d-sampleb00001", "newcomer")
	if !ok || len(info.Tags) != 2 {
		t.Errorf("profile created just in time = %+v, %v", info, ok)
	}
	// lob-a creates nothing: the newcomer has no profile there.
	if resp := e.get("/launch/lob-a", e.token("newcomer", "data-science")); resp.StatusCode != http.StatusNotFound {
		t.Errorf("launch into lob-a without a profile: %s", resp.Status)
	}

	if resp := e.get("/studio", e.token("mallory", "data-science")); resp.StatusCode != http.StatusForbidden {
		t.Errorf("disabled user: %s", resp.Status)
	}
}
