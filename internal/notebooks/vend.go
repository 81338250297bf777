package notebooks

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"

	"github.com/sagegate/sagegate/internal/broker"
	"github.com/sagegate/sagegate/internal/identity"
	"github.com/sagegate/sagegate/internal/problem"
	"github.com/sagegate/sagegate/internal/routing"
)

// Self-service vending. Each template of a LOB gives each member a
// notebook target of their own (routing.NotebookTargets), named by
// routing.NotebookName: opening it the first time creates it. A template
// that allows more than one per person (maxPerUser) vends the others on
// request (Vend), and those are recorded in the person's user record,
// since their names are not implied by the template.

// Codes of vending refusals.
const (
	CodeTemplateNotFound    = "template_not_found"
	CodeInstanceTypeRefused = "instance_type_not_allowed"
	CodeLimit               = "notebook_limit"
	CodeReadOnly            = "routes_read_only"
)

// VendRequest asks for a notebook from a template.
type VendRequest struct {
	LOB          string `json:"lob"`
	Template     string `json:"template"`
	InstanceType string `json:"instanceType,omitempty"`
}

// SpecFor is the CreateNotebookInstance request that template tpl makes
// for owner in target t's LOB. Root access and direct internet access stay
// off unless the template turns them on.
func SpecFor(tpl routing.NotebookTemplate, t routing.Target, owner, instanceType string) broker.NotebookSpec {
	tags := maps.Clone(tpl.Tags)
	if tags == nil {
		tags = map[string]string{}
	}
	tags[TagUser], tags[TagLOB], tags[TagTemplate] = owner, t.LOB, tpl.Name
	return broker.NotebookSpec{
		InstanceType: instanceType,
		RoleARN:      tpl.ExecutionRoleARN(routing.LOB{AccountID: t.AccountID, Region: t.Region}),
		KMSKeyID:     tpl.KMSKeyID, LifecycleConfig: tpl.LifecycleConfig,
		SubnetID: tpl.SubnetID, SecurityGroupIDs: slices.Clone(tpl.SecurityGroupIDs),
		VolumeSizeGB: tpl.VolumeSize(), RootAccess: tpl.RootAccess, DirectInternetAccess: tpl.DirectInternetAccess,
		Tags: tags,
	}
}

// createFromTemplate creates t's instance from its template with the
// template's default instance type: a first open of a template target.
func (m *Manager) createFromTemplate(ctx context.Context, p *identity.Principal, t routing.Target) error {
	tpl := *t.NotebookTemplate
	return m.create(ctx, p, t, SpecFor(tpl, t, t.Owner, tpl.InstanceTypes[0]))
}

func (m *Manager) create(ctx context.Context, p *identity.Principal, t routing.Target, spec broker.NotebookSpec) error {
	begin := m.now()
	err := m.ctl.CreateNotebook(ctx, p, t, spec)
	m.record(ctx, ActionCreate, p, t, begin, err)
	if err == nil {
		m.log.InfoContext(ctx, "notebook: created", "user", p.Username, "target", t.ID, "account", t.AccountID,
			"instance", t.NotebookInstance, "instanceType", spec.InstanceType)
	}
	return err
}

// Vend creates a notebook for p from the template req names, one of the
// templates among p's targets: the first free one of the person's
// template.MaxInstances() names. It returns the new target and the flight
// that waits for it.
func (m *Manager) Vend(ctx context.Context, p *identity.Principal, targets []routing.Target, req VendRequest) (routing.Target, *Flight, error) {
	i := slices.IndexFunc(targets, func(t routing.Target) bool {
		return t.Kind == routing.KindNotebook && t.NotebookTemplate != nil && t.Owner == p.Username &&
			t.LOB == req.LOB && t.NotebookTemplate.Name == req.Template
	})
	if i < 0 {
		return routing.Target{}, nil, problem.New(http.StatusNotFound, CodeTemplateNotFound,
			fmt.Sprintf("You have no notebook template %q in line of business %q. GET /api/v1/targets lists your notebooks and their templates.", req.Template, req.LOB))
	}
	return m.vendFrom(ctx, p, p.Username, targets[i], req.InstanceType)
}

// vendFrom creates owner's next notebook from the template of base (their
// template target), with instance type itype ("" for the default), as
// actor (owner, or an administrator).
func (m *Manager) vendFrom(ctx context.Context, actor *identity.Principal, owner string, base routing.Target, itype string) (routing.Target, *Flight, error) {
	tpl := *base.NotebookTemplate
	if itype == "" {
		itype = tpl.InstanceTypes[0]
	}
	if !slices.Contains(tpl.InstanceTypes, itype) {
		return routing.Target{}, nil, problem.New(http.StatusBadRequest, CodeInstanceTypeRefused,
			fmt.Sprintf("Template %q allows the instance types %s, not %q.", tpl.Name, strings.Join(tpl.InstanceTypes, ", "), itype))
	}

	existing, err := m.ctl.ListNotebooks(ctx, actor, base, broker.NotebookFilter{NameContains: base.NotebookInstance})
	if err != nil {
		return routing.Target{}, nil, err
	}
	taken := map[string]bool{}
	for _, nb := range existing {
		taken[strings.ToLower(nb.Name)] = true
	}
	n, name := 0, ""
	for k := 1; k <= tpl.MaxInstances(); k++ {
		cand, err := routing.NotebookName(tpl.Name, owner, k)
		if err != nil {
			return routing.Target{}, nil, problem.Wrap(err, http.StatusBadRequest, CodeTemplateNotFound, "Your username cannot name a notebook instance.")
		}
		if !taken[strings.ToLower(cand)] {
			n, name = k, cand
			break
		}
	}
	if n == 0 {
		return routing.Target{}, nil, problem.New(http.StatusConflict, CodeLimit,
			fmt.Sprintf("You already have %d notebook(s) from template %q, the most it allows. Open one of them, or ask your platform team.", tpl.MaxInstances(), tpl.Name))
	}

	t := base
	t.NotebookInstance, t.ID = name, routing.NotebookTargetID(base.LOB, name)
	ref := routing.NotebookRef{LOB: base.LOB, Name: name, Template: tpl.Name}
	if n > 1 {
		t.Label = fmt.Sprintf("%s #%d", base.Label, n)
		ref.Label = t.Label
		// Only the first is implied by the template: check that the others
		// can be recorded before creating anything.
		if err := m.checkWritable(ctx, owner); err != nil {
			return routing.Target{}, nil, err
		}
	}
	if err := m.create(ctx, actor, t, SpecFor(tpl, t, owner, itype)); err != nil {
		return routing.Target{}, nil, err
	}
	if n > 1 {
		if _, err := m.addUserNotebook(ctx, owner, ref); err != nil {
			m.log.ErrorContext(ctx, "notebook: created but not recorded in the routes; add it with `sagegate routes put-user`",
				"user", owner, "lob", ref.LOB, "instance", ref.Name, "err", err)
			return routing.Target{}, nil, problem.Wrap(err, http.StatusServiceUnavailable, problem.CodeUnavailable,
				"Your notebook was created but could not be added to your list. Send the request id to your platform team.")
		}
	}
	f, _ := m.startFlight(ctx, actor, t, StatePending, false)
	return t, f, nil
}

// errProbe aborts the update checkWritable makes.
var errProbe = errors.New("probe")

// checkWritable finds out whether user's record can be written without
// writing it: a read-only store refuses before calling the update.
func (m *Manager) checkWritable(ctx context.Context, user string) error {
	if m.opts.Store == nil {
		return readOnly(nil)
	}
	err := m.opts.Store.UpdateUser(ctx, user, func(u routing.User) (routing.User, error) { return u, errProbe })
	switch {
	case errors.Is(err, errProbe), errors.Is(err, routing.ErrNotFound):
		return nil
	case errors.Is(err, routing.ErrReadOnly):
		return readOnly(err)
	}
	return problem.Wrap(err, http.StatusServiceUnavailable, problem.CodeUnavailable, "The routing store cannot be read right now.")
}

func readOnly(err error) error {
	return problem.Wrap(err, http.StatusConflict, CodeReadOnly,
		"More than one notebook per template needs a routing store sagegate can write to (a routes file or DynamoDB); these routes are read-only.")
}

// errAlreadyRecorded aborts an update that would change nothing.
var errAlreadyRecorded = errors.New("already recorded")

// addUserNotebook records ref among user's notebooks, creating the user's
// record when there is none. It reports whether anything changed: the
// same notebook recorded twice (an event delivered twice) is no change.
func (m *Manager) addUserNotebook(ctx context.Context, user string, ref routing.NotebookRef) (bool, error) {
	if m.opts.Store == nil {
		return false, readOnly(nil)
	}
	for range 3 {
		err := m.opts.Store.UpdateUser(ctx, user, func(u routing.User) (routing.User, error) {
			if slices.ContainsFunc(u.Notebooks, func(r routing.NotebookRef) bool { return r.LOB == ref.LOB && r.Name == ref.Name }) {
				return u, errAlreadyRecorded
			}
			u.Notebooks = append(u.Notebooks, ref)
			return u, nil
		})
		switch {
		case err == nil:
			m.userChanged(user)
			return true, nil
		case errors.Is(err, errAlreadyRecorded):
			return false, nil
		case !errors.Is(err, routing.ErrNotFound):
			return false, err
		}
		err = m.opts.Store.CreateUser(ctx, routing.User{Name: user, Notebooks: []routing.NotebookRef{ref}})
		if err == nil {
			m.userChanged(user)
		}
		if !errors.Is(err, routing.ErrAlreadyExists) {
			return err == nil, err
		}
		// Created by someone else meanwhile: update it instead.
	}
	return false, fmt.Errorf("recording notebook %q of %q: %w", ref.Name, user, routing.ErrConflict)
}

func (m *Manager) userChanged(user string) {
	if m.opts.UserChanged != nil {
		m.opts.UserChanged(user)
	}
}

// Stop stops t's instance for p, who must own it or be an admin.
func (m *Manager) Stop(ctx context.Context, p *identity.Principal, t routing.Target) error {
	if !m.MayManage(p, t) {
		err := problem.New(http.StatusForbidden, problem.CodeForbidden,
			fmt.Sprintf("Only the owner of notebook %q or a notebook administrator may stop it.", t.NotebookInstance))
		m.record(ctx, ActionStop, p, t, m.now(), err)
		return err
	}
	return m.stop(ctx, p, t)
}

// stop stops t's instance, with no question of who may.
func (m *Manager) stop(ctx context.Context, p *identity.Principal, t routing.Target) error {
	begin := m.now()
	err := m.ctl.StopNotebook(ctx, p, t)
	m.record(ctx, ActionStop, p, t, begin, err)
	if err == nil {
		m.remember(t, StateStopping)
		m.forgetFlight(t)
	}
	return err
}
