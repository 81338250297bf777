package server

import (
	"cmp"
	"context"
	"net/http"
	"net/url"
	"slices"
	"strconv"

	"github.com/sagegate/sagegate/internal/identity"
	"github.com/sagegate/sagegate/internal/problem"
	"github.com/sagegate/sagegate/internal/reqid"
	"github.com/sagegate/sagegate/internal/routing"
)

// StateReporter is implemented by a Launcher that can tell cheaply what
// state targets are in (a notebook instance: Stopped, Pending, InService),
// so the launcher page can show it beside the Open button. Targets missing
// from the answer show no state; Studio domains have none worth showing.
type StateReporter interface {
	TargetStates(ctx context.Context, p *identity.Principal, ts []routing.Target) map[string]string
}

// kindNotebook is the kind of a notebook-instance target, which the
// launcher already knows how to show.
const kindNotebook = "notebook"

// launcherRoutes mounts the launcher page, the page explaining a Studio
// that refuses the person's network, and the sign-in description that
// `sagegate open` reads. None needs authentication to be reached.
func (s *Server) launcherRoutes(mux *http.ServeMux) {
	mux.Handle("GET /{$}", s.handle(s.launcher))
	mux.Handle("GET /help/network", s.handle(s.networkHelp))
	mux.Handle("GET /api/v1/login-config", s.handle(s.loginConfig))
}

type launcherPage struct {
	pageData
	// SignedOut pages offer SignInURL when browser sign-in is configured.
	SignedOut bool
	SignInURL string
	Groups    []targetGroup
	// Empty is what to say when the person has nothing to open.
	Empty     *errorPage
	RequestID string
}

// targetGroup is one line of business in one account.
type targetGroup struct {
	ID                   string // unique on the page, for aria-labelledby
	LOB, Account, Region string
	Items                []targetItem
}

type targetItem struct {
	ID, Label, Href, Kind, KindLabel string
	DomainID, UserProfile, Space     string
	NotebookInstance                 string
	// State is a notebook's state; StateClass picks its styling (ok,
	// busy, stopped, failed), the text itself always says it too.
	State, StateClass string
	OpenLabel         string
	// Stop is the Stop button of an InService notebook the viewer may stop.
	Stop *stopForm
}

// GET /: the person's targets, or a sign-in button. It is the one page
// that is useful signed out, so a missing credential is not an error here;
// an invalid one still is.
func (s *Server) launcher(w http.ResponseWriter, r *http.Request) error {
	w.Header().Set("Cache-Control", "no-store")
	r, p, err := s.optionalPrincipal(w, r)
	if err != nil {
		return err
	}
	if p == nil {
		page := launcherPage{pageData: s.pageData(r, "Sign in"), SignedOut: true}
		if s.opts.Sessions != nil {
			page.SignInURL = s.opts.Sessions.LoginURL(launcherPath)
		}
		s.page(w, r, http.StatusOK, "launcher.html", page)
		return nil
	}
	ts, err := s.targets(r, p)
	if err != nil {
		return err
	}
	page := launcherPage{pageData: s.pageData(r, "Launcher"), RequestID: reqid.From(r.Context())}
	if len(ts) == 0 {
		pe := problem.From(noTargets(p))
		ep := s.errorPage(r, pe, http.StatusOK, page.RequestID)
		page.Empty = &ep
	} else {
		var states map[string]string
		if sr, ok := s.opts.Launcher.(StateReporter); ok {
			states = sr.TargetStates(r.Context(), p, ts)
		} else if s.opts.Notebooks != nil {
			states = s.opts.Notebooks.TargetStates(r.Context(), p, ts)
		}
		page.Groups = groupTargets(ts, states)
		s.addStopForms(r, p, ts, page.Groups)
	}
	s.page(w, r, http.StatusOK, "launcher.html", page)
	return nil
}

// optionalPrincipal authenticates r if it carries a credential. No
// credential is not an error (p is nil); an invalid one is, and is audited
// like any refused request.
func (s *Server) optionalPrincipal(w http.ResponseWriter, r *http.Request) (*http.Request, *identity.Principal, error) {
	p, err := s.authenticate(w, r)
	switch {
	case err != nil && identity.ReasonOf(err) == identity.ReasonMissingToken:
		return r, nil, nil
	case err != nil:
		s.auditRefused(r, err)
		return r, nil, err
	}
	return r.WithContext(context.WithValue(r.Context(), principalKey{}, p)), p, nil
}

// groupTargets orders targets by LOB and account, then by label, so the
// page reads the same on every visit whatever order the store returned.
func groupTargets(ts []routing.Target, states map[string]string) []targetGroup {
	ts = slices.Clone(ts)
	slices.SortStableFunc(ts, func(a, b routing.Target) int {
		return cmp.Or(cmp.Compare(a.LOB, b.LOB), cmp.Compare(a.AccountID, b.AccountID),
			cmp.Compare(cmp.Or(a.Label, a.ID), cmp.Or(b.Label, b.ID)), cmp.Compare(a.ID, b.ID))
	})
	var groups []targetGroup
	for _, t := range ts {
		if n := len(groups); n == 0 || groups[n-1].LOB != t.LOB || groups[n-1].Account != t.AccountID {
			groups = append(groups, targetGroup{
				ID: "group-" + strconv.Itoa(n+1), LOB: cmp.Or(t.LOB, "Other"), Account: t.AccountID, Region: t.Region,
			})
		}
		g := &groups[len(groups)-1]
		g.Items = append(g.Items, newTargetItem(t, states[t.ID]))
	}
	return groups
}

func newTargetItem(t routing.Target, state string) targetItem {
	it := targetItem{
		ID: t.ID, Label: cmp.Or(t.Label, t.ID), Kind: t.Kind,
		Href:     "/launch/" + url.PathEscape(t.ID),
		DomainID: t.DomainID, UserProfile: t.UserProfile, Space: t.Space, NotebookInstance: t.NotebookInstance,
		State: state, OpenLabel: "Open",
	}
	switch {
	case t.Kind == routing.KindStudio && t.Space != "":
		it.KindLabel = "Studio space"
	case t.Kind == routing.KindStudio:
		it.KindLabel = "Studio"
	case t.Kind == kindNotebook:
		it.KindLabel = "Notebook"
	default:
		it.KindLabel = t.Kind
	}
	// Notebook instance states (SageMaker's NotebookInstanceStatus).
	switch state {
	case "InService":
		it.StateClass = "ok"
	case "Pending", "Updating", "Stopping":
		it.StateClass = "busy"
	case "Stopped":
		it.StateClass, it.OpenLabel = "stopped", "Start and open"
	case "Not created":
		it.StateClass, it.OpenLabel = "stopped", "Create and open"
	case "Failed", "Deleting":
		it.StateClass = "failed"
	}
	return it
}

// GET /help/network: where a person lands, from the launcher's help or a
// link the platform team shares, after Studio refused them with "Auth
// token containing insufficient permissions". sagegate cannot see that
// refusal (it happens between the browser and AWS), so the page explains
// how to recognise it and what to do.
func (s *Server) networkHelp(w http.ResponseWriter, r *http.Request) error {
	r, _, err := s.optionalPrincipal(w, r)
	if err != nil {
		return err
	}
	pe := problem.New(http.StatusForbidden, CodeWrongNetwork,
		`If Studio opened in a new tab and said "Auth token containing insufficient permissions", or the tab could not reach the site at all, `+
			`the Studio you opened only accepts connections from your company's network (through a private AWS endpoint), and your browser is not on it.`)
	s.page(w, r, http.StatusOK, "error.html", s.errorPage(r, pe, http.StatusOK, reqid.From(r.Context())))
	return nil
}

// GET /api/v1/login-config: how `sagegate open` signs in. It is public
// (nothing in it is secret) because the CLI needs it before it has a token.
func (s *Server) loginConfig(w http.ResponseWriter, r *http.Request) error {
	if s.opts.Sessions == nil {
		return problem.New(http.StatusNotFound, "login_not_configured",
			"This sagegate has no sign-in configured; tell `sagegate open` the provider with --issuer and --client-id.")
	}
	w.Header().Set("Cache-Control", "no-cache")
	return writeJSON(w, http.StatusOK, s.opts.Sessions.CLIClient())
}
