package notebooks_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sagegate/sagegate/internal/audit"
	"github.com/sagegate/sagegate/internal/broker"
	"github.com/sagegate/sagegate/internal/notebooks"
	"github.com/sagegate/sagegate/internal/problem"
	"github.com/sagegate/sagegate/internal/sandbox/awssim"
)

// open opens target id for alice and waits for the flight, if any.
func (e *env) openAndWait(t *testing.T, id string) (notebooks.Opened, notebooks.Progress) {
	t.Helper()
	alice := user("alice")
	o, err := e.m.Open(context.Background(), alice, e.target(t, alice, id))
	if err != nil {
		t.Fatalf("Open(%s): %v", id, err)
	}
	if o.Flight == nil {
		return o, notebooks.Progress{}
	}
	p, err := o.Flight.Wait(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return o, p
}

func TestOpenInServiceMintsAtOnce(t *testing.T) {
	e := newEnv(t, envOptions{})
	e.sim.AddNotebookInstance(awssim.NotebookInstance{Account: acct, Name: "nb-alice", Status: awssim.NotebookInService})
	o, _ := e.openAndWait(t, "lob-a:nb-alice")
	if o.Flight != nil || !strings.Contains(o.Result.URL, "/nb-alice?authToken=") {
		t.Fatalf("Open = %+v", o)
	}
	if got, want := o.Result.ExpiresAt, e.clock.Now().Add(5*time.Minute); !got.Equal(want) {
		t.Errorf("ExpiresAt = %v, want %v (notebook URLs live 5 minutes)", got, want)
	}
	if n := e.calls("StartNotebookInstance"); n != 0 {
		t.Errorf("%d starts for an InService instance", n)
	}
	// The launch is noted on the instance, for the idle reaper.
	info, _ := e.sim.Notebook(acct, region, "nb-alice")
	if v := tagValue(info.Tags, notebooks.TagLastLaunch); v != e.clock.Now().UTC().Format(time.RFC3339) {
		t.Errorf("last-launch tag = %q", v)
	}
	// A second launch soon after does not tag again.
	e.clock.Advance(time.Minute)
	e.openAndWait(t, "lob-a:nb-alice")
	if n := e.calls("AddTags"); n != 1 {
		t.Errorf("AddTags calls = %d, want 1 within LaunchTagEvery", n)
	}
}

func tagValue(tags []awssim.Tag, key string) string {
	for _, t := range tags {
		if t.Key == key {
			return t.Value
		}
	}
	return ""
}

// TestStateTransitions opens an instance seen in each state, and checks
// what the flight went through and how it ended.
func TestStateTransitions(t *testing.T) {
	cases := []struct {
		status, reason string
		failStart      string
		history        []string
		starts         int
		code           string // error code; "" when it must open
	}{
		{status: awssim.NotebookStopped, history: []string{"Stopped", "Pending", "InService"}, starts: 1},
		{status: awssim.NotebookPending, history: []string{"Pending", "InService"}},
		{status: awssim.NotebookUpdating, history: []string{"Updating", "Stopped", "Pending", "InService"}, starts: 1},
		{status: awssim.NotebookStopping, history: []string{"Stopping", "Stopped", "Pending", "InService"}, starts: 1},
		{status: awssim.NotebookStopped, failStart: "The lifecycle configuration script failed.",
			history: []string{"Stopped", "Pending", "Failed"}, starts: 1, code: notebooks.CodeFailed},
		{status: awssim.NotebookFailed, reason: "Out of ml.t3.medium capacity.", code: notebooks.CodeFailed},
		{status: awssim.NotebookDeleting, code: notebooks.CodeDeleting},
	}
	for _, tc := range cases {
		t.Run(tc.status+tc.failStart, func(t *testing.T) {
			e := newEnv(t, envOptions{})
			e.sim.SetNotebookDelays(awssim.NotebookDelays{Start: 90 * time.Second, Stop: 30 * time.Second, Update: 20 * time.Second, Delete: time.Hour})
			e.sim.AddNotebookInstance(awssim.NotebookInstance{Account: acct, Name: "nb-alice", Status: tc.status,
				FailureReason: tc.reason + tc.failStart})
			alice := user("alice")
			o, err := e.m.Open(context.Background(), alice, e.target(t, alice, "lob-a:nb-alice"))
			var p notebooks.Progress
			if err == nil {
				if o.Flight == nil {
					t.Fatalf("no flight for a %s instance", tc.status)
				}
				p, _ = o.Flight.Wait(context.Background())
				err = p.Err
			}
			if tc.history != nil && !equalStates(p.History, tc.history...) {
				t.Errorf("history = %v, want %v", historyStates(p.History), tc.history)
			}
			if n := e.calls("StartNotebookInstance"); n != tc.starts {
				t.Errorf("StartNotebookInstance calls = %d, want %d", n, tc.starts)
			}
			if tc.code == "" {
				if err != nil || !p.Ready {
					t.Fatalf("flight = %+v, %v; want ready", p, err)
				}
				o, err := e.m.Open(context.Background(), alice, e.target(t, alice, "lob-a:nb-alice"))
				if err != nil || o.Result.URL == "" {
					t.Fatalf("open after ready = %+v, %v", o, err)
				}
				return
			}
			pe := problem.From(err)
			if pe.Code != tc.code {
				t.Fatalf("error = %v, want code %s", err, tc.code)
			}
			if reason := tc.reason + tc.failStart; reason != "" && !strings.Contains(pe.Detail, strings.TrimSuffix(reason, ".")) {
				t.Errorf("detail %q lacks the FailureReason %q", pe.Detail, reason)
			}
		})
	}
}

// TestConcurrentClicksStartOnce: many clicks on a stopped instance while
// it starts share one flight and one StartNotebookInstance, and each of
// them ends up with a URL.
func TestConcurrentClicksStartOnce(t *testing.T) {
	e := newEnv(t, envOptions{})
	e.sim.SetNotebookDelays(awssim.NotebookDelays{Start: time.Minute})
	e.sim.AddNotebookInstance(awssim.NotebookInstance{Account: acct, Name: "nb-alice"})
	e.gate = make(chan struct{})
	alice := user("alice")
	tg := e.target(t, alice, "lob-a:nb-alice")

	const clicks = 12
	flights := make([]*notebooks.Flight, clicks)
	joined := make([]bool, clicks)
	var wg sync.WaitGroup
	for i := range clicks {
		wg.Go(func() {
			o, err := e.m.Open(context.Background(), alice, tg)
			if err != nil {
				t.Errorf("click %d: %v", i, err)
				return
			}
			flights[i], joined[i] = o.Flight, o.Joined
		})
	}
	wg.Wait()
	nJoined := 0
	for i, f := range flights {
		if f != flights[0] || f == nil {
			t.Fatalf("click %d got another flight", i)
		}
		if joined[i] {
			nJoined++
		}
	}
	if nJoined != clicks-1 {
		t.Errorf("%d clicks joined, want %d", nJoined, clicks-1)
	}
	close(e.gate)
	p, _ := flights[0].Wait(context.Background())
	if !p.Ready {
		t.Fatalf("flight = %+v", p)
	}
	if n := e.calls("StartNotebookInstance"); n != 1 {
		t.Errorf("StartNotebookInstance calls = %d, want exactly 1", n)
	}
	if got := e.audit.actions(notebooks.ActionStart); len(got) != 1 || got[0].Outcome != audit.Granted || got[0].User != "alice" || got[0].Target != "lob-a:nb-alice" {
		t.Errorf("start audit = %+v", got)
	}
	for range clicks {
		if o, err := e.m.Open(context.Background(), alice, tg); err != nil || o.Result.URL == "" {
			t.Fatalf("open after the start = %+v, %v", o, err)
		}
	}
}

// TestClientGoingAwayDoesNotCancel: the request that began a start may
// end; the start goes on.
func TestClientGoingAwayDoesNotCancel(t *testing.T) {
	e := newEnv(t, envOptions{})
	e.sim.SetNotebookDelays(awssim.NotebookDelays{Start: time.Minute})
	e.sim.AddNotebookInstance(awssim.NotebookInstance{Account: acct, Name: "nb-alice"})
	alice := user("alice")
	ctx, cancel := context.WithCancel(context.Background())
	e.gate = make(chan struct{})
	o, err := e.m.Open(ctx, alice, e.target(t, alice, "lob-a:nb-alice"))
	if err != nil {
		t.Fatal(err)
	}
	cancel()
	close(e.gate)
	p, err := o.Flight.Wait(context.Background())
	if err != nil || !p.Ready {
		t.Fatalf("flight after the client left = %+v, %v", p, err)
	}
}

// TestWaitIsBounded: an instance that takes longer than WaitTimeout ends
// the flight with a readable timeout; the next click waits on without
// starting it again.
func TestWaitIsBounded(t *testing.T) {
	e := newEnv(t, envOptions{wait: time.Minute})
	e.sim.SetNotebookDelays(awssim.NotebookDelays{Start: 10 * time.Minute})
	e.sim.AddNotebookInstance(awssim.NotebookInstance{Account: acct, Name: "nb-alice"})
	alice := user("alice")
	tg := e.target(t, alice, "lob-a:nb-alice")
	o, err := e.m.Open(context.Background(), alice, tg)
	if err != nil {
		t.Fatal(err)
	}
	p, _ := o.Flight.Wait(context.Background())
	pe := problem.From(p.Err)
	if pe.Code != notebooks.CodeTimeout || pe.Status != 504 || pe.RetryAfter <= 0 || !strings.Contains(pe.Detail, "still pending after 1m") {
		t.Fatalf("timeout = %+v", pe)
	}
	if p.Elapsed < time.Minute || p.Elapsed > time.Minute+poll {
		t.Errorf("elapsed %v for a 1m bound", p.Elapsed)
	}
	o, err = e.m.Open(context.Background(), alice, tg)
	if err != nil || o.Flight == nil || o.Joined {
		t.Fatalf("next click = %+v, %v; want a new flight", o, err)
	}
	if n := e.calls("StartNotebookInstance"); n != 1 {
		t.Errorf("StartNotebookInstance calls = %d, want 1", n)
	}
}

func TestMissingInstanceIsNotFound(t *testing.T) {
	e := newEnv(t, envOptions{})
	alice := user("alice")
	_, err := e.m.Open(context.Background(), alice, e.target(t, alice, "lob-a:nb-alice"))
	if !errors.Is(err, broker.ErrNotebookNotFound) || problem.From(err).Status != 404 {
		t.Fatalf("Open of a missing instance = %v", err)
	}
}

func TestTargetStates(t *testing.T) {
	e := newEnv(t, envOptions{})
	e.sim.AddNotebookInstance(awssim.NotebookInstance{Account: acct, Name: "nb-alice"})
	e.sim.AddNotebookInstance(awssim.NotebookInstance{Account: acct, Name: "team-nb", Status: awssim.NotebookInService})
	alice := user("alice")
	states := e.m.TargetStates(context.Background(), alice, e.targets(t, alice))
	want := map[string]string{"lob-a:nb-alice": "Stopped", "lob-a:team-nb": "InService", "lob-a:small-alice": "Not created"}
	for id, s := range want {
		if states[id] != s {
			t.Errorf("state of %s = %q, want %q (all: %v)", id, states[id], s, states)
		}
	}
	if _, ok := states["lob-a"]; ok {
		t.Error("a Studio target got a state")
	}
	n := e.calls("DescribeNotebookInstance")
	e.m.TargetStates(context.Background(), alice, e.targets(t, alice))
	if e.calls("DescribeNotebookInstance") != n {
		t.Error("states were described again within StateTTL")
	}
}

// TestCloseEndsBackgroundWaits: a gateway shutting down ends the waits it
// left in the background, and Close returns once they have (the wait here
// is held in its Sleep until its context ends: without Close ending it,
// Close would never return), so none polls AWS or writes an audit record
// after it.
func TestCloseEndsBackgroundWaits(t *testing.T) {
	e := newEnv(t, envOptions{})
	e.sim.SetNotebookDelays(awssim.NotebookDelays{Start: time.Hour})
	e.sim.AddNotebookInstance(awssim.NotebookInstance{Account: acct, Name: "nb-alice"})
	alice := user("alice")
	e.gate = make(chan struct{}) // every Sleep holds until the wait is ended
	e.sleeping = make(chan struct{}, 1)
	o, err := e.m.Open(context.Background(), alice, e.target(t, alice, "lob-a:nb-alice"))
	if err != nil || o.Flight == nil {
		t.Fatalf("Open = %+v, %v; want a flight", o, err)
	}
	<-e.sleeping // the wait is in the background, between two polls
	if err := e.m.Close(); err != nil {
		t.Fatal(err)
	}
	// The flight ends saying so, not with a timeout.
	if p := o.Flight.Progress(); !p.Done || problem.From(p.Err).Status != http.StatusServiceUnavailable || problem.From(p.Err).RetryAfter <= 0 {
		t.Fatalf("flight after Close = %+v, want ended with 503 and Retry-After", p)
	}
	starts := e.calls("StartNotebookInstance")
	// A click after Close starts nothing and leaves no wait behind.
	e.sim.AddNotebookInstance(awssim.NotebookInstance{Account: acct, Name: "team-nb"})
	if _, err := e.m.Open(context.Background(), alice, e.target(t, alice, "lob-a:team-nb")); problem.From(err).Status != http.StatusServiceUnavailable {
		t.Fatalf("Open after Close: %v, want 503", err)
	}
	if n := e.calls("StartNotebookInstance"); n != starts {
		t.Errorf("StartNotebookInstance after Close: %d calls, had %d", n, starts)
	}
}
