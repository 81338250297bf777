package broker

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/sagegate/sagegate/internal/identity"
	"github.com/sagegate/sagegate/internal/problem"
	"github.com/sagegate/sagegate/internal/testutil"
)

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func launchOK(t *testing.T, b *Broker, user string) Result {
	t.Helper()
	res, err := b.Launch(context.Background(), &identity.Principal{Username: user}, target())
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// Within the refresh-ahead window a launch uses the cached credentials and
// a background AssumeRole replaces them; nobody waits on STS.
func TestCredentialsRefreshAheadInBackground(t *testing.T) {
	c := testutil.NewClock(t0)
	st := &fakeSTS{now: c.Now, ttl: time.Hour, called: make(chan int, 10)}
	b := newTestBroker(st, &fakeSM{}, c)
	refreshed := make(chan struct{}, 1)
	b.afterRefresh = func() { refreshed <- struct{}{} }
	launchOK(t, b, "alice")
	<-st.called

	c.Advance(40 * time.Minute) // 20 minutes left: nothing to do yet
	if res := launchOK(t, b, "alice"); !res.CredentialsCached {
		t.Fatal("fresh credentials were not served from cache")
	}
	c.Advance(10 * time.Minute) // 10 minutes left: refresh ahead
	if res := launchOK(t, b, "alice"); !res.CredentialsCached {
		t.Fatal("the launch waited on STS inside the refresh-ahead window")
	}
	if n := <-st.called; n != 2 {
		t.Fatalf("background refresh was call %d, want 2", n)
	}
	<-refreshed
	// The refreshed credentials are the ones used from now on, and they
	// are good for another hour.
	c.Advance(30 * time.Minute)
	if res := launchOK(t, b, "alice"); !res.CredentialsCached {
		t.Fatal("refreshed credentials not used")
	}
	if st.count() != 2 {
		t.Errorf("AssumeRole calls = %d, want 2", st.count())
	}
}

// Too close to expiry the cached credentials are not trusted: the launch
// assumes the role itself.
func TestCredentialsTooCloseToExpiryAreReplacedSynchronously(t *testing.T) {
	c := testutil.NewClock(t0)
	st := &fakeSTS{now: c.Now, ttl: time.Hour}
	b := newTestBroker(st, &fakeSM{}, c)
	launchOK(t, b, "alice")
	c.Advance(57 * time.Minute)
	if res := launchOK(t, b, "alice"); res.CredentialsCached {
		t.Fatal("credentials 3 minutes from expiry were used")
	}
	if st.count() != 2 {
		t.Errorf("AssumeRole calls = %d, want 2", st.count())
	}
}

func TestSweepKeepsOnlyActivePeopleWarm(t *testing.T) {
	c := testutil.NewClock(t0)
	st := &fakeSTS{now: c.Now, ttl: time.Hour, called: make(chan int, 10)}
	b := New(aws.Config{}, Options{STS: st, NewSageMaker: func(string) SageMakerAPI { return &fakeSM{} }, Now: c.Now, KeepWarm: 30 * time.Minute})
	launchOK(t, b, "idle")
	<-st.called
	launchOK(t, b, "active")
	<-st.called
	c.Advance(40 * time.Minute) // 20 minutes left: a launch just uses them
	launchOK(t, b, "active")
	c.Advance(10 * time.Minute) // both have 10 minutes left; idle unused for 50
	refreshed := make(chan struct{}, 1)
	b.afterRefresh = func() { refreshed <- struct{}{} }
	if n := b.creds.sweep(); n != 1 {
		t.Fatalf("sweep scheduled %d refreshes, want 1 (only the active person)", n)
	}
	<-st.called
	<-refreshed
	if got := *st.calls[2].SourceIdentity; got != "active" {
		t.Errorf("refreshed %q, want active", got)
	}
}

func TestBreakerOpensOnRepeatedUnhealthyFailuresAndProbes(t *testing.T) {
	c := testutil.NewClock(t0)
	sm := &fakeSM{err: apiErr("ThrottlingException")}
	b := newTestBroker(&fakeSTS{now: c.Now, ttl: time.Hour}, sm, c)
	p := &identity.Principal{Username: "alice"}
	for i := 0; i < 5; i++ {
		_, err := b.Launch(context.Background(), p, target())
		if problem.From(err).Code != problem.CodeAWSThrottled {
			t.Fatalf("launch %d: %v", i, err)
		}
	}
	_, err := b.Launch(context.Background(), p, target())
	pe := problem.From(err)
	if pe.Status != http.StatusServiceUnavailable || pe.Code != CodeAWSUnavailable || pe.RetryAfter <= 0 {
		t.Fatalf("open breaker: %d %s retry=%v", pe.Status, pe.Code, pe.RetryAfter)
	}
	if sm.calls.Load() != 5 {
		t.Fatalf("presign calls = %d: the open breaker let a call through", sm.calls.Load())
	}

	// After the cooldown one probe goes through; its success closes it.
	c.Advance(11 * time.Second)
	sm.err = nil
	launchOK(t, b, "alice")
	launchOK(t, b, "alice")
	if sm.calls.Load() != 7 {
		t.Errorf("presign calls = %d, want 7", sm.calls.Load())
	}
}

// Each launch of a new person assumes a role (STS answers) before its
// presign fails: STS answering must not reset the count, or the breaker
// would never open while people without cached credentials keep coming.
func TestBreakerOpensWhileNewPeopleAssumeRoles(t *testing.T) {
	c := testutil.NewClock(t0)
	sm := &fakeSM{err: apiErr("ThrottlingException")}
	b := newTestBroker(&fakeSTS{now: c.Now, ttl: time.Hour}, sm, c)
	for i := range 5 {
		_, err := b.Launch(context.Background(), &identity.Principal{Username: fmt.Sprintf("user%d", i)}, target())
		if problem.From(err).Code != problem.CodeAWSThrottled {
			t.Fatalf("launch %d: %v", i, err)
		}
	}
	_, err := b.Launch(context.Background(), &identity.Principal{Username: "newcomer"}, target())
	if pe := problem.From(err); pe.Code != CodeAWSUnavailable {
		t.Fatalf("after 5 failing presigns: %d %s, want the open breaker", pe.Status, pe.Code)
	}
	if sm.calls.Load() != 5 {
		t.Errorf("presign calls = %d: the open breaker let a call through", sm.calls.Load())
	}
}

func TestBreakerIgnoresCallerAndConfigErrors(t *testing.T) {
	c := testutil.NewClock(t0)
	sm := &fakeSM{err: apiErr("ResourceNotFound")}
	b := newTestBroker(&fakeSTS{now: c.Now, ttl: time.Hour}, sm, c)
	for i := 0; i < 8; i++ {
		_, err := b.Launch(context.Background(), &identity.Principal{Username: "alice"}, target())
		if problem.From(err).Code != problem.CodeAWSNotFound {
			t.Fatalf("launch %d: %v (a missing profile must never open the breaker)", i, err)
		}
	}
}

func TestAccountConcurrencyCap(t *testing.T) {
	c := testutil.NewClock(t0)
	st := &fakeSTS{now: c.Now, ttl: time.Hour, gate: make(chan struct{}), entered: make(chan struct{})}
	b := New(aws.Config{}, Options{STS: st, NewSageMaker: func(string) SageMakerAPI { return &fakeSM{} }, Now: c.Now,
		MaxConcurrentPerAccount: 1, QueueWait: 20 * time.Millisecond})
	first := make(chan error, 1)
	go func() {
		_, err := b.Launch(context.Background(), &identity.Principal{Username: "alice"}, target())
		first <- err
	}()
	<-st.entered // alice holds the account's only slot
	_, err := b.Launch(context.Background(), &identity.Principal{Username: "bob"}, target())
	pe := problem.From(err)
	if pe.Status != http.StatusTooManyRequests || pe.Code != CodeAccountBusy || pe.RetryAfter <= 0 {
		t.Fatalf("second launch: %d %s", pe.Status, pe.Code)
	}
	close(st.gate)
	if err := <-first; err != nil {
		t.Fatal(err)
	}
	// Another account is not affected by this one's cap.
	other := target()
	other.AccountID = "222222222222"
	if _, err := b.Launch(context.Background(), &identity.Principal{Username: "bob"}, other); err != nil {
		t.Fatal(err)
	}
}

func TestClassify(t *testing.T) {
	live := context.Background()
	gone, cancel := context.WithCancel(context.Background())
	cancel()
	serverErr := &smithyhttp.ResponseError{Response: &smithyhttp.Response{Response: &http.Response{StatusCode: 503}}, Err: errors.New("x")}
	cases := []struct {
		name string
		ctx  context.Context
		err  error
		want outcome
	}{
		{"success", live, nil, healthy},
		{"throttled", live, apiErr("ThrottlingException"), unhealthy},
		{"deadline", live, context.DeadlineExceeded, unhealthy},
		{"5xx", live, serverErr, unhealthy},
		{"unreachable", live, errors.New("dial tcp: connection refused"), unhealthy},
		{"not found", live, apiErr("ResourceNotFound"), healthy},
		{"denied", live, apiErr("AccessDenied"), healthy},
		{"caller gone", gone, context.Canceled, neutral},
	}
	for _, tc := range cases {
		if got := classify(tc.ctx, tc.err); got != tc.want {
			t.Errorf("%s: classify = %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestBackoffIsBoundedAndJittered(t *testing.T) {
	seen := map[time.Duration]bool{}
	for attempt := 0; attempt < 10; attempt++ {
		for i := 0; i < 50; i++ {
			d, _ := fullJitter{}.BackoffDelay(attempt, nil)
			if d <= 0 || d > retryCap+time.Millisecond {
				t.Fatalf("attempt %d: delay %v out of bounds", attempt, d)
			}
			seen[d] = true
		}
	}
	if len(seen) < 100 {
		t.Errorf("only %d distinct delays in 500: not jittered", len(seen))
	}
}

// Every AWS call maps transient failures alike: the notebook and profile
// calls (studioError) answer as a launch does.
func TestStudioCallsMapTransientFailuresLikeLaunches(t *testing.T) {
	live := context.Background()
	gone, cancel := context.WithCancel(context.Background())
	cancel()
	serverErr := &smithyhttp.ResponseError{Response: &smithyhttp.Response{Response: &http.Response{StatusCode: 500}}, Err: apiErr("InternalFailure")}
	cases := []struct {
		name   string
		ctx    context.Context
		err    error
		status int
		code   string
		retry  bool
	}{
		{"server error", live, serverErr, http.StatusServiceUnavailable, CodeAWSUnavailable, true},
		{"unreachable", live, errors.New("dial tcp: connection refused"), http.StatusServiceUnavailable, CodeAWSUnavailable, true},
		{"throttled", live, apiErr("ThrottlingException"), http.StatusServiceUnavailable, problem.CodeAWSThrottled, true},
		{"deadline", live, context.DeadlineExceeded, http.StatusGatewayTimeout, problem.CodeAWSTimeout, false},
		{"caller gone", gone, context.Canceled, 499, "client_closed_request", false},
		{"denied", live, apiErr("AccessDeniedException"), http.StatusBadGateway, problem.CodeAWSAccessDenied, false},
		{"refused", live, apiErr("ValidationException"), http.StatusBadGateway, problem.CodeAWSError, false},
	}
	for _, tc := range cases {
		for name, err := range map[string]error{
			"studio": studioError(tc.ctx, tc.err, "starting notebook nb", "sagemaker:StartNotebookInstance", target()),
			"launch": mapAWSError(tc.ctx, tc.err, stepPresign, target()),
		} {
			pe := problem.From(err)
			if tc.name == "denied" && name == "launch" {
				continue // launches name the presign permission; checked elsewhere
			}
			if pe.Status != tc.status || pe.Code != tc.code || (pe.RetryAfter > 0) != tc.retry {
				t.Errorf("%s, %s: %d %s retry=%v, want %d %s retry=%v", tc.name, name, pe.Status, pe.Code, pe.RetryAfter, tc.status, tc.code, tc.retry)
			}
		}
	}
}
