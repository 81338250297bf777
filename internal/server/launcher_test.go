package server

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/sagegate/sagegate/internal/broker"
	"github.com/sagegate/sagegate/internal/identity"
	"github.com/sagegate/sagegate/internal/problem"
	"github.com/sagegate/sagegate/internal/routing"
	"github.com/sagegate/sagegate/internal/session"
)

// listResolver answers with a fixed list, or an error.
type listResolver struct {
	ts  []routing.Target
	err error
}

func (l listResolver) Targets(context.Context, *identity.Principal) ([]routing.Target, error) {
	return l.ts, l.err
}

// cookieSessions is a browser session keyed by a plain cookie holding the
// username: enough to tell a session from a bearer token in these tests.
type cookieSessions struct{ cli session.CLIClient }

func (cookieSessions) Routes(*http.ServeMux) {}
func (cookieSessions) Principal(r *http.Request) (*identity.Principal, bool) {
	c, err := r.Cookie("s")
	if err != nil {
		return nil, false
	}
	return &identity.Principal{Username: c.Value}, true
}
func (cookieSessions) Touch(http.ResponseWriter, *http.Request) {}
func (cookieSessions) LoginURL(rd string) string                { return "/auth/login?rd=" + url.QueryEscape(rd) }
func (cookieSessions) CheckCSRF(*http.Request) error            { return nil }
func (cookieSessions) CSRFToken(r *http.Request) string {
	if c, err := r.Cookie("s"); err == nil {
		return "csrf-of-" + c.Value
	}
	return ""
}
func (s cookieSessions) CLIClient() session.CLIClient { return s.cli }

// stateLauncher reports notebook states.
type stateLauncher struct {
	fakeLauncher
	states map[string]string
}

func (s *stateLauncher) TargetStates(context.Context, *identity.Principal, []routing.Target) map[string]string {
	return s.states
}

var demoTargets = []routing.Target{
	{ID: "lob-b", Kind: routing.KindStudio, Label: "LOB B analytics", LOB: "lob-b", AccountID: "222222222222", Region: "us-east-1", DomainID: "d-b", UserProfile: "alice"},
	{ID: "lob-a-space", Kind: routing.KindStudio, Label: "Shared space", LOB: "lob-a", AccountID: "111111111111", Region: "us-east-1", DomainID: "d-a", UserProfile: "alice", Space: "team"},
	{ID: "lob-a", Kind: routing.KindStudio, Label: "LOB A research", LOB: "lob-a", AccountID: "111111111111", Region: "us-east-1", DomainID: "d-a", UserProfile: "alice"},
}

// browse sends a browser's GET, with a session cookie or a bearer token.
func browse(s http.Handler, path string, auth ...string) *httptest.ResponseRecorder {
	req := httptest.NewRequest("GET", path, nil)
	req.Header.Set("Accept", "text/html,application/xhtml+xml")
	if len(auth) == 2 {
		switch auth[0] {
		case "cookie":
			req.AddCookie(&http.Cookie{Name: "s", Value: auth[1]})
		case "bearer":
			req.Header.Set("Authorization", "Bearer "+auth[1])
		}
	}
	rec := httptest.NewRecorder()
	s.ServeHTTP(rec, req)
	return rec
}

func mustContain(t *testing.T, body string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(body, w) {
			t.Errorf("page lacks %q:\n%s", w, body)
		}
	}
}

func TestLauncherSignedOut(t *testing.T) {
	withLogin := testServer(t, Options{Resolver: listResolver{ts: demoTargets}, Sessions: cookieSessions{}})
	rec := browse(withLogin, "/")
	if rec.Code != http.StatusOK || rec.Header().Get("Cache-Control") != "no-store" {
		t.Fatalf("got %d %v", rec.Code, rec.Header())
	}
	mustContain(t, rec.Body.String(), `<a class="button" href="/auth/login?rd=%2F">Sign in</a>`, `<main id="main"`, `href="#main"`)
	if strings.Contains(rec.Body.String(), "/launch/") || strings.Contains(rec.Body.String(), "Sign out") {
		t.Errorf("signed-out page shows targets or sign-out:\n%s", rec.Body)
	}

	bearerOnly := testServer(t, Options{Resolver: listResolver{ts: demoTargets}})
	rec = browse(bearerOnly, "/")
	if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), "Browser sign-in is not set up") {
		t.Errorf("without sessions: %d\n%s", rec.Code, rec.Body)
	}
}

func TestLauncherListsTargetsGroupedByLOB(t *testing.T) {
	s := testServer(t, Options{Resolver: listResolver{ts: demoTargets}, Sessions: cookieSessions{}})
	rec := browse(s, "/", "cookie", "alice")
	if rec.Code != http.StatusOK {
		t.Fatalf("got %d\n%s", rec.Code, rec.Body)
	}
	body := rec.Body.String()
	mustContain(t, body,
		`<h2 id="group-1">lob-a</h2>`, `AWS account 111111111111 · us-east-1`,
		`<h2 id="group-2">lob-b</h2>`, `AWS account 222222222222`,
		`<a class="button open" href="/launch/lob-a" target="_blank" rel="noopener noreferrer">Open<span class="vh"> LOB A research (opens in a new tab)</span></a>`,
		`<span class="kind">Studio space</span> · domain d-a · profile alice · space team`,
		`Signed in as <strong>alice</strong>`,
		`<form method="post" action="/auth/logout" class="signout">`,
		`<input type="hidden" name="csrf_token" value="csrf-of-alice">`,
	)
	// LOB A's targets come before LOB B's, and by label within the LOB.
	order := regexp.MustCompile(`href="/launch/([^"]+)"`).FindAllStringSubmatch(body, -1)
	var ids []string
	for _, m := range order {
		ids = append(ids, m[1])
	}
	if strings.Join(ids, ",") != "lob-a,lob-a-space,lob-b" {
		t.Errorf("order = %v", ids)
	}
}

func TestLauncherWithBearerHasNoSignOut(t *testing.T) {
	s := testServer(t, Options{Resolver: listResolver{ts: demoTargets}, Sessions: cookieSessions{}})
	rec := browse(s, "/", "bearer", "alice")
	if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), "/launch/lob-a") || strings.Contains(rec.Body.String(), "Sign out") {
		t.Errorf("bearer: %d\n%s", rec.Code, rec.Body)
	}
}

func TestLauncherEscapesLabels(t *testing.T) {
	evil := []routing.Target{{ID: "x/../y", Kind: routing.KindStudio, Label: `<script>alert(1)</script>`, LOB: `"><img src=x>`, AccountID: "1"}}
	s := testServer(t, Options{Resolver: listResolver{ts: evil}})
	body := browse(s, "/", "bearer", "alice").Body.String()
	if strings.Contains(body, "<script>alert") || strings.Contains(body, `"><img`) {
		t.Fatalf("label not escaped:\n%s", body)
	}
	mustContain(t, body, `href="/launch/x%2F..%2Fy"`)
}

func TestLauncherNotebookState(t *testing.T) {
	nb := []routing.Target{
		{ID: "nb-stopped", Kind: kindNotebook, Label: "My notebook", LOB: "lob-a", AccountID: "1"},
		{ID: "nb-up", Kind: kindNotebook, Label: "Other notebook", LOB: "lob-a", AccountID: "1"},
	}
	l := &stateLauncher{states: map[string]string{"nb-stopped": "Stopped", "nb-up": "InService"}}
	s := testServer(t, Options{Resolver: listResolver{ts: nb}, Launcher: l})
	body := browse(s, "/", "bearer", "alice").Body.String()
	mustContain(t, body,
		`<span class="kind">Notebook</span>`,
		`<p class="state state-stopped">State: <strong>Stopped</strong></p>`,
		`>Start and open<span class="vh"> My notebook`,
		`<p class="state state-ok">State: <strong>InService</strong></p>`,
		`>Open<span class="vh"> Other notebook`,
	)
}

func TestLauncherFailures(t *testing.T) {
	empty := testServer(t, Options{Resolver: listResolver{}})
	rec := browse(empty, "/", "bearer", "nobody")
	if rec.Code != http.StatusOK {
		t.Fatalf("no targets: %d", rec.Code)
	}
	mustContain(t, rec.Body.String(), "Nothing to open yet", `No SageMaker Studio is assigned to &#34;nobody&#34;.`, "Ask your platform team", rec.Header().Get("X-Request-Id"))

	down := testServer(t, Options{Resolver: listResolver{err: context.DeadlineExceeded}})
	rec = browse(down, "/", "bearer", "alice")
	if rec.Code != http.StatusServiceUnavailable || rec.Header().Get("Retry-After") == "" {
		t.Errorf("store down: %d %v", rec.Code, rec.Header())
	}
	mustContain(t, rec.Body.String(), `<a class="button" href="/">Try again</a>`)

	// An invalid credential is refused, not treated as signed out.
	bad := testServer(t, Options{Resolver: listResolver{}, Verifier: refusingVerifier{}, Sessions: cookieSessions{}})
	rec = browse(bad, "/", "bearer", "expired")
	if rec.Code != http.StatusUnauthorized {
		t.Fatalf("bad token: %d", rec.Code)
	}
	mustContain(t, rec.Body.String(), "Your sign-in is no longer valid", `href="/auth/login?rd=%2F">Sign in</a>`)
}

type refusingVerifier struct{}

func (refusingVerifier) Verify(context.Context, string) (*identity.Principal, error) {
	return nil, &identity.Error{Reason: identity.ReasonExpired, Detail: "The token has expired."}
}

// Every error a person can meet says what to do next and carries the
// request id; the ones they can act on offer the action.
func TestErrorPagesSayWhatToDoNext(t *testing.T) {
	throttled := problem.New(http.StatusServiceUnavailable, problem.CodeAWSThrottled, "AWS is throttling requests for account 1.")
	throttled.RetryAfter = 1500 * time.Millisecond
	cases := []struct {
		name   string
		err    error
		path   string
		status int
		want   []string
	}{
		{"throttled", throttled, "/launch/lob-a", 503, []string{"AWS is busy right now", "wait 2 seconds and try again", `href="/launch/lob-a">Try again</a>`, `href="/">Go to your launcher</a>`}},
		{"aws denied", problem.New(http.StatusBadGateway, problem.CodeAWSAccessDenied, "AWS denied it."), "/launch/lob-a", 502, []string{"not allowed to open this Studio", "not something you did", "request id"}},
		{"rate limited", &problem.Error{Status: 429, Code: "rate_limited", Detail: "Too many launches.", RetryAfter: time.Second}, "/launch/lob-a", 429, []string{"very quickly", "Wait a second and try again", `href="/launch/lob-a">Try again</a>`}},
		{"circuit open", &problem.Error{Status: 503, Code: broker.CodeAWSUnavailable, Detail: "Paused.", RetryAfter: 10 * time.Second}, "/launch/lob-a", 503, []string{"AWS is having trouble", "Wait 10 seconds"}},
		{"timeout", problem.New(http.StatusGatewayTimeout, problem.CodeAWSTimeout, "late"), "/launch/lob-b?x=1", 504, []string{"took too long", `href="/launch/lob-b?x=1">Try again</a>`}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := testServer(t, Options{Resolver: listResolver{ts: demoTargets}, Launcher: &fakeLauncher{err: tc.err}})
			rec := browse(s, tc.path, "bearer", "alice")
			if rec.Code != tc.status {
				t.Fatalf("got %d, want %d", rec.Code, tc.status)
			}
			mustContain(t, rec.Body.String(), append(tc.want, "What to do next", `<code id="request-id">`+rec.Header().Get("X-Request-Id")+"</code>")...)
		})
	}

	s := testServer(t, Options{Resolver: listResolver{ts: demoTargets}, Sessions: cookieSessions{}})
	for _, tc := range []struct {
		path   string
		status int
		want   []string
	}{
		{"/launch/someone-elses", 404, []string{"This link is not one of yours", `&#34;someone-elses&#34; is not one of the Studios`, "only work for the person they belong to", `href="/">Go to your launcher</a>`}},
		{"/studio/bob", 403, []string{"someone else&#39;s Studio", `href="/">Go to your launcher</a>`}},
		{"/nowhere", 404, []string{"There is no such page"}},
	} {
		rec := browse(s, tc.path, "cookie", "alice")
		if rec.Code != tc.status {
			t.Errorf("%s: got %d, want %d", tc.path, rec.Code, tc.status)
		}
		mustContain(t, rec.Body.String(), tc.want...)
	}

	disabled := testServer(t, Options{Resolver: listResolver{err: routing.ErrUserDisabled}})
	mustContain(t, browse(disabled, "/launch/x", "bearer", "alice").Body.String(), "switched off", "switch it back on")
}

func TestNetworkHelpPage(t *testing.T) {
	s := testServer(t, Options{Resolver: listResolver{ts: demoTargets}, Sessions: cookieSessions{}})
	rec := browse(s, "/help/network", "cookie", "alice")
	if rec.Code != http.StatusOK {
		t.Fatalf("got %d", rec.Code)
	}
	mustContain(t, rec.Body.String(), "Studio only opens from the company network", "Auth token containing insufficient permissions",
		"Connect to the company VPN", "click Open again", "Signed in as <strong>alice</strong>", CodeWrongNetwork)
	if rec := browse(s, "/help/network"); rec.Code != http.StatusOK {
		t.Errorf("signed out: %d", rec.Code)
	}
}

func TestLoginConfig(t *testing.T) {
	cli := session.CLIClient{Issuer: "https://idp.example", ClientID: "cli", Scopes: []string{"openid"}, Token: "access_token"}
	s := testServer(t, Options{Resolver: listResolver{}, Sessions: cookieSessions{cli: cli}})
	rec := httptest.NewRecorder()
	s.ServeHTTP(rec, httptest.NewRequest("GET", "/api/v1/login-config", nil))
	var got session.CLIClient
	if err := json.Unmarshal(rec.Body.Bytes(), &got); rec.Code != http.StatusOK || err != nil || got.Issuer != cli.Issuer || got.ClientID != "cli" || got.Token != "access_token" {
		t.Fatalf("got %d %s", rec.Code, rec.Body)
	}

	none := testServer(t, Options{Resolver: listResolver{}})
	rec = httptest.NewRecorder()
	none.ServeHTTP(rec, httptest.NewRequest("GET", "/api/v1/login-config", nil))
	if rec.Code != http.StatusNotFound || !strings.Contains(rec.Body.String(), `"code":"login_not_configured"`) {
		t.Errorf("without login: %d %s", rec.Code, rec.Body)
	}
}
