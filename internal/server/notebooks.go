package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/sagegate/sagegate/internal/broker"
	"github.com/sagegate/sagegate/internal/identity"
	"github.com/sagegate/sagegate/internal/notebooks"
	"github.com/sagegate/sagegate/internal/problem"
	"github.com/sagegate/sagegate/internal/routing"
	"github.com/sagegate/sagegate/internal/session"
)

// Notebook instance targets over HTTP. Opening one (GET /launch/{id} or
// POST /api/v1/targets/{id}/launch) redirects into an InService instance at
// once; any other is started or waited for by the notebooks.Manager, and
// meanwhile a browser gets a progress page that follows the wait through
// server-sent events (GET /notebooks/{id}/events; without script it
// reloads itself), an API client 202 with a status URL.

// notebookRoutes mounts the notebook endpoints; launches come through
// launch() like any target's.
func (s *Server) notebookRoutes(mux *http.ServeMux) {
	if s.opts.Notebooks == nil {
		return
	}
	mux.Handle("GET /notebooks/{id}/events", s.authed(s.notebookEvents))
	mux.Handle("GET /api/v1/targets/{id}/status", s.authed(s.notebookStatus))
	mux.Handle("POST /api/v1/targets/{id}/stop", s.authed(s.notebookStop))
	mux.Handle("POST /api/v1/notebooks", s.authed(s.notebookVend))
	mux.Handle("POST /refreshurl", s.authed(s.refreshURL))
}

// progressPoll is how often a page without script reloads itself, and
// what Retry-After tells API clients.
const progressPoll = 3 * time.Second

// launchNotebook opens notebook target t: the URL, or the wait for it.
func (s *Server) launchNotebook(w http.ResponseWriter, r *http.Request, p *identity.Principal, t routing.Target, start time.Time, redirect bool) error {
	if s.opts.Notebooks == nil {
		err := problem.New(http.StatusNotFound, problem.CodeTargetNotFound, "Notebook instances are not enabled on this sagegate.")
		s.record(r, p, &t, start, err)
		return err
	}
	// Following a wait that is already running costs no launch token: a
	// page without script reloads every few seconds until the notebook is
	// up. Starting one, or minting a URL, does.
	if f := s.opts.Notebooks.Flight(t); f == nil || f.Progress().Done {
		if err := s.allowLaunch(p); err != nil {
			s.record(r, p, &t, start, err)
			return err
		}
	}
	ctx := notebooks.WithSourceIP(r.Context(), sourceIP(r))
	o, err := s.opts.Notebooks.Open(ctx, p, t)
	if err == nil && o.Flight == nil {
		err = checkURL(o.Result.URL)
	}
	if err != nil {
		s.record(r, p, &t, start, err)
		return err
	}
	if o.Flight == nil {
		s.record(r, p, &t, start, nil)
		return respondURL(w, r, o.Result.URL, o.Result.ExpiresAt, redirect)
	}
	progress := o.Flight.Progress()
	if redirect && wantsHTML(r) {
		w.Header().Set("Cache-Control", "no-store")
		page := s.progressPage(r, t, progress)
		page.Joined = o.Joined
		s.page(w, r, http.StatusOK, "notebook.html", page)
		return nil
	}
	return writeAccepted(w, t, progress)
}

// statusJSON is a wait as API clients see it.
type statusJSON struct {
	Target         string           `json:"target"`
	State          string           `json:"state"`
	FailureReason  string           `json:"failureReason,omitempty"`
	ElapsedSeconds int              `json:"elapsedSeconds"`
	History        []notebooks.Step `json:"history,omitempty"`
	Done           bool             `json:"done"`
	Ready          bool             `json:"ready"`
	// StatusURL is where to ask again; LaunchURL what to POST once ready.
	StatusURL string     `json:"statusUrl"`
	LaunchURL string     `json:"launchUrl"`
	Error     *errorJSON `json:"error,omitempty"`
}

type errorJSON struct {
	Code   string `json:"code"`
	Detail string `json:"detail"`
}

func newStatusJSON(t routing.Target, p notebooks.Progress) statusJSON {
	id := url.PathEscape(t.ID)
	out := statusJSON{
		Target: t.ID, State: p.State, FailureReason: p.FailureReason, ElapsedSeconds: int(p.Elapsed / time.Second),
		History: p.History, Done: p.Done, Ready: p.Ready,
		StatusURL: "/api/v1/targets/" + id + "/status", LaunchURL: "/api/v1/targets/" + id + "/launch",
	}
	if p.Err != nil {
		pe := problem.From(p.Err)
		out.Error = &errorJSON{Code: pe.Code, Detail: pe.Detail}
	}
	return out
}

// writeAccepted answers 202: the notebook is on its way.
func writeAccepted(w http.ResponseWriter, t routing.Target, p notebooks.Progress) error {
	st := newStatusJSON(t, p)
	h := w.Header()
	h.Set("Cache-Control", "no-store")
	h.Set("Location", st.StatusURL)
	h.Set("Retry-After", strconv.Itoa(int(progressPoll/time.Second)))
	return writeJSON(w, http.StatusAccepted, st)
}

// notebookTarget finds the caller's notebook target named in the path.
func (s *Server) notebookTarget(r *http.Request, p *identity.Principal) (routing.Target, error) {
	id := r.PathValue("id")
	ts, err := s.targets(r, p)
	if err != nil {
		return routing.Target{}, err
	}
	t, ok := routing.FindTarget(ts, id)
	if !ok || t.Kind != routing.KindNotebook {
		return routing.Target{}, problem.New(http.StatusNotFound, problem.CodeTargetNotFound,
			fmt.Sprintf("You have no notebook %q. GET /api/v1/targets lists yours.", id))
	}
	return t, nil
}

// progressOf is the wait for t when there is one, else its state now.
func (s *Server) progressOf(r *http.Request, p *identity.Principal, t routing.Target) (notebooks.Progress, bool) {
	if f := s.opts.Notebooks.Flight(t); f != nil {
		return f.Progress(), true
	}
	state := s.opts.Notebooks.State(r.Context(), p, t)
	return notebooks.Progress{Target: t.ID, State: state, Done: state == notebooks.StateInService, Ready: state == notebooks.StateInService}, false
}

// GET /api/v1/targets/{id}/status.
func (s *Server) notebookStatus(w http.ResponseWriter, r *http.Request, p *identity.Principal) error {
	t, err := s.notebookTarget(r, p)
	if err != nil {
		return err
	}
	progress, _ := s.progressOf(r, p, t)
	w.Header().Set("Cache-Control", "no-store")
	return writeJSON(w, http.StatusOK, newStatusJSON(t, progress))
}

// sseKeepAlive is how often an idle event stream sends a comment, so that
// proxies do not take it for dead.
const sseKeepAlive = 15 * time.Second

// GET /notebooks/{id}/events: the wait as server-sent events. Each change
// is an event "state" with the status JSON; the last one is "ready",
// "failed" or, when nothing is waiting (nobody opened the notebook, or
// this gateway restarted), "idle", after which the page reloads to open it.
func (s *Server) notebookEvents(w http.ResponseWriter, r *http.Request, p *identity.Principal) error {
	t, err := s.notebookTarget(r, p)
	if err != nil {
		return err
	}
	rc := http.NewResponseController(w)
	// The server's write timeout is for ordinary requests; a wait is
	// bounded by notebooks.waitTimeout instead.
	_ = rc.SetWriteDeadline(time.Time{})
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	send := func(event string, v any) error {
		data, err := json.Marshal(v)
		if err != nil {
			return err
		}
		if _, err := fmt.Fprintf(w, "event: %s\ndata: %s\n\n", event, data); err != nil {
			return err
		}
		return rc.Flush()
	}
	f := s.opts.Notebooks.Flight(t)
	if f == nil {
		progress, _ := s.progressOf(r, p, t)
		st := newStatusJSON(t, progress)
		if err := send("state", st); err != nil {
			return nil
		}
		_ = send(finalEvent(progress, false), st)
		return nil
	}
	keepAlive := time.NewTicker(sseKeepAlive)
	defer keepAlive.Stop()
	for {
		progress, changed := f.Watch()
		st := newStatusJSON(t, progress)
		if err := send("state", st); err != nil {
			return nil // the browser left
		}
		if progress.Done {
			_ = send(finalEvent(progress, true), st)
			return nil
		}
		for waiting := true; waiting; {
			select {
			case <-changed:
				waiting = false
			case <-keepAlive.C:
				if _, err := io.WriteString(w, ": waiting\n\n"); err != nil || rc.Flush() != nil {
					return nil
				}
			case <-r.Context().Done():
				return nil
			}
		}
	}
}

func finalEvent(p notebooks.Progress, waiting bool) string {
	switch {
	case p.Ready:
		return "ready"
	case p.Done && waiting:
		return "failed"
	}
	return "idle"
}

// POST /api/v1/targets/{id}/stop: the owner (or an admin) stops their
// notebook. A browser form comes back to the launcher.
func (s *Server) notebookStop(w http.ResponseWriter, r *http.Request, p *identity.Principal) error {
	t, err := s.notebookTarget(r, p)
	if err != nil {
		return err
	}
	ctx := notebooks.WithSourceIP(r.Context(), sourceIP(r))
	if err := s.opts.Notebooks.Stop(ctx, p, t); err != nil {
		return err
	}
	if isForm(r) {
		http.Redirect(w, r, launcherPath, http.StatusSeeOther)
		return nil
	}
	w.Header().Set("Cache-Control", "no-store")
	return writeJSON(w, http.StatusAccepted, map[string]string{"target": t.ID, "state": notebooks.StateStopping})
}

// POST /api/v1/notebooks: a notebook vended from one of the caller's
// templates, {"lob", "template", "instanceType"} as JSON or a form.
func (s *Server) notebookVend(w http.ResponseWriter, r *http.Request, p *identity.Principal) error {
	var req notebooks.VendRequest
	if isForm(r) {
		req = notebooks.VendRequest{LOB: r.PostFormValue("lob"), Template: r.PostFormValue("template"), InstanceType: r.PostFormValue("instanceType")}
	} else if err := decodeJSON(r, &req); err != nil {
		return err
	}
	if req.LOB == "" || req.Template == "" {
		return problem.New(http.StatusBadRequest, problem.CodeBadRequest, `Send {"lob": ..., "template": ...}, and optionally "instanceType".`)
	}
	ts, err := s.targets(r, p)
	if err != nil {
		return err
	}
	ctx := notebooks.WithSourceIP(r.Context(), sourceIP(r))
	t, f, err := s.opts.Notebooks.Vend(ctx, p, ts, req)
	if err != nil {
		return err
	}
	if isForm(r) {
		http.Redirect(w, r, "/launch/"+url.PathEscape(t.ID), http.StatusSeeOther)
		return nil
	}
	return writeAccepted(w, t, f.Progress())
}

// refreshRequest is the AWS notebook-vending sample's refresh API body.
type refreshRequest struct {
	NotebookUserName string `json:"notebook_user_name"`
}

// POST /refreshurl: the AWS sample's API, {"notebook_user_name": ...} ->
// {"PreSignedURL": ...}, but authenticated, and only for the caller's own
// notebook unless they are a notebook admin. A refusal reads nothing and
// calls no AWS API.
func (s *Server) refreshURL(w http.ResponseWriter, r *http.Request, p *identity.Principal) error {
	start := s.now()
	t, o, err := s.refreshNotebook(r, p)
	s.recordAction(r, "refresh_url", p, t, start, err)
	if err != nil {
		return err
	}
	if o.Flight != nil {
		return writeAccepted(w, *t, o.Flight.Progress())
	}
	w.Header().Set("Cache-Control", "no-store")
	return writeJSON(w, http.StatusOK, map[string]string{"PreSignedURL": o.Result.URL})
}

// refreshNotebook is POST /refreshurl's decision, audited once by its
// caller: the notebook (nil until it is known) and its URL or wait.
func (s *Server) refreshNotebook(r *http.Request, p *identity.Principal) (*routing.Target, notebooks.Opened, error) {
	var req refreshRequest
	err := decodeJSON(r, &req)
	if err == nil && !notebooks.ValidUsername(req.NotebookUserName) {
		err = problem.New(http.StatusBadRequest, problem.CodeBadRequest, `Send {"notebook_user_name": "<username>"}.`)
	}
	if err == nil && req.NotebookUserName != p.Username && !s.opts.Notebooks.IsAdmin(p) {
		err = problem.New(http.StatusForbidden, problem.CodeForbidden,
			fmt.Sprintf("You are signed in as %q and may only refresh the URL of your own notebook.", p.Username))
	}
	if err != nil {
		return nil, notebooks.Opened{}, err
	}
	owner := p
	if req.NotebookUserName != p.Username {
		// An admin acting for someone: their record and LOBs decide which
		// notebook; their IdP groups are not known here.
		owner = &identity.Principal{Username: req.NotebookUserName}
	}
	ts, err := s.targets(r, owner)
	if err != nil {
		return nil, notebooks.Opened{}, err
	}
	t, ok := notebooks.NotebookOf(ts, owner.Username)
	if !ok {
		return nil, notebooks.Opened{}, problem.New(http.StatusNotFound, "no_notebook",
			fmt.Sprintf("%q has no notebook instance (or more than one shared one) in sagegate.", owner.Username))
	}
	if err := s.allowLaunch(p); err != nil {
		return &t, notebooks.Opened{}, err
	}
	ctx := notebooks.WithSourceIP(r.Context(), sourceIP(r))
	o, err := s.opts.Notebooks.Open(ctx, p, t)
	if err == nil && o.Flight != nil {
		// The sample's clients expect a URL in the answer: wait a while
		// for a notebook that is starting, then answer 202 if it is not up.
		o, err = s.waitThenOpen(ctx, p, t, o)
	}
	if err == nil && o.Flight == nil {
		err = checkURL(o.Result.URL)
	}
	if err == nil && o.Flight == nil {
		err = s.opts.Notebooks.Publish(ctx, p, t, owner.Username, o.Result.URL)
	}
	return &t, o, err
}

// refreshWait is how long POST /refreshurl waits for a starting notebook
// before it answers 202, well inside the server's write timeout.
const refreshWait = 25 * time.Second

// waitThenOpen waits (at most refreshWait) for o's flight, and opens t
// again once it is ready.
func (s *Server) waitThenOpen(ctx context.Context, p *identity.Principal, t routing.Target, o notebooks.Opened) (notebooks.Opened, error) {
	wctx, cancel := context.WithTimeout(ctx, refreshWait)
	defer cancel()
	progress, err := o.Flight.Wait(wctx)
	switch {
	case err != nil:
		return o, nil // still starting: 202
	case progress.Err != nil:
		return o, progress.Err
	}
	return s.opts.Notebooks.Open(ctx, p, t)
}

// decodeJSON reads a small JSON body strictly.
func decodeJSON(r *http.Request, v any) error {
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return problem.Wrap(err, http.StatusRequestEntityTooLarge, "body_too_large", "The request body is too large.")
		}
		return problem.Wrap(err, http.StatusBadRequest, problem.CodeBadRequest, "The request body is not the JSON this endpoint takes: "+err.Error())
	}
	return nil
}

func isForm(r *http.Request) bool {
	return strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded")
}

// progressPage is what notebook.html shows.
type progressPage struct {
	pageData
	Target                    routing.Target
	State, StateClass, Reason string
	Elapsed                   string
	ElapsedSeconds            int
	History                   []progressStep
	EventsURL, LaunchURL      string
	RefreshSeconds            int
	// Joined says another click (a tab, a colleague) began this start.
	Joined bool
}

type progressStep struct{ State, At string }

func (s *Server) progressPage(r *http.Request, t routing.Target, p notebooks.Progress) progressPage {
	id := url.PathEscape(t.ID)
	page := progressPage{
		pageData: s.pageData(r, "Starting "+t.Label),
		Target:   t, State: p.State, StateClass: stateClass(p.State), Reason: p.FailureReason,
		Elapsed: elapsedText(p.Elapsed), ElapsedSeconds: int(p.Elapsed / time.Second),
		EventsURL: "/notebooks/" + id + "/events", LaunchURL: "/launch/" + id,
		RefreshSeconds: int(progressPoll / time.Second),
	}
	for _, st := range p.History {
		page.History = append(page.History, progressStep{State: st.State, At: st.At.UTC().Format("15:04:05 UTC")})
	}
	return page
}

// elapsedText says a duration the way the progress page's script does.
func elapsedText(d time.Duration) string {
	sec := int(d / time.Second)
	if sec < 60 {
		return fmt.Sprintf("%d s", sec)
	}
	return fmt.Sprintf("%d min %02d s", sec/60, sec%60)
}

// stateClass picks the styling of a notebook state.
func stateClass(state string) string {
	switch state {
	case notebooks.StateInService:
		return "ok"
	case notebooks.StatePending, notebooks.StateUpdating, notebooks.StateStopping:
		return "busy"
	case notebooks.StateStopped, notebooks.StateNotCreated:
		return "stopped"
	case notebooks.StateFailed, notebooks.StateDeleting:
		return "failed"
	}
	return ""
}

// stopForm is the launcher's Stop button for an InService notebook its
// viewer may stop.
type stopForm struct{ Action, Field, Token, Label string }

// addStopForms puts a Stop button on the caller's InService notebooks
// that they may stop, for browser sessions (which carry a CSRF token).
func (s *Server) addStopForms(r *http.Request, p *identity.Principal, ts []routing.Target, groups []targetGroup) {
	if s.opts.Notebooks == nil || s.opts.Sessions == nil || r.Header.Get("Authorization") != "" {
		return
	}
	token := s.opts.Sessions.CSRFToken(r)
	if token == "" {
		return
	}
	for gi := range groups {
		for ii := range groups[gi].Items {
			it := &groups[gi].Items[ii]
			t, ok := routing.FindTarget(ts, it.ID)
			if !ok || it.State != notebooks.StateInService || !s.opts.Notebooks.MayManage(p, t) {
				continue
			}
			it.Stop = &stopForm{Action: "/api/v1/targets/" + url.PathEscape(t.ID) + "/stop", Field: session.CSRFField, Token: token, Label: it.Label}
		}
	}
}

// notebookAdvice is what the error page says about notebook failures.
func notebookAdvice(pe *problem.Error, tellTeam string, home link) (advice, bool) {
	switch pe.Code {
	case notebooks.CodeFailed:
		return advice{"Your notebook instance failed", "The reason above comes from AWS. " + tellTeam, []link{home}}, true
	case notebooks.CodeTimeout:
		return advice{"Your notebook is taking long to start",
			"It is still starting; nothing is lost. Wait a minute and click Open again: sagegate picks up the same start.", []link{home}}, true
	case notebooks.CodeDeleting, broker.CodeNotebookNotFound:
		return advice{"This notebook is gone", "Its instance was deleted. Ask your platform team for a new one, or request one from a template on your launcher.", []link{home}}, true
	case broker.CodeNotebookState, notebooks.CodeStopped:
		return advice{"The notebook is busy", "It is changing state right now. Wait a moment, reload your launcher and try again.", []link{home}}, true
	case notebooks.CodeLimit, notebooks.CodeTemplateNotFound, notebooks.CodeInstanceTypeRefused, notebooks.CodeReadOnly:
		return advice{"No new notebook", "Your launcher lists the notebooks you have. Ask your platform team if you need another.", []link{home}}, true
	}
	return advice{}, false
}
