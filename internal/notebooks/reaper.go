package notebooks

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/sagegate/sagegate/internal/broker"
	"github.com/sagegate/sagegate/internal/identity"
	"github.com/sagegate/sagegate/internal/lambda/events"
	"github.com/sagegate/sagegate/internal/routing"
)

// Idle stop. An InService notebook costs money by the hour whether anyone
// uses it or not; the reaper stops those nobody opened through sagegate
// for a while. "Opened" is the sagegate:last-launch tag every launch writes
// on the instance (states.go); an instance without one counts from its
// LastModifiedTime, which is when it last changed state (became InService).
// Only instances sagegate manages are considered: those tagged
// sagegate:user (vended, or tagged by a Service Catalog product) or
// sagegate:last-launch, and the LOBs' shared notebooks. Stopping is
// reversible and keeps the volume; the next click starts it again.

// ReaperUser is the session name (and CloudTrail source identity) of the
// reaper's AWS calls.
const ReaperUser = "sagegate-reaper"

// ReapOptions say what Reap does.
type ReapOptions struct {
	// Idle is how long a notebook may go unopened.
	Idle time.Duration
	// Apply stops the idle notebooks; without it Reap only reports them.
	Apply bool
	// LOBs limits the run to these LOBs; empty means every LOB.
	LOBs []string
}

// IdleNotebook is one notebook found idle.
type IdleNotebook struct {
	LOB, Account, Region, Name, Owner string
	// LastUsed is the last launch, or the last state change when
	// sagegate never launched it (From says which).
	LastUsed time.Time
	From     string
	Idle     time.Duration
	// Stopped says Reap stopped it; Err why it could not.
	Stopped bool
	Err     error
}

// Where IdleNotebook.LastUsed comes from.
const (
	FromLaunchTag   = "last launch"
	FromStateChange = "state change"
)

// Reap finds the InService notebooks idle for longer than o.Idle in the
// accounts of lobs, and stops them when o.Apply. Accounts whose
// listing fails are reported in the error; the others are still done.
func (m *Manager) Reap(ctx context.Context, lobs []routing.LOB, o ReapOptions) ([]IdleNotebook, error) {
	p := &identity.Principal{Username: ReaperUser}
	type account struct{ id, region, role, external string }
	seen := map[account]bool{}
	var out []IdleNotebook
	var errs []error
	for _, l := range lobs {
		if len(o.LOBs) > 0 && !slices.Contains(o.LOBs, l.Name) {
			continue
		}
		a := account{l.AccountID, l.Region, l.RoleARN, l.ExternalID}
		if seen[a] {
			continue
		}
		seen[a] = true
		shared := map[string]bool{}
		for _, other := range lobs {
			if other.AccountID == l.AccountID && other.Region == l.Region {
				for _, ref := range other.Notebooks {
					shared[ref.Name] = true
				}
			}
		}
		found, err := m.reapAccount(ctx, p, l, shared, o)
		if err != nil {
			errs = append(errs, fmt.Errorf("LOB %s (account %s, %s): %w", l.Name, l.AccountID, l.Region, err))
		}
		out = append(out, found...)
	}
	return out, errors.Join(errs...)
}

func (m *Manager) reapAccount(ctx context.Context, p *identity.Principal, l routing.LOB, shared map[string]bool, o ReapOptions) ([]IdleNotebook, error) {
	running, err := m.ctl.ListNotebooks(ctx, p, LOBTarget(l, ""), broker.NotebookFilter{Status: StateInService})
	if err != nil {
		return nil, err
	}
	now := m.now()
	var out []IdleNotebook
	for _, nb := range running {
		t := LOBTarget(l, nb.Name)
		tags, err := m.ctl.NotebookTags(ctx, p, t, nb.ARN)
		if err != nil {
			out = append(out, IdleNotebook{LOB: l.Name, Account: l.AccountID, Region: l.Region, Name: nb.Name, Err: err})
			continue
		}
		last, from := nb.LastModified, FromStateChange
		v, launched := tags[TagLastLaunch]
		if ts, err := time.Parse(time.RFC3339, v); launched && err == nil && ts.After(last) {
			last, from = ts, FromLaunchTag
		}
		_, owned := tags[TagUser]
		if !owned && !launched && !shared[nb.Name] {
			continue // not sagegate's to stop
		}
		idle := now.Sub(last)
		if idle < o.Idle {
			continue
		}
		found := IdleNotebook{LOB: l.Name, Account: l.AccountID, Region: l.Region, Name: nb.Name, Owner: tags[TagUser],
			LastUsed: last, From: from, Idle: idle}
		if o.Apply {
			found.Err = m.stop(ctx, p, t)
			found.Stopped = found.Err == nil
			if found.Stopped {
				m.log.InfoContext(ctx, "notebook: stopped an idle instance", "lob", l.Name, "account", l.AccountID,
					"instance", nb.Name, "owner", found.Owner, "idle", idle.Round(time.Minute), "lastUsedFrom", from)
			}
		}
		out = append(out, found)
	}
	return out, nil
}

// AllLOBs reads every LOB of store, page by page, skipping invalid ones.
func AllLOBs(ctx context.Context, store routing.Store) ([]routing.LOB, error) {
	var all []routing.LOB
	o := routing.ListOptions{}
	for {
		page, err := store.ListLOBs(ctx, o)
		if err != nil {
			return nil, err
		}
		all = append(all, page.Items...)
		if page.Next == "" {
			return all, nil
		}
		o.Cursor = page.Next
	}
}

// ScheduledReaper is an events.ScheduleHandler that reaps every LOB of
// m's store with o on each scheduled event (the events Lambda role).
type ScheduledReaper struct {
	m *Manager
	o ReapOptions
}

var _ events.ScheduleHandler = (*ScheduledReaper)(nil)

// ScheduledReaper returns the schedule handler that reaps with o.
func (m *Manager) ScheduledReaper(o ReapOptions) *ScheduledReaper {
	return &ScheduledReaper{m: m, o: o}
}

// Scheduled implements events.ScheduleHandler. Stopping twice is harmless
// (the second run finds nothing InService), so a retry is safe.
func (r *ScheduledReaper) Scheduled(ctx context.Context, e events.Scheduled) error {
	if r.m.opts.Store == nil {
		return errors.New("notebooks: no routing store to find the LOBs in")
	}
	lobs, err := AllLOBs(ctx, r.m.opts.Store)
	if err != nil {
		return err
	}
	found, err := r.m.Reap(ctx, lobs, r.o)
	stopped := 0
	for _, n := range found {
		if n.Stopped {
			stopped++
		}
	}
	r.m.log.InfoContext(ctx, "notebook: idle reaper ran", "eventId", e.EventID, "idle", r.o.Idle.String(),
		"apply", r.o.Apply, "idleFound", len(found), "stopped", stopped)
	return err
}
