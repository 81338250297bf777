package server

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sagegate/sagegate/internal/audit"
	"github.com/sagegate/sagegate/internal/metrics"
	"github.com/sagegate/sagegate/internal/ratelimit"
	"github.com/sagegate/sagegate/internal/testutil"
)

type recordingSink struct {
	mu     sync.Mutex
	events []audit.Event
}

func (r *recordingSink) Record(_ context.Context, e audit.Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, e)
}

func TestPerUserLaunchLimit(t *testing.T) {
	clock := testutil.NewClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	sink := &recordingSink{}
	l := &fakeLauncher{url: "https://d-abc.studio.us-east-1.sagemaker.aws/auth?token=x"}
	m := metrics.New()
	s := testServer(t, Options{Resolver: oneStudio(), Launcher: l, Audit: sink, Now: clock.Now,
		LaunchLimiter: ratelimit.New(1, 2, 100, clock.Now), Metrics: m})
	for i := 0; i < 2; i++ {
		if rec := serve(s, "/studio", "alice"); rec.Code != http.StatusFound {
			t.Fatalf("launch %d: %d", i, rec.Code)
		}
	}
	rec := serve(s, "/launch/lob-a", "alice")
	if rec.Code != http.StatusTooManyRequests || rec.Header().Get("Retry-After") != "1" || !strings.Contains(rec.Body.String(), "rate_limited") {
		t.Fatalf("third launch: %d %v %s", rec.Code, rec.Header(), rec.Body)
	}
	if rec := serve(s, "/studio", "bob"); rec.Code != http.StatusFound {
		t.Errorf("bob limited by alice: %d", rec.Code)
	}
	// Listing targets costs no AWS call and is not limited.
	if rec := serve(s, "/api/v1/targets", "alice"); rec.Code != http.StatusOK {
		t.Errorf("targets: %d", rec.Code)
	}
	last := sink.events[len(sink.events)-2]
	if last.User != "alice" || last.Outcome != audit.Denied || last.ErrorCode != "rate_limited" {
		t.Errorf("audit of the refusal = %+v", last)
	}
	clock.Advance(time.Second)
	if rec := serve(s, "/studio", "alice"); rec.Code != http.StatusFound {
		t.Errorf("after a second: %d", rec.Code)
	}
	// The refusal and launches are visible in /metrics.
	mrec := httptest.NewRecorder()
	s.ServeHTTP(mrec, httptest.NewRequest("GET", "/metrics", nil))
	body := mrec.Body.String()
	for _, want := range []string{`sagegate_rejected_total{reason="user_rate"} 1`, `sagegate_launch_duration_seconds_count{kind="studio",outcome="granted"} 4`, `sagegate_http_requests_total{code="429"} 1`} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}

func TestInFlightCap(t *testing.T) {
	l := &fakeLauncher{entered: make(chan struct{}), release: make(chan struct{})}
	s := testServer(t, Options{Resolver: oneStudio(), Launcher: l, MaxInFlight: 1})
	l.url = "https://d-abc.studio.us-east-1.sagemaker.aws/auth?token=x"
	done := make(chan int)
	go func() { done <- serve(s, "/studio", "alice").Code }()
	<-l.entered
	rec := serve(s, "/healthz", "")
	if rec.Code != http.StatusServiceUnavailable || rec.Header().Get("Retry-After") == "" {
		t.Errorf("second request while full: %d", rec.Code)
	}
	close(l.release)
	if code := <-done; code != http.StatusFound {
		t.Errorf("first request: %d", code)
	}
	if rec := serve(s, "/healthz", ""); rec.Code != http.StatusOK {
		t.Errorf("after the first finished: %d", rec.Code)
	}
}

func TestInputLimits(t *testing.T) {
	s := newTestServer(t, &fakeLauncher{}, oneStudio())
	rec := serve(s, "/launch/"+strings.Repeat("a", 9000), "alice")
	if rec.Code != http.StatusRequestURITooLong {
		t.Errorf("long URL: %d", rec.Code)
	}
}
