package server

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/sagegate/sagegate/internal/broker"
	"github.com/sagegate/sagegate/internal/identity"
	"github.com/sagegate/sagegate/internal/problem"
	"github.com/sagegate/sagegate/internal/routing"
)

// The AWS side is faked here; the full path with the real SDK and the
// simulator is tested in package gateway.
type fakeVerifier struct{}

func (fakeVerifier) Verify(_ context.Context, raw string) (*identity.Principal, error) {
	if raw == "panic" {
		panic("boom")
	}
	return &identity.Principal{Username: raw}, nil
}

// oneStudio routes everyone to a single studio, lob-a.
func oneStudio() listResolver {
	return listResolver{ts: []routing.Target{{ID: "lob-a", Kind: routing.KindStudio, AccountID: "111111111111"}}}
}

type fakeLauncher struct {
	err     error
	url     string
	entered chan struct{}
	release chan struct{}
}

func (f *fakeLauncher) Launch(ctx context.Context, _ *identity.Principal, _ routing.Target) (broker.Result, error) {
	if f.entered != nil {
		close(f.entered)
		<-f.release
	}
	return broker.Result{URL: f.url, ExpiresAt: time.Now()}, f.err
}

// testServer is New with the fakes above wherever opts leaves a gap.
func testServer(t *testing.T, opts Options) *Server {
	t.Helper()
	if opts.Verifier == nil {
		opts.Verifier = fakeVerifier{}
	}
	if opts.Launcher == nil {
		opts.Launcher = &fakeLauncher{url: "https://d-a.studio.us-east-1.sagemaker.aws/auth?token=x"}
	}
	s, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func newTestServer(t *testing.T, l *fakeLauncher, r listResolver) *Server {
	t.Helper()
	if l.url == "" {
		l.url = "https://d-abc.studio.us-east-1.sagemaker.aws/auth?token=x"
	}
	return testServer(t, Options{Resolver: r, Launcher: l})
}

func serve(s http.Handler, path, token string, hdr ...string) *httptest.ResponseRecorder {
	req := httptest.NewRequest("GET", path, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	rec := httptest.NewRecorder()
	s.ServeHTTP(rec, req)
	return rec
}

func TestAWSFailuresRender(t *testing.T) {
	throttled := problem.New(http.StatusServiceUnavailable, problem.CodeAWSThrottled, "slow down")
	throttled.RetryAfter = 1500 * time.Millisecond
	cases := []struct {
		name       string
		err        error
		url        string
		status     int
		code       string
		retryAfter string
	}{
		{"throttled", throttled, "", 503, problem.CodeAWSThrottled, "2"},
		{"timeout", problem.New(http.StatusGatewayTimeout, problem.CodeAWSTimeout, "late"), "", 504, problem.CodeAWSTimeout, ""},
		{"unexpected error is a 500 without its text", errors.New("secret internals"), "", 500, "internal", ""},
		{"URL that is not a web address", nil, "javascript:alert(1)", 502, problem.CodeAWSError, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := newTestServer(t, &fakeLauncher{err: tc.err, url: tc.url}, oneStudio())
			rec := serve(s, "/studio", "alice")
			if rec.Code != tc.status || rec.Header().Get("Retry-After") != tc.retryAfter {
				t.Fatalf("got %d Retry-After=%q, want %d %q", rec.Code, rec.Header().Get("Retry-After"), tc.status, tc.retryAfter)
			}
			var body map[string]any
			if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
				t.Fatal(err)
			}
			if body["code"] != tc.code || strings.Contains(rec.Body.String(), "secret internals") {
				t.Errorf("body = %s", rec.Body)
			}
			if rec.Header().Get("Location") != "" {
				t.Error("an error must not redirect")
			}
		})
	}
}

func TestRoutingStoreDownIs503(t *testing.T) {
	s := newTestServer(t, &fakeLauncher{}, listResolver{err: errors.New("dynamodb: connection refused")})
	rec := serve(s, "/studio", "alice")
	if rec.Code != http.StatusServiceUnavailable || rec.Header().Get("Retry-After") == "" || strings.Contains(rec.Body.String(), "connection refused") {
		t.Errorf("got %d %v %s", rec.Code, rec.Header(), rec.Body)
	}
}

func TestPanicIsA500ProblemWithoutStack(t *testing.T) {
	s := newTestServer(t, &fakeLauncher{}, oneStudio())
	rec := serve(s, "/studio", "panic", "X-Request-Id", "caller-chosen-id-1")
	if rec.Code != http.StatusInternalServerError || strings.Contains(rec.Body.String(), "goroutine") || strings.Contains(rec.Body.String(), "boom") {
		t.Fatalf("got %d %s", rec.Code, rec.Body)
	}
	if rec.Header().Get("X-Request-Id") != "caller-chosen-id-1" || !strings.Contains(rec.Body.String(), "caller-chosen-id-1") {
		t.Errorf("request id not echoed: %v %s", rec.Header(), rec.Body)
	}
}

func TestJSONClientGetsJSONFromLaunchLink(t *testing.T) {
	s := newTestServer(t, &fakeLauncher{}, oneStudio())
	rec := serve(s, "/launch/lob-a", "alice", "Accept", "application/json")
	if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), `"url":"https://d-abc.studio`) {
		t.Errorf("got %d %s", rec.Code, rec.Body)
	}
}

func TestReadyz(t *testing.T) {
	ready := errors.New("jwks unreachable")
	s := testServer(t, Options{Resolver: oneStudio(), Launcher: &fakeLauncher{},
		Ready: []Check{{Name: "identity", Func: func(context.Context) error { return ready }}}})
	get := func() *httptest.ResponseRecorder {
		rec := httptest.NewRecorder()
		s.ServeHTTP(rec, httptest.NewRequest("GET", "/readyz", nil))
		return rec
	}
	if rec := get(); rec.Code != http.StatusServiceUnavailable || !strings.Contains(rec.Body.String(), "identity") {
		t.Errorf("not ready: %d %s", rec.Code, rec.Body)
	}
	ready = nil
	if rec := get(); rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), `"status":"ready"`) {
		t.Errorf("ready: %d %s", rec.Code, rec.Body)
	}
	s = testServer(t, Options{Resolver: oneStudio(), Launcher: &fakeLauncher{},
		Ready: []Check{{Name: "aws", Degraded: true, Func: func(context.Context) error { return errors.New("account 1 failing") }}}})
	if rec := get(); rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), `"status":"degraded"`) || !strings.Contains(rec.Body.String(), "account 1 failing") {
		t.Errorf("degraded: %d %s", rec.Code, rec.Body)
	}
}

// Shutdown lets a launch in flight finish and refuses new connections.
func TestServeDrainsInFlightRequests(t *testing.T) {
	l := &fakeLauncher{entered: make(chan struct{}), release: make(chan struct{})}
	s := newTestServer(t, l, oneStudio())
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- Serve(ctx, ln, s, 10*time.Second, slog.New(slog.DiscardHandler)) }()

	type result struct {
		status int
		err    error
	}
	res := make(chan result, 1)
	go func() {
		req, _ := http.NewRequest("GET", "http://"+ln.Addr().String()+"/studio", nil)
		req.Header.Set("Authorization", "Bearer alice")
		resp, err := (&http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}).Do(req)
		if err != nil {
			res <- result{err: err}
			return
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		res <- result{status: resp.StatusCode}
	}()
	<-l.entered // the launch is in flight
	stop()      // SIGTERM
	// New connections are refused once the listener is closed; wait for
	// that by dialling until it fails (bounded by the test timeout).
	for {
		c, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			break
		}
		c.Close()
	}
	close(l.release)
	if r := <-res; r.err != nil || r.status != http.StatusFound {
		t.Fatalf("in-flight launch: %+v, want 302", r)
	}
	if err := <-done; err != nil {
		t.Fatalf("Serve: %v", err)
	}
}
