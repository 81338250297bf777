package notebooks_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/sagegate/sagegate/internal/lambda/events"
	"github.com/sagegate/sagegate/internal/notebooks"
	"github.com/sagegate/sagegate/internal/sandbox/awssim"
)

func TestReapIdleNotebooks(t *testing.T) {
	e := newEnv(t, envOptions{})
	// The instances were created 3 hours ago; the SDK signs with the real
	// clock, so the simulated one goes back rather than forward.
	run := e.clock.Now()
	stamp := func(ago time.Duration) string { return run.Add(-ago).UTC().Format(time.RFC3339) }
	e.clock.Set(run.Add(-3 * time.Hour))
	for _, n := range []awssim.NotebookInstance{
		// Opened through sagegate 2.5 hours before the run: idle.
		{Name: "idle-launched", Status: awssim.NotebookInService, Tags: []awssim.Tag{{Key: "sagegate:user", Value: "alice"}, {Key: notebooks.TagLastLaunch, Value: stamp(150 * time.Minute)}}},
		// Opened 10 minutes before the run: busy.
		{Name: "recent", Status: awssim.NotebookInService, Tags: []awssim.Tag{{Key: "sagegate:user", Value: "bob"}, {Key: notebooks.TagLastLaunch, Value: stamp(10 * time.Minute)}}},
		// Vended, never opened through sagegate: goes by its state change.
		{Name: "never-opened", Status: awssim.NotebookInService, Tags: []awssim.Tag{{Key: "sagegate:user", Value: "bob"}}},
		// The LOB's shared notebook, untagged.
		{Name: "team-nb", Status: awssim.NotebookInService},
		// Not sagegate's.
		{Name: "someone-elses", Status: awssim.NotebookInService},
		{Name: "stopped", Tags: []awssim.Tag{{Key: "sagegate:user", Value: "alice"}}},
	} {
		n.Account = acct
		e.sim.AddNotebookInstance(n)
	}
	e.clock.Set(run)
	lobs, err := notebooks.AllLOBs(context.Background(), e.store)
	if err != nil {
		t.Fatal(err)
	}

	dry, err := e.m.Reap(context.Background(), lobs, notebooks.ReapOptions{Idle: 2 * time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, r := range dry {
		names = append(names, r.Name+"/"+r.From+"/"+r.Owner)
		if r.Stopped || r.Idle < 2*time.Hour {
			t.Errorf("dry run: %+v", r)
		}
	}
	slices.Sort(names)
	want := []string{"idle-launched/last launch/alice", "never-opened/state change/bob", "team-nb/state change/"}
	if !slices.Equal(names, want) {
		t.Fatalf("idle = %v, want %v", names, want)
	}
	if n := e.calls("StopNotebookInstance"); n != 0 {
		t.Fatalf("a dry run stopped %d", n)
	}

	applied, err := e.m.Reap(context.Background(), lobs, notebooks.ReapOptions{Idle: 2 * time.Hour, Apply: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range applied {
		if !r.Stopped || r.Err != nil {
			t.Errorf("apply: %+v", r)
		}
	}
	for name, want := range map[string]string{"idle-launched": "Stopped", "never-opened": "Stopped", "team-nb": "Stopped",
		"recent": "InService", "someone-elses": "InService"} {
		if info, _ := e.sim.Notebook(acct, region, name); info.Status != want {
			t.Errorf("%s is %s, want %s", name, info.Status, want)
		}
	}
	stops := e.audit.actions(notebooks.ActionStop)
	if len(stops) != 3 || stops[0].User != notebooks.ReaperUser {
		t.Errorf("stop audit = %+v", stops)
	}
	// The reaper's calls carry its own name into CloudTrail.
	for _, c := range e.sim.CallLog() {
		if c.Operation == "StopNotebookInstance" && c.SourceIdentity != notebooks.ReaperUser {
			t.Errorf("stop made as %q", c.SourceIdentity)
		}
	}

	// A launch resets the clock: a fresh launch of a stopped-then-started
	// notebook is not idle.
	e.openAndWait(t, "lob-a:small-alice")
	again, _ := e.m.Reap(context.Background(), lobs, notebooks.ReapOptions{Idle: 2 * time.Hour})
	if len(again) != 0 {
		t.Errorf("after reaping, idle = %+v", again)
	}
}

// TestScheduledReaper: the schedule handler reads the LOBs from the store
// and stops what is idle; without a store it fails, so Lambda retries.
func TestScheduledReaper(t *testing.T) {
	e := newEnv(t, envOptions{})
	run := e.clock.Now()
	e.clock.Set(run.Add(-3 * time.Hour))
	e.sim.AddNotebookInstance(awssim.NotebookInstance{Account: acct, Name: "idle", Status: awssim.NotebookInService,
		Tags: []awssim.Tag{{Key: "sagegate:user", Value: "alice"}}})
	e.clock.Set(run)
	ev := events.Scheduled{EventID: "ev-1", Time: run}
	if err := e.m.ScheduledReaper(notebooks.ReapOptions{Idle: 2 * time.Hour, Apply: true}).Scheduled(context.Background(), ev); err != nil {
		t.Fatal(err)
	}
	if info, _ := e.sim.Notebook(acct, region, "idle"); info.Status != "Stopped" {
		t.Errorf("idle is %s after the scheduled run, want Stopped", info.Status)
	}
	noStore := notebooks.New(notebooks.Options{Control: e.broker}).ScheduledReaper(notebooks.ReapOptions{Idle: time.Hour, Apply: true})
	if err := noStore.Scheduled(context.Background(), ev); err == nil {
		t.Error("a reaper without a routing store reported success")
	}
}
