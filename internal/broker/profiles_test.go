package broker_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sagemaker"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/sagegate/sagegate/internal/broker"
	"github.com/sagegate/sagegate/internal/identity"
	"github.com/sagegate/sagegate/internal/problem"
	"github.com/sagegate/sagegate/internal/routing"
	"github.com/sagegate/sagegate/internal/sandbox/awssim"
	"github.com/sagegate/sagegate/internal/testutil"
)

const (
	gwAccount = "000000000000"
	gwKey     = "AKIAGATEWAYPROFILES1"
	gwSecret  = "gateway-secret"
	acct      = "111111111111"
	domain    = "d-jit000000001"
	execRole  = "arn:aws:iam::111111111111:role/service-role/exec"
)

// simEnv is a broker on the real SDK, talking HTTP to the simulator, with
// one clock for both. Its Sleep moves the clock instead of sleeping.
type simEnv struct {
	sim      *awssim.Simulator
	clock    *testutil.Clock
	broker   *broker.Broker
	endpoint string
	sleeps   chan time.Duration // when set, receives every Sleep
	gate     chan struct{}      // when set, Sleep waits for it
	mu       sync.Mutex
	nSleep   int
	// stopAfter, when positive, makes the Sleep that many calls in fail
	// as if ProfileOptions.Timeout had passed.
	stopAfter int
}

func newSimEnv(t *testing.T, domains ...awssim.Domain) *simEnv {
	t.Helper()
	return newSimEnvWith(t, nil, domains...)
}

// newSimEnvWith is newSimEnv with tune applied to the broker's options.
func newSimEnvWith(t *testing.T, tune func(*broker.Options), domains ...awssim.Domain) *simEnv {
	t.Helper()
	e := &simEnv{clock: testutil.NewClock(time.Now().UTC().Truncate(time.Second))}
	e.sim = awssim.New(awssim.Options{Now: e.clock.Now})
	srv := httptest.NewServer(e.sim.APIHandler())
	t.Cleanup(srv.Close)
	e.endpoint = srv.URL
	e.sim.AddCaller(awssim.Caller{AccessKeyID: gwKey, SecretAccessKey: gwSecret, AccountID: gwAccount})
	if len(domains) == 0 {
		domains = []awssim.Domain{{ID: domain, Name: "jit", UserProfiles: []string{"existing"}}}
	}
	e.sim.AddAccount(awssim.Account{ID: acct, Roles: []awssim.Role{{Name: "access"}}, Domains: domains})
	cfg := aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider(gwKey, gwSecret, "")}
	opts := broker.Options{
		STSEndpoint: srv.URL, SageMakerEndpoint: srv.URL, Now: e.clock.Now, MaxAttempts: 1,
		Profiles: broker.ProfileOptions{PollInterval: 2 * time.Second, Sleep: e.sleep},
	}
	if tune != nil {
		tune(&opts)
	}
	e.broker = broker.New(cfg, opts)
	return e
}

func (e *simEnv) sleep(ctx context.Context, d time.Duration) error {
	e.mu.Lock()
	e.nSleep++
	n := e.nSleep
	e.mu.Unlock()
	if e.sleeps != nil {
		e.sleeps <- d
	}
	if e.gate != nil {
		<-e.gate
	}
	if e.stopAfter > 0 && n >= e.stopAfter {
		return context.DeadlineExceeded
	}
	e.clock.Advance(d)
	return ctx.Err()
}

// deleteProfile deletes a user profile of the domain as an administrator
// would, through the API.
func (e *simEnv) deleteProfile(t *testing.T, name string) {
	t.Helper()
	cfg := aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider(gwKey, gwSecret, "")}
	sm := sagemaker.NewFromConfig(cfg, func(o *sagemaker.Options) { o.BaseEndpoint = aws.String(e.endpoint) })
	// The gateway's own key acts in the gateway's account; the profile is
	// in acct, so assume the access role first.
	stsc := sts.NewFromConfig(cfg, func(o *sts.Options) { o.BaseEndpoint = aws.String(e.endpoint) })
	out, err := stsc.AssumeRole(context.Background(), &sts.AssumeRoleInput{RoleArn: aws.String("arn:aws:iam::" + acct + ":role/access"), RoleSessionName: aws.String("admin")})
	if err != nil {
		t.Fatal(err)
	}
	c := out.Credentials
	creds := credentials.NewStaticCredentialsProvider(*c.AccessKeyId, *c.SecretAccessKey, *c.SessionToken)
	if _, err := sm.DeleteUserProfile(context.Background(), &sagemaker.DeleteUserProfileInput{DomainId: aws.String(domain), UserProfileName: aws.String(name)},
		func(o *sagemaker.Options) { o.Credentials = creds }); err != nil {
		t.Fatal(err)
	}
}

func jitTarget() routing.Target {
	return routing.Target{
		ID: "lob-jit", Kind: routing.KindStudio, LOB: "lob-jit", AccountID: acct, Region: "us-east-1",
		DomainID: domain, UserProfile: "dave", RoleARN: "arn:aws:iam::" + acct + ":role/access",
		URLLifetime: 5 * time.Second, JITProfiles: true, ExecutionRole: execRole,
	}
}

func dave() *identity.Principal { return &identity.Principal{Username: "dave@example.com"} }

func ops(log []awssim.CallRecord) []string {
	var out []string
	for _, c := range log {
		op := c.Operation
		if c.Error != "" {
			op += "!" + c.Error
		}
		out = append(out, op)
	}
	return out
}

func TestJITProfileOnFirstLaunch(t *testing.T) {
	e := newSimEnv(t)
	e.sim.SetCreateDelay(5 * time.Second)
	ctx := context.Background()
	if _, err := e.broker.Launch(ctx, dave(), jitTarget()); err != nil {
		t.Fatalf("first launch: %v", err)
	}
	want := []string{"AssumeRole", "DescribeUserProfile!ResourceNotFound", "CreateUserProfile",
		"DescribeUserProfile", "DescribeUserProfile", "DescribeUserProfile", "DescribeUserProfile", "CreatePresignedDomainUrl"}
	if got := ops(e.sim.CallLog()); !slices.Equal(got, want) {
		t.Errorf("calls =\n%q\nwant\n%q", got, want)
	}
	info, ok := e.sim.UserProfile(acct, domain, "dave")
	wantTags := []awssim.Tag{{Key: "sagegate:user", Value: "dave@example.com"}, {Key: "sagegate:lob", Value: "lob-jit"}}
	if !ok || info.Status != awssim.StatusInService || info.ExecutionRole != execRole || !slices.Equal(info.Tags, wantTags) ||
		!strings.Contains(info.CreatedBy, "assumed-role/access/dave@example.com") {
		t.Errorf("created profile = %+v", info)
	}

	// From now on a launch is the presign alone.
	e.sim.ResetCalls()
	if _, err := e.broker.Launch(ctx, dave(), jitTarget()); err != nil {
		t.Fatal(err)
	}
	if got := ops(e.sim.CallLog()); !slices.Equal(got, []string{"CreatePresignedDomainUrl"}) {
		t.Errorf("second launch calls = %q", got)
	}
}

func TestJITExistingProfileIsNotCreated(t *testing.T) {
	e := newSimEnv(t)
	tg := jitTarget()
	tg.UserProfile = "existing"
	if _, err := e.broker.Launch(context.Background(), dave(), tg); err != nil {
		t.Fatal(err)
	}
	if got := ops(e.sim.CallLog()); !slices.Equal(got, []string{"AssumeRole", "DescribeUserProfile", "CreatePresignedDomainUrl"}) {
		t.Errorf("calls = %q", got)
	}
}

// TestJITConcurrentFirstLaunchesCreateOnce holds the creation in its first
// wait while more launches of the same person arrive.
func TestJITConcurrentFirstLaunchesCreateOnce(t *testing.T) {
	e := newSimEnv(t)
	e.sim.SetCreateDelay(2 * time.Second)
	e.sleeps = make(chan time.Duration, 16)
	e.gate = make(chan struct{})
	const launches = 8
	errs := make(chan error, launches)
	launch := func() {
		_, err := e.broker.Launch(context.Background(), dave(), jitTarget())
		errs <- err
	}
	go launch()
	<-e.sleeps // the first launch has created the profile and waits
	for range launches - 1 {
		go launch()
	}
	close(e.gate)
	for range launches {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
	calls := e.sim.Calls()
	if n := calls.Count("sagemaker", "CreateUserProfile", ""); n != 1 {
		t.Errorf("CreateUserProfile called %d times, want 1", n)
	}
	// One creation polled once: every other launch waited on it (or, if it
	// came late, found the profile known) instead of polling on its own.
	if n := calls.Count("sagemaker", "DescribeUserProfile", ""); n != 3 {
		t.Errorf("DescribeUserProfile called %d times, want 3 (not found, pending, in service)", n)
	}
	if n := calls.Count("sagemaker", "CreatePresignedDomainUrl", ""); n != launches {
		t.Errorf("%d presigns, want %d", n, launches)
	}
}

// TestJITWaitHoldsNoAccountSlot: with one call slot for the account, a
// person whose profile exists launches while another person's new profile
// is still being waited for. The slot covers each AWS call, not the wait
// between polls, so a burst of new people cannot turn everyone away.
func TestJITWaitHoldsNoAccountSlot(t *testing.T) {
	e := newSimEnvWith(t, func(o *broker.Options) { o.MaxConcurrentPerAccount = 1 })
	e.sim.SetCreateDelay(2 * time.Second)
	e.sleeps = make(chan time.Duration, 4)
	e.gate = make(chan struct{})
	first := make(chan error, 1)
	go func() {
		_, err := e.broker.Launch(context.Background(), dave(), jitTarget())
		first <- err
	}()
	<-e.sleeps // dave's profile is created, Pending, and his launch waits to poll
	tg := jitTarget()
	tg.UserProfile = "existing"
	if _, err := e.broker.Launch(context.Background(), &identity.Principal{Username: "erin@example.com"}, tg); err != nil {
		t.Errorf("launch while another profile is being created: %v", err)
	}
	close(e.gate)
	if err := <-first; err != nil {
		t.Fatalf("launch that created the profile: %v", err)
	}
	if n := e.sim.Calls().Count("sagemaker", "CreatePresignedDomainUrl", ""); n != 2 {
		t.Errorf("%d presigns, want 2", n)
	}
}

func TestJITStillPendingAnswers503(t *testing.T) {
	e := newSimEnv(t)
	e.sim.SetCreateDelay(4 * time.Minute) // within SigV4's 5 min of clock skew
	e.stopAfter = 3
	_, err := e.broker.Launch(context.Background(), dave(), jitTarget())
	pe := problem.From(err)
	if pe.Status != http.StatusServiceUnavailable || pe.Code != broker.CodeProfilePending || pe.RetryAfter <= 0 || !strings.Contains(pe.Detail, `"dave" is still being created`) {
		t.Fatalf("error = %+v", pe)
	}
	// The next launch, once AWS is done, waits no more and creates nothing.
	e.stopAfter = 0
	e.clock.Advance(4 * time.Minute)
	e.sim.ResetCalls()
	if _, err := e.broker.Launch(context.Background(), dave(), jitTarget()); err != nil {
		t.Fatal(err)
	}
	if got := ops(e.sim.CallLog()); !slices.Equal(got, []string{"DescribeUserProfile", "CreatePresignedDomainUrl"}) {
		t.Errorf("calls = %q", got)
	}
}

func TestJITPrivateSpace(t *testing.T) {
	e := newSimEnv(t)
	tg := jitTarget()
	tg.PrivateSpace, tg.Space = true, tg.UserProfile
	if _, err := e.broker.Launch(context.Background(), dave(), tg); err != nil {
		t.Fatal(err)
	}
	sp, ok := e.sim.CreatedSpace(acct, domain, "dave")
	if !ok || sp.OwnerProfile != "dave" || sp.Status != awssim.StatusInService || len(sp.Tags) != 2 {
		t.Errorf("space = %+v, %v", sp, ok)
	}
	log := e.sim.CallLog()
	if last := log[len(log)-1]; last.Operation != "CreatePresignedDomainUrl" || last.Space != "dave" || last.Error != "" {
		t.Errorf("presign = %+v", last)
	}
}

func TestJITDenied(t *testing.T) {
	e := newSimEnv(t)
	e.sim.InjectFault(awssim.Fault{Operation: "CreateUserProfile", Code: "AccessDeniedException", Message: "not allowed"})
	_, err := e.broker.Launch(context.Background(), dave(), jitTarget())
	pe := problem.From(err)
	if pe.Status != http.StatusBadGateway || pe.Code != problem.CodeAWSAccessDenied || !strings.Contains(pe.Detail, "sagemaker:CreateUserProfile") {
		t.Fatalf("error = %+v", pe)
	}
}

func TestNoJITMissingProfileIs404(t *testing.T) {
	e := newSimEnv(t)
	tg := jitTarget()
	tg.JITProfiles = false
	_, err := e.broker.Launch(context.Background(), dave(), tg)
	if pe := problem.From(err); pe.Status != http.StatusNotFound {
		t.Fatalf("error = %+v", pe)
	}
	if n := e.sim.Calls().Count("sagemaker", "CreateUserProfile", ""); n != 0 {
		t.Errorf("created a profile for a LOB without jitProfiles")
	}
}

func TestDomainDiscovery(t *testing.T) {
	var domains []awssim.Domain
	// 150 domains: ListDomains pages at 100, and the InService one is on
	// the second page.
	for i := range 149 {
		domains = append(domains, awssim.Domain{ID: fmt.Sprintf("d-pending%05d", i), Status: "Pending"})
	}
	domains = append(domains, awssim.Domain{ID: "d-theone000001", Name: "the-one", UserProfiles: []string{"dave"}})
	e := newSimEnv(t, domains...)
	tg := jitTarget()
	tg.DomainID, tg.JITProfiles = "", false
	ctx := context.Background()
	for range 2 {
		if _, err := e.broker.Launch(ctx, dave(), tg); err != nil {
			t.Fatal(err)
		}
	}
	if got := ops(e.sim.CallLog()); !slices.Equal(got, []string{"AssumeRole", "ListDomains", "ListDomains", "CreatePresignedDomainUrl", "CreatePresignedDomainUrl"}) {
		t.Errorf("calls = %q, want discovery once", got)
	}
	if last := e.sim.CallLog()[4]; last.DomainID != "d-theone000001" {
		t.Errorf("launched into %s", last.DomainID)
	}
	d, err := e.broker.Domain(ctx, &identity.Principal{Username: "sagegate-check"}, tg)
	if err != nil || d != (broker.Domain{ID: "d-theone000001", Name: "the-one", Status: "InService", AuthMode: "IAM", Discovered: true}) {
		t.Errorf("Domain = %+v, %v", d, err)
	}
}

func TestDomainDiscoveryRefusesToGuess(t *testing.T) {
	tests := []struct {
		name     string
		domains  []awssim.Domain
		code     string
		mentions []string
	}{
		{"two InService", []awssim.Domain{{ID: "d-first0000001", Name: "a"}, {ID: "d-second000001", Name: "b"}, {ID: "d-third0000001", Status: "Failed"}},
			broker.CodeDomainAmbiguous, []string{"d-first0000001 (a, InService)", "d-second000001 (b, InService)", "Set the LOB's domain id"}},
		{"none InService", []awssim.Domain{{ID: "d-pending00001", Name: "p", Status: "Pending"}},
			broker.CodeDomainNotFound, []string{"d-pending00001 (p, Pending)"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newSimEnv(t, tc.domains...)
			tg := jitTarget()
			tg.DomainID = ""
			_, err := e.broker.Launch(context.Background(), dave(), tg)
			pe := problem.From(err)
			if pe.Code != tc.code || pe.Status != http.StatusBadGateway {
				t.Fatalf("error = %+v", pe)
			}
			for _, m := range tc.mentions {
				if !strings.Contains(pe.Detail, m) {
					t.Errorf("detail %q does not mention %q", pe.Detail, m)
				}
			}
			if n := e.sim.Calls().Count("sagemaker", "CreatePresignedDomainUrl", ""); n != 0 {
				t.Errorf("presigned anyway")
			}
		})
	}
}

func TestUserProfilesListing(t *testing.T) {
	e := newSimEnv(t)
	got, err := e.broker.UserProfiles(context.Background(), &identity.Principal{Username: "sagegate-check"}, jitTarget(), domain)
	if err != nil || len(got) != 1 || got["existing"] != "InService" {
		t.Errorf("UserProfiles = %v, %v", got, err)
	}
	_, err = e.broker.UserProfiles(context.Background(), &identity.Principal{Username: "sagegate-check"}, jitTarget(), "d-nosuchdomain1")
	var pe *problem.Error
	if errors.As(err, &pe) && pe.Status < 400 {
		t.Errorf("UserProfiles of a missing domain: %v", err)
	}
}

// TestJITProfileDeletedIsCreatedAgain: a profile deleted behind sagegate's
// back fails one launch (the presign finds nothing), and the next launch
// creates it again instead of trusting its memory for the rest of the hour.
func TestJITProfileDeletedIsCreatedAgain(t *testing.T) {
	e := newSimEnv(t)
	ctx := context.Background()
	if _, err := e.broker.Launch(ctx, dave(), jitTarget()); err != nil {
		t.Fatal(err)
	}
	e.sim.ResetCalls()
	e.deleteProfile(t, "dave")
	if _, err := e.broker.Launch(ctx, dave(), jitTarget()); problem.From(err).Status != http.StatusNotFound {
		t.Fatalf("launch after deletion: %v, want 404", err)
	}
	if _, err := e.broker.Launch(ctx, dave(), jitTarget()); err != nil {
		t.Fatalf("launch after that: %v", err)
	}
	if n := e.sim.Calls().Count("sagemaker", "CreateUserProfile", ""); n != 1 {
		t.Errorf("CreateUserProfile called %d times after the deletion, want 1", n)
	}
}

// TestDiscoveredDomainReplaced: when the discovered domain goes away and
// another takes its place, one launch fails and the next finds the new one.
func TestDiscoveredDomainReplaced(t *testing.T) {
	e := newSimEnv(t, awssim.Domain{ID: "d-firstdomain1", UserProfiles: []string{"dave"}})
	tg := jitTarget()
	tg.DomainID, tg.JITProfiles = "", false
	ctx := context.Background()
	if _, err := e.broker.Launch(ctx, dave(), tg); err != nil {
		t.Fatal(err)
	}
	e.sim.AddAccount(awssim.Account{ID: acct, Roles: []awssim.Role{{Name: "access"}},
		Domains: []awssim.Domain{{ID: "d-seconddomain", UserProfiles: []string{"dave"}}}})
	if _, err := e.broker.Launch(ctx, dave(), tg); problem.From(err).Status != http.StatusNotFound {
		t.Fatalf("launch into the vanished domain: %v, want 404", err)
	}
	if _, err := e.broker.Launch(ctx, dave(), tg); err != nil {
		t.Fatalf("launch after rediscovery: %v", err)
	}
	log := e.sim.CallLog()
	if last := log[len(log)-1]; last.DomainID != "d-seconddomain" || last.Error != "" {
		t.Errorf("last call = %+v", last)
	}
}
