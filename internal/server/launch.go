package server

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"slices"
	"time"

	"github.com/sagegate/sagegate/internal/audit"
	"github.com/sagegate/sagegate/internal/identity"
	"github.com/sagegate/sagegate/internal/problem"
	"github.com/sagegate/sagegate/internal/reqid"
	"github.com/sagegate/sagegate/internal/routing"
)

// targets resolves p's targets, mapping routing failures to problems.
func (s *Server) targets(r *http.Request, p *identity.Principal) ([]routing.Target, error) {
	ts, err := s.opts.Resolver.Targets(r.Context(), p)
	switch {
	case errors.Is(err, routing.ErrUserDisabled):
		return nil, problem.Wrap(err, http.StatusForbidden, "user_disabled", fmt.Sprintf("The account %q is disabled in sagegate.", p.Username))
	case err != nil:
		pe := problem.Wrap(err, http.StatusServiceUnavailable, problem.CodeUnavailable, "The routing store cannot be read right now.")
		pe.RetryAfter = 5 * time.Second
		return nil, pe
	}
	return ts, nil
}

func noTargets(p *identity.Principal) error {
	return problem.New(http.StatusNotFound, problem.CodeNoTargets,
		fmt.Sprintf("No SageMaker Studio is assigned to %q.", p.Username))
}

// GET /studio: the caller's Studio. One target launches; several send a
// browser to a choice page and an API client a 409 listing them.
func (s *Server) studio(w http.ResponseWriter, r *http.Request, p *identity.Principal) error {
	start := s.now()
	ts, err := s.targets(r, p)
	// Notebooks have their own launch links; /studio is about Studio.
	ts = studioTargets(ts)
	if err == nil && len(ts) == 0 {
		err = noTargets(p)
	}
	if err != nil {
		s.record(r, p, nil, start, err)
		return err
	}
	if len(ts) == 1 {
		return s.launch(w, r, p, ts[0], start, true)
	}
	if wantsHTML(r) {
		s.page(w, r, http.StatusOK, "choose.html", choosePage{pageData: s.pageData(r, "Choose a Studio"), Targets: ts})
		return nil
	}
	pe := problem.New(http.StatusConflict, problem.CodeChooseTarget,
		"You have more than one Studio: launch one of the listed targets with GET /launch/{id} or POST /api/v1/targets/{id}/launch.")
	pe.Fields = map[string]any{"targets": ts}
	return pe
}

// studioTargets returns the Studio targets of ts without changing ts, which
// the resolver may share (a cache of them, say). Only a list that holds
// other kinds is copied, so the usual all-Studio list costs nothing.
func studioTargets(ts []routing.Target) []routing.Target {
	notStudio := func(t routing.Target) bool { return t.Kind != routing.KindStudio }
	i := slices.IndexFunc(ts, notStudio)
	if i < 0 {
		return ts
	}
	out := make([]routing.Target, i, len(ts)-1)
	copy(out, ts[:i])
	for _, t := range ts[i+1:] {
		if !notStudio(t) {
			out = append(out, t)
		}
	}
	return out
}

// GET /studio/{user}: the AWS multi-account sample's path. Only the caller
// may use their own name, checked before anything else runs.
func (s *Server) studioForUser(w http.ResponseWriter, r *http.Request, p *identity.Principal) error {
	if u := r.PathValue("user"); u != p.Username {
		err := problem.New(http.StatusForbidden, problem.CodeForbidden,
			fmt.Sprintf("You are signed in as %q and cannot open the Studio of another user.", p.Username))
		s.record(r, p, nil, s.now(), err)
		return err
	}
	return s.studio(w, r, p)
}

// GET /launch/{id}: a bookmarkable deep link; 302 into the target.
func (s *Server) launchRedirect(w http.ResponseWriter, r *http.Request, p *identity.Principal) error {
	return s.launchByID(w, r, p, true)
}

// POST /api/v1/targets/{id}/launch: the URL as JSON.
func (s *Server) launchJSON(w http.ResponseWriter, r *http.Request, p *identity.Principal) error {
	return s.launchByID(w, r, p, false)
}

func (s *Server) launchByID(w http.ResponseWriter, r *http.Request, p *identity.Principal, redirect bool) error {
	start := s.now()
	id := r.PathValue("id")
	ts, err := s.targets(r, p)
	if err != nil {
		s.record(r, p, &routing.Target{ID: id}, start, err)
		return err
	}
	t, ok := routing.FindTarget(ts, id)
	if !ok {
		// The same answer whether the target exists for someone else or not
		// at all: the caller learns nothing about other people's targets.
		err := problem.New(http.StatusNotFound, problem.CodeTargetNotFound,
			fmt.Sprintf("You have no target %q. GET /api/v1/targets lists yours.", id))
		s.record(r, p, &routing.Target{ID: id}, start, err)
		return err
	}
	return s.launch(w, r, p, t, start, redirect)
}

// launch mints the URL and answers with a redirect or JSON.
func (s *Server) launch(w http.ResponseWriter, r *http.Request, p *identity.Principal, t routing.Target, start time.Time, redirect bool) error {
	if t.Kind == routing.KindNotebook {
		return s.launchNotebook(w, r, p, t, start, redirect)
	}
	if err := s.allowLaunch(p); err != nil {
		s.record(r, p, &t, start, err)
		return err
	}
	res, err := s.opts.Launcher.Launch(r.Context(), p, t)
	if err == nil {
		err = checkURL(res.URL)
	}
	s.record(r, p, &t, start, err)
	if err != nil {
		return err
	}
	return respondURL(w, r, res.URL, res.ExpiresAt, redirect)
}

// respondURL answers a minted URL, Studio's or a notebook's: a redirect,
// or JSON.
func respondURL(w http.ResponseWriter, r *http.Request, u string, expires time.Time, redirect bool) error {
	h := w.Header()
	h.Set("Cache-Control", "no-store")
	h.Set("Referrer-Policy", "no-referrer")
	if redirect && !wantsJSON(r) {
		// Location is exactly what SageMaker returned; nothing from the
		// request goes into it.
		h.Set("Location", u)
		w.WriteHeader(http.StatusFound)
		return nil
	}
	return writeJSON(w, http.StatusOK, launchResponse{URL: u, ExpiresAt: expires.UTC().Format(time.RFC3339)})
}

// allowLaunch takes one of p's launch tokens.
func (s *Server) allowLaunch(p *identity.Principal) error {
	if s.opts.LaunchLimiter == nil {
		return nil
	}
	ok, wait := s.opts.LaunchLimiter.Allow(p.Username)
	if ok {
		return nil
	}
	s.opts.Metrics.Rejected("user_rate")
	pe := problem.New(http.StatusTooManyRequests, "rate_limited",
		fmt.Sprintf("Too many launches by %q in a short time. Try again in a few seconds.", p.Username))
	pe.RetryAfter = wait
	return pe
}

type launchResponse struct {
	URL       string `json:"url"`
	ExpiresAt string `json:"expiresAt"`
}

// checkURL refuses to redirect anywhere but an absolute http(s) URL, in
// case a misbehaving endpoint answers with something else.
func checkURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return problem.New(http.StatusBadGateway, problem.CodeAWSError, "SageMaker returned a URL that is not a web address.")
	}
	return nil
}

// GET /api/v1/targets.
func (s *Server) listTargets(w http.ResponseWriter, r *http.Request, p *identity.Principal) error {
	ts, err := s.targets(r, p)
	if err != nil {
		return err
	}
	if ts == nil {
		ts = []routing.Target{}
	}
	w.Header().Set("Cache-Control", "no-store")
	return writeJSON(w, http.StatusOK, map[string]any{"user": p.Username, "targets": ts})
}

// record writes the audit event for one launch decision.
func (s *Server) record(r *http.Request, p *identity.Principal, t *routing.Target, start time.Time, err error) {
	s.recordAction(r, "launch", p, t, start, err)
}

func (s *Server) recordAction(r *http.Request, action string, p *identity.Principal, t *routing.Target, start time.Time, err error) {
	e := audit.Event{
		Time: s.now(), RequestID: reqid.From(r.Context()), Action: action,
		SourceIP: sourceIP(r), Latency: s.now().Sub(start),
	}
	if p != nil {
		e.User, e.Subject, e.Issuer = p.Username, p.Subject, p.Issuer
	}
	if t != nil {
		e.Target, e.Account, e.Region, e.Domain, e.Profile = t.ID, t.AccountID, t.Region, t.DomainID, t.UserProfile
	}
	e.SetResult(err)
	s.audit.Record(r.Context(), e)
	if action == "launch" {
		kind := "none"
		if t != nil && t.Kind != "" {
			kind = t.Kind
		}
		s.opts.Metrics.Launch(kind, e.Outcome, e.Latency)
	}
}

// auditRefused records a request refused at authentication.
func (s *Server) auditRefused(r *http.Request, err error) {
	s.recordAction(r, "authenticate", nil, nil, s.now(), err)
}

func sourceIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}
