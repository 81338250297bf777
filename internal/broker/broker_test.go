package broker

import (
	"context"
	"errors"
	"net/http"
	"regexp"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sagemaker"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	ststypes "github.com/aws/aws-sdk-go-v2/service/sts/types"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/sagegate/sagegate/internal/identity"
	"github.com/sagegate/sagegate/internal/problem"
	"github.com/sagegate/sagegate/internal/routing"
	"github.com/sagegate/sagegate/internal/testutil"
)

// fakeSTS issues credentials valid for ttl and records every call.
type fakeSTS struct {
	mu      sync.Mutex
	calls   []*sts.AssumeRoleInput
	now     func() time.Time
	ttl     time.Duration
	err     error
	gate    chan struct{} // when set, AssumeRole blocks until it is closed
	entered chan struct{} // when set, closed by the first call
	once    sync.Once
	called  chan int // when set, receives the call number of every call
}

func (f *fakeSTS) AssumeRole(ctx context.Context, in *sts.AssumeRoleInput, _ ...func(*sts.Options)) (*sts.AssumeRoleOutput, error) {
	f.mu.Lock()
	f.calls = append(f.calls, in)
	n := len(f.calls)
	f.mu.Unlock()
	if f.entered != nil {
		f.once.Do(func() { close(f.entered) })
	}
	if f.called != nil {
		f.called <- n
	}
	if f.gate != nil {
		<-f.gate
	}
	if f.err != nil {
		return nil, f.err
	}
	return &sts.AssumeRoleOutput{Credentials: &ststypes.Credentials{
		AccessKeyId:     aws.String("ASIA" + string(rune('A'+n))),
		SecretAccessKey: aws.String("secret"),
		SessionToken:    aws.String("token"),
		Expiration:      aws.Time(f.now().Add(f.ttl)),
	}}, nil
}

func (f *fakeSTS) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.calls)
}

type fakeSM struct {
	calls atomic.Int32
	last  atomic.Pointer[sagemaker.CreatePresignedDomainUrlInput]
	err   error
}

func (f *fakeSM) CreatePresignedDomainUrl(ctx context.Context, in *sagemaker.CreatePresignedDomainUrlInput, _ ...func(*sagemaker.Options)) (*sagemaker.CreatePresignedDomainUrlOutput, error) {
	f.calls.Add(1)
	f.last.Store(in)
	if f.err != nil {
		return nil, f.err
	}
	return &sagemaker.CreatePresignedDomainUrlOutput{AuthorizedUrl: aws.String("https://" + *in.DomainId + ".studio.us-east-1.sagemaker.aws/auth?token=t")}, nil
}

func target() routing.Target {
	return routing.Target{
		ID: "lob-a", Kind: routing.KindStudio, AccountID: "111111111111", Region: "us-east-1",
		DomainID: "d-abc123", UserProfile: "alice", RoleARN: "arn:aws:iam::111111111111:role/access",
		ExternalID: "ext-1", SessionDuration: 12 * time.Hour, URLLifetime: 5 * time.Second,
	}
}

func newTestBroker(st *fakeSTS, sm *fakeSM, c *testutil.Clock) *Broker {
	return New(aws.Config{Region: "us-east-1"}, Options{
		STS: st, NewSageMaker: func(string) SageMakerAPI { return sm }, Now: c.Now,
	})
}

func TestLaunchAssumesOncePerUserAndStampsIdentity(t *testing.T) {
	c := testutil.NewClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	st := &fakeSTS{now: c.Now, ttl: time.Hour}
	sm := &fakeSM{}
	b := newTestBroker(st, sm, c)
	alice := &identity.Principal{Username: "alice@example.com"}
	bob := &identity.Principal{Username: "bob"}

	for i := 0; i < 3; i++ {
		for _, p := range []*identity.Principal{alice, bob} {
			res, err := b.Launch(context.Background(), p, target())
			if err != nil {
				t.Fatal(err)
			}
			if want := c.Now().Add(5 * time.Second); !res.ExpiresAt.Equal(want) {
				t.Errorf("ExpiresAt = %v, want %v", res.ExpiresAt, want)
			}
			if res.CredentialsCached != (i > 0) {
				t.Errorf("launch %d for %s: CredentialsCached = %v", i, p.Username, res.CredentialsCached)
			}
		}
	}
	if got := st.count(); got != 2 {
		t.Fatalf("AssumeRole calls = %d, want 2 (one per user)", got)
	}
	if got := sm.calls.Load(); got != 6 {
		t.Fatalf("presign calls = %d, want 6", got)
	}
	first := st.calls[0]
	if *first.SourceIdentity != "alice@example.com" || *first.RoleSessionName != "alice@example.com" {
		t.Errorf("session = %q / %q, want the username", *first.RoleSessionName, *first.SourceIdentity)
	}
	if *first.ExternalId != "ext-1" || *first.RoleArn != target().RoleARN {
		t.Errorf("AssumeRole input = %+v", first)
	}
	in := sm.last.Load()
	if *in.ExpiresInSeconds != 5 || *in.SessionExpirationDurationInSeconds != 43200 || in.SpaceName != nil || in.LandingUri != nil {
		t.Errorf("presign input = %+v", in)
	}
}

func TestConcurrentFirstLaunchesShareOneAssumeRole(t *testing.T) {
	c := testutil.NewClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	st := &fakeSTS{now: c.Now, ttl: time.Hour, gate: make(chan struct{}), entered: make(chan struct{})}
	sm := &fakeSM{}
	b := newTestBroker(st, sm, c)
	p := &identity.Principal{Username: "alice"}
	const n = 20
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := b.Launch(context.Background(), p, target())
			errs <- err
		}()
	}
	// Release STS only once the first call is in flight; every other
	// launch is then either queued on it or finds the cache filled.
	<-st.entered
	close(st.gate)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if st.count() != 1 {
		t.Fatalf("AssumeRole calls = %d, want 1", st.count())
	}
	if sm.calls.Load() != n {
		t.Fatalf("presign calls = %d, want %d", sm.calls.Load(), n)
	}
}

func TestLaunchPassesSpaceAndLandingURI(t *testing.T) {
	c := testutil.NewClock(time.Now())
	sm := &fakeSM{}
	b := newTestBroker(&fakeSTS{now: c.Now, ttl: time.Hour}, sm, c)
	tg := target()
	tg.Space, tg.LandingURI, tg.URLLifetime, tg.SessionDuration = "my-space", "app:JupyterLab:/lab", 30*time.Second, 0
	if _, err := b.Launch(context.Background(), &identity.Principal{Username: "a1"}, tg); err != nil {
		t.Fatal(err)
	}
	in := sm.last.Load()
	if *in.SpaceName != "my-space" || *in.LandingUri != "app:JupyterLab:/lab" || *in.ExpiresInSeconds != 30 || in.SessionExpirationDurationInSeconds != nil {
		t.Errorf("presign input = %+v", in)
	}
}

func apiErr(code string) error {
	return &smithy.GenericAPIError{Code: code, Message: "m"}
}

func TestErrorMapping(t *testing.T) {
	cases := []struct {
		name      string
		stsErr    error
		smErr     error
		status    int
		code      string
		retry     bool
		mentions  string
		forgotten bool
	}{
		{name: "profile missing", smErr: apiErr("ResourceNotFound"), status: http.StatusNotFound, code: problem.CodeAWSNotFound, mentions: "d-abc123"},
		{name: "throttled presign", smErr: apiErr("ThrottlingException"), status: http.StatusServiceUnavailable, code: problem.CodeAWSThrottled, retry: true},
		{name: "throttled sts", stsErr: apiErr("Throttling"), status: http.StatusServiceUnavailable, code: problem.CodeAWSThrottled, retry: true},
		{name: "sts denied", stsErr: apiErr("AccessDenied"), status: http.StatusBadGateway, code: problem.CodeAWSAccessDenied, mentions: "arn:aws:iam::111111111111:role/access"},
		{name: "presign denied", smErr: apiErr("AccessDeniedException"), status: http.StatusBadGateway, code: problem.CodeAWSAccessDenied, mentions: "arn:aws:iam::111111111111:role/access", forgotten: true},
		{name: "expired session", smErr: apiErr("ExpiredTokenException"), status: http.StatusBadGateway, code: problem.CodeAWSAccessDenied, forgotten: true},
		{name: "validation", smErr: apiErr("ValidationException"), status: http.StatusBadGateway, code: problem.CodeAWSError},
		{name: "timeout", smErr: context.DeadlineExceeded, status: http.StatusGatewayTimeout, code: problem.CodeAWSTimeout},
		{name: "network", smErr: errors.New("dial tcp: connection refused"), status: http.StatusServiceUnavailable, code: CodeAWSUnavailable, retry: true},
		{name: "server error", smErr: &smithyhttp.ResponseError{Response: &smithyhttp.Response{Response: &http.Response{StatusCode: 500}}, Err: apiErr("InternalFailure")}, status: http.StatusServiceUnavailable, code: CodeAWSUnavailable, retry: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := testutil.NewClock(time.Now())
			st := &fakeSTS{now: c.Now, ttl: time.Hour, err: tc.stsErr}
			b := newTestBroker(st, &fakeSM{err: tc.smErr}, c)
			p := &identity.Principal{Username: "alice"}
			_, err := b.Launch(context.Background(), p, target())
			pe := problem.From(err)
			if pe.Status != tc.status || pe.Code != tc.code {
				t.Fatalf("got %d %s (%v), want %d %s", pe.Status, pe.Code, err, tc.status, tc.code)
			}
			if (pe.RetryAfter > 0) != tc.retry {
				t.Errorf("RetryAfter = %v", pe.RetryAfter)
			}
			if tc.mentions != "" && !regexp.MustCompile(regexp.QuoteMeta(tc.mentions)).MatchString(pe.Detail) {
				t.Errorf("detail %q does not name %q", pe.Detail, tc.mentions)
			}
			if tc.stsErr == nil {
				before := st.count()
				_, _ = b.Launch(context.Background(), p, target())
				reassumed := st.count() > before
				if reassumed != tc.forgotten {
					t.Errorf("credentials re-assumed after error = %v, want %v", reassumed, tc.forgotten)
				}
			}
		})
	}
}

func TestSTSName(t *testing.T) {
	valid := regexp.MustCompile(`^[\w+=,.@-]{2,64}$`)
	cases := map[string]string{
		"alice@example.com": "alice@example.com",
		"user-lob-a":        "user-lob-a",
	}
	for in, want := range cases {
		if got := stsName(in); got != want {
			t.Errorf("stsName(%q) = %q, want %q", in, got, want)
		}
	}
	seen := map[string]string{}
	for _, in := range []string{"a", "", "a b", "a-b", "a/b", "x:y", "élodie", string(make([]byte, 100)), "averyveryveryveryveryveryveryveryveryveryveryveryverylongname@example.com"} {
		got := stsName(in)
		if !valid.MatchString(got) {
			t.Errorf("stsName(%q) = %q is not a valid session name", in, got)
		}
		if other, dup := seen[got]; dup {
			t.Errorf("stsName collision: %q and %q -> %q", in, other, got)
		}
		seen[got] = in
		if stsName(in) != got {
			t.Errorf("stsName(%q) not deterministic", in)
		}
	}
}
