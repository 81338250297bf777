package server

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/sagegate/sagegate/internal/audit"
	"github.com/sagegate/sagegate/internal/broker"
	"github.com/sagegate/sagegate/internal/identity"
	"github.com/sagegate/sagegate/internal/problem"
	"github.com/sagegate/sagegate/internal/routing"
)

// countingLauncher counts the launches that reached the AWS side.
type countingLauncher struct {
	calls atomic.Int32
	err   error
}

func (c *countingLauncher) Launch(context.Context, *identity.Principal, routing.Target) (broker.Result, error) {
	c.calls.Add(1)
	return broker.Result{URL: "https://d-abc.studio.us-east-1.sagemaker.aws/auth?token=x"}, c.err
}

// Every refusal on the launch path answers with its own status and code,
// is audited as the launch it refused, and never reaches AWS.
func TestLaunchRefusals(t *testing.T) {
	studio := func(id string) routing.Target {
		return routing.Target{ID: id, Kind: routing.KindStudio, AccountID: "111111111111", Region: "us-east-1"}
	}
	notebook := routing.Target{ID: "nb", Kind: routing.KindNotebook, AccountID: "111111111111", NotebookInstance: "nb-alice"}
	for _, tc := range []struct {
		name     string
		resolver listResolver
		path     string
		status   int
		code     string
		target   string // the audited target id
		outcome  string
		body     string // in the answer
	}{
		{name: "disabled user", resolver: listResolver{err: fmt.Errorf("%w: %q", routing.ErrUserDisabled, "alice")},
			path: "/studio", status: http.StatusForbidden, code: "user_disabled", outcome: audit.Denied, body: "disabled"},
		{name: "another user's studio", resolver: listResolver{ts: []routing.Target{studio("a")}},
			path: "/studio/bob", status: http.StatusForbidden, code: problem.CodeForbidden, outcome: audit.Denied, body: "signed in as"},
		{name: "no studio, only a notebook", resolver: listResolver{ts: []routing.Target{notebook}},
			path: "/studio", status: http.StatusNotFound, code: problem.CodeNoTargets, outcome: audit.Denied},
		{name: "unknown target", resolver: listResolver{ts: []routing.Target{studio("a")}},
			path: "/launch/other", status: http.StatusNotFound, code: problem.CodeTargetNotFound, target: "other", outcome: audit.Denied},
		{name: "routing store down, by id", resolver: listResolver{err: fmt.Errorf("dial tcp: connection refused")},
			path: "/launch/a", status: http.StatusServiceUnavailable, code: problem.CodeUnavailable, target: "a", outcome: audit.Failed},
		{name: "notebooks not enabled", resolver: listResolver{ts: []routing.Target{notebook}},
			path: "/launch/nb", status: http.StatusNotFound, code: problem.CodeTargetNotFound, target: "nb", outcome: audit.Denied},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sink := &recordingSink{}
			l := &countingLauncher{}
			s := testServer(t, Options{Resolver: tc.resolver, Launcher: l, Audit: sink})
			rec := serve(s, tc.path, "alice", "Accept", "application/json")
			if rec.Code != tc.status || !strings.Contains(rec.Body.String(), `"code":"`+tc.code+`"`) || !strings.Contains(rec.Body.String(), tc.body) {
				t.Fatalf("got %d %s, want %d %s", rec.Code, rec.Body, tc.status, tc.code)
			}
			if strings.Contains(rec.Body.String(), "connection refused") {
				t.Errorf("the store's error reached the client: %s", rec.Body)
			}
			if n := l.calls.Load(); n != 0 {
				t.Errorf("%d launches reached AWS", n)
			}
			if len(sink.events) != 1 {
				t.Fatalf("audit events = %+v, want one", sink.events)
			}
			e := sink.events[0]
			if e.Action != "launch" || e.User != "alice" || e.Target != tc.target || e.Outcome != tc.outcome || e.ErrorCode != tc.code {
				t.Errorf("audit = %+v, want launch of %q by alice, %s %s", e, tc.target, tc.outcome, tc.code)
			}
		})
	}
}

// Several Studios: an API client gets 409 with the list to choose from,
// and nothing is launched or audited as a launch.
func TestSeveralStudiosAskAPIClientToChoose(t *testing.T) {
	sink := &recordingSink{}
	l := &countingLauncher{}
	ts := []routing.Target{
		{ID: "a", Kind: routing.KindStudio, AccountID: "111111111111"},
		{ID: "b", Kind: routing.KindStudio, AccountID: "222222222222"},
	}
	s := testServer(t, Options{Resolver: listResolver{ts: ts}, Launcher: l, Audit: sink})
	rec := serve(s, "/studio", "alice", "Accept", "application/json")
	body := rec.Body.String()
	if rec.Code != http.StatusConflict || !strings.Contains(body, problem.CodeChooseTarget) || !strings.Contains(body, `"targets"`) ||
		!strings.Contains(body, `"a"`) || !strings.Contains(body, `"b"`) {
		t.Fatalf("got %d %s", rec.Code, body)
	}
	if l.calls.Load() != 0 || len(sink.events) != 0 {
		t.Errorf("launches %d, audit %+v", l.calls.Load(), sink.events)
	}
}

// /studio leaves out notebooks without changing the list the resolver
// returned, which the resolver may hand to every request.
func TestStudioLeavesResolverListAlone(t *testing.T) {
	l := &countingLauncher{}
	nb := routing.Target{ID: "nb", Kind: routing.KindNotebook, AccountID: "111111111111", NotebookInstance: "nb-alice"}
	studio := routing.Target{ID: "a", Kind: routing.KindStudio, AccountID: "111111111111"}
	shared := []routing.Target{nb, studio}
	s := testServer(t, Options{Resolver: listResolver{ts: shared}, Launcher: l, Audit: &recordingSink{}})
	for i := range 2 {
		if rec := serve(s, "/studio", "alice", "Accept", "application/json"); rec.Code != http.StatusOK {
			t.Fatalf("request %d: got %d %s", i, rec.Code, rec.Body)
		}
	}
	if shared[0].ID != "nb" || shared[0].Kind != routing.KindNotebook || shared[1].ID != "a" || shared[1].Kind != routing.KindStudio {
		t.Errorf("the resolver's list became %+v", shared)
	}
	if n := l.calls.Load(); n != 2 {
		t.Errorf("%d launches, want 2", n)
	}
}

// A launch AWS fails is audited as failed, one AWS call, and answered
// with the broker's problem.
func TestFailedLaunchIsAuditedAsFailed(t *testing.T) {
	sink := &recordingSink{}
	l := &countingLauncher{err: problem.New(http.StatusBadGateway, problem.CodeAWSAccessDenied, "denied")}
	ts := []routing.Target{{ID: "a", Kind: routing.KindStudio, AccountID: "111111111111", DomainID: "d-abc", UserProfile: "alice"}}
	s := testServer(t, Options{Resolver: listResolver{ts: ts}, Launcher: l, Audit: sink})
	rec := serve(s, "/launch/a", "alice", "Accept", "application/json")
	if rec.Code != http.StatusBadGateway || !strings.Contains(rec.Body.String(), problem.CodeAWSAccessDenied) {
		t.Fatalf("got %d %s", rec.Code, rec.Body)
	}
	if l.calls.Load() != 1 || len(sink.events) != 1 {
		t.Fatalf("launches %d, audit %+v", l.calls.Load(), sink.events)
	}
	if e := sink.events[0]; e.Outcome != audit.Failed || e.ErrorCode != problem.CodeAWSAccessDenied || e.Domain != "d-abc" || e.Profile != "alice" || e.Account != "111111111111" {
		t.Errorf("audit = %+v", e)
	}
}
