package notebooks

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"time"

	"github.com/sagegate/sagegate/internal/broker"
	"github.com/sagegate/sagegate/internal/identity"
	"github.com/sagegate/sagegate/internal/problem"
	"github.com/sagegate/sagegate/internal/routing"
)

// What `sagegate notebooks` does for administrators. It acts with the
// administrator's own AWS credentials assuming each LOB's access role, like
// `sagegate routes check`, and asks no one's permission: who may run it is
// decided by who may use those credentials.

// LOBTarget is a notebook target for instance name in LOB l, owned by no
// one in particular.
func LOBTarget(l routing.LOB, name string) routing.Target {
	return routing.Target{ID: routing.NotebookTargetID(l.Name, name), Kind: routing.KindNotebook, Label: name,
		LOB: l.Name, AccountID: l.AccountID, Region: l.Region, NotebookInstance: name,
		RoleARN: l.RoleARN, ExternalID: l.ExternalID, SessionDuration: l.SessionDuration.D()}
}

// Listed is one instance as `notebooks list` shows it.
type Listed struct {
	LOB, Account, Region, Name, State, InstanceType, Owner string
	LastLaunch                                             time.Time
	Err                                                    error
}

// List lists the instances of lobs' accounts (each account and region
// once), with state filter state ("" for all), owner and last launch.
func (m *Manager) List(ctx context.Context, p *identity.Principal, lobs []routing.LOB, state string) ([]Listed, error) {
	type account struct{ id, region string }
	seen := map[account]bool{}
	var out []Listed
	var errs []error
	for _, l := range lobs {
		a := account{l.AccountID, l.Region}
		if seen[a] {
			continue
		}
		seen[a] = true
		base := LOBTarget(l, "")
		list, err := m.ctl.ListNotebooks(ctx, p, base, broker.NotebookFilter{Status: state})
		if err != nil {
			errs = append(errs, fmt.Errorf("LOB %s (account %s, %s): %w", l.Name, l.AccountID, l.Region, err))
			continue
		}
		for _, nb := range list {
			row := Listed{LOB: l.Name, Account: l.AccountID, Region: l.Region, Name: nb.Name, State: nb.Status, InstanceType: nb.InstanceType}
			tags, err := m.ctl.NotebookTags(ctx, p, LOBTarget(l, nb.Name), nb.ARN)
			row.Err = err
			row.Owner = tags[TagUser]
			if ts, err := time.Parse(time.RFC3339, tags[TagLastLaunch]); err == nil {
				row.LastLaunch = ts
			}
			out = append(out, row)
		}
	}
	return out, errors.Join(errs...)
}

// Start starts t's instance (or waits for it, when it is busy) and returns
// the flight, nil when it is InService already.
func (m *Manager) Start(ctx context.Context, p *identity.Principal, t routing.Target) (*Flight, error) {
	nb, err := m.ctl.DescribeNotebook(ctx, p, t)
	if err != nil {
		return nil, err
	}
	switch nb.Status {
	case StateInService:
		return nil, nil
	case StateFailed:
		return nil, failedError(t, nb.FailureReason)
	case StateDeleting:
		return nil, deletingError(t)
	}
	o, err := opened(m.startFlight(ctx, p, t, nb.Status, false))
	return o.Flight, err
}

// AdminStop stops t's instance, whoever owns it.
func (m *Manager) AdminStop(ctx context.Context, p *identity.Principal, t routing.Target) error {
	return m.stop(ctx, p, t)
}

// Delete deletes t's (Stopped or Failed) instance, and removes it from
// its owner's record when one lists it.
func (m *Manager) Delete(ctx context.Context, p *identity.Principal, t routing.Target, owner string) error {
	begin := m.now()
	err := m.ctl.DeleteNotebook(ctx, p, t)
	m.record(ctx, ActionDelete, p, t, begin, err)
	if err != nil || owner == "" || m.opts.Store == nil {
		return err
	}
	err = m.opts.Store.UpdateUser(ctx, owner, func(u routing.User) (routing.User, error) {
		i := slices.IndexFunc(u.Notebooks, func(r routing.NotebookRef) bool { return r.LOB == t.LOB && r.Name == t.NotebookInstance })
		if i < 0 {
			return u, errAlreadyRecorded
		}
		u.Notebooks = slices.Delete(u.Notebooks, i, i+1)
		return u, nil
	})
	switch {
	case err == nil:
		m.userChanged(owner)
		return nil
	case errors.Is(err, errAlreadyRecorded), errors.Is(err, routing.ErrNotFound):
		return nil
	}
	return fmt.Errorf("deleted, but not removed from %s's routes: %w", owner, err)
}

// CreateFor vends owner's next notebook from template in LOB l, as an
// administrator (actor) would: like the owner's own Vend, within the
// template's limit per person.
func (m *Manager) CreateFor(ctx context.Context, actor *identity.Principal, owner string, l routing.LOB, template, instanceType string) (routing.Target, *Flight, error) {
	for _, t := range routing.NotebookTargets(l, owner) {
		if t.NotebookTemplate != nil && t.NotebookTemplate.Name == template {
			return m.vendFrom(ctx, actor, owner, t, instanceType)
		}
	}
	return routing.Target{}, nil, problem.New(http.StatusNotFound, CodeTemplateNotFound,
		fmt.Sprintf("LOB %q has no notebook template %q.", l.Name, template))
}
