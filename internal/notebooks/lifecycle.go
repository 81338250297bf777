package notebooks

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/sagegate/sagegate/internal/broker"
	"github.com/sagegate/sagegate/internal/identity"
	"github.com/sagegate/sagegate/internal/problem"
	"github.com/sagegate/sagegate/internal/routing"
)

// Opening a notebook. An InService instance is opened at once (a presigned
// URL). Any other instance gets a Flight: one background wait per instance,
// started by the first click and joined by every later one, that starts
// the instance when it is Stopped (after waiting out Stopping or Updating),
// creates it when it is a template's and does not exist yet, and polls until
// it is InService, Failed, or the wait's bound passes. The flight runs
// detached from the request that began it: closing the tab abandons
// nothing, and the next click (or another tab) picks up where it is.

// Codes of the errors a person may see.
const (
	CodeFailed   = "notebook_failed"
	CodeDeleting = "notebook_deleting"
	CodeTimeout  = "notebook_start_timeout"
	CodeStopped  = "notebook_stopped_again"
)

// recentlyReady is how long a finished flight answers for its instance:
// the progress page's next request mints without describing again, and a
// status poll arriving just after the end still sees how it ended.
const recentlyReady = 30 * time.Second

// Step is one state an instance was seen in while sagegate waited.
type Step struct {
	State string    `json:"state"`
	At    time.Time `json:"at"`
}

// Progress is a flight as pages and API clients see it.
type Progress struct {
	Target        string
	State         string
	FailureReason string
	History       []Step
	Started       time.Time
	Elapsed       time.Duration
	// Done is set once the wait is over: Ready (InService) or Err.
	Done  bool
	Ready bool
	Err   error
}

// Flight is the one wait for one instance.
type Flight struct {
	target  routing.Target
	started time.Time
	now     func() time.Time

	mu      sync.Mutex
	history []Step
	reason  string
	done    bool
	doneAt  time.Time
	err     error
	changed chan struct{}
}

// Opened is the outcome of Open: a URL, or a flight to follow.
type Opened struct {
	Result broker.Result
	Flight *Flight
	// Joined tells that the flight was already running (another click
	// started it).
	Joined bool
}

// Open opens t for p: a presigned URL when the instance is InService,
// otherwise the flight that gets it there. An instance that Failed or is
// being deleted is an error that says so, with AWS's FailureReason.
func (m *Manager) Open(ctx context.Context, p *identity.Principal, t routing.Target) (Opened, error) {
	if f := m.flight(instanceKey(t)); f != nil {
		pr := f.Progress()
		switch {
		case !pr.Done:
			return Opened{Flight: f, Joined: true}, nil
		case pr.Ready:
			return m.mint(ctx, p, t)
		}
		// It ended badly a moment ago: look again, the instance may have
		// been fixed, and a new click deserves a new try.
	}
	nb, err := m.ctl.DescribeNotebook(ctx, p, t)
	if errors.Is(err, broker.ErrNotebookNotFound) {
		return m.openMissing(ctx, p, t, err)
	}
	if err != nil {
		return Opened{}, err
	}
	m.remember(t, nb.Status)
	switch nb.Status {
	case StateInService:
		return m.mint(ctx, p, t)
	case StateFailed:
		return Opened{}, failedError(t, nb.FailureReason)
	case StateDeleting:
		return Opened{}, deletingError(t)
	}
	return opened(m.startFlight(ctx, p, t, nb.Status, false))
}

// opened is the answer of a flight just joined or started: its error when
// its first step failed (a start AWS refused), so the click shows it.
func opened(f *Flight, joined bool) (Opened, error) {
	if p := f.Progress(); !joined && p.Done && p.Err != nil {
		return Opened{}, p.Err
	}
	return Opened{Flight: f, Joined: joined}, nil
}

// openMissing handles an instance that does not exist: a template's is
// created (self-service vending), a Service Catalog one is waited for,
// anything else is an error.
func (m *Manager) openMissing(ctx context.Context, p *identity.Principal, t routing.Target, notFound error) (Opened, error) {
	switch {
	case t.NotebookTemplate != nil && t.Owner == p.Username:
		return opened(m.startFlight(ctx, p, t, StateNotCreated, true))
	case t.ProvisionedProduct != "":
		return opened(m.startFlight(ctx, p, t, StateNotCreated, false))
	}
	return Opened{}, notFound
}

// mint presigns t and notes the launch on the instance for the reaper.
func (m *Manager) mint(ctx context.Context, p *identity.Principal, t routing.Target) (Opened, error) {
	res, err := m.ctl.PresignNotebook(ctx, p, t)
	if err != nil {
		return Opened{}, err
	}
	m.tagLaunch(ctx, p, t)
	return Opened{Result: res}, nil
}

// flight returns the flight of key, if one is running or ended recently.
func (m *Manager) flight(key string) *Flight {
	m.mu.Lock()
	defer m.mu.Unlock()
	f := m.flights[key]
	if f == nil {
		return nil
	}
	f.mu.Lock()
	stale := f.done && m.now().Sub(f.doneAt) >= recentlyReady
	f.mu.Unlock()
	if stale {
		delete(m.flights, key)
		return nil
	}
	return f
}

// forgetFlight drops the finished flight of t's instance: it no longer
// says how the instance is (it was stopped since).
func (m *Manager) forgetFlight(t routing.Target) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if f := m.flights[instanceKey(t)]; f != nil && f.Progress().Done {
		delete(m.flights, instanceKey(t))
	}
}

// Flight returns the flight of t's instance, if one is running or ended
// recently, without any AWS call.
func (m *Manager) Flight(t routing.Target) *Flight { return m.flight(instanceKey(t)) }

// startFlight returns the running flight of t's instance, or starts one
// from state (and create, for a template's missing instance). joined says
// it was already running. The flight's first step (starting or creating
// the instance) is taken before it returns, so that the caller sees its
// outcome; the wait goes on in the background.
func (m *Manager) startFlight(ctx context.Context, p *identity.Principal, t routing.Target, state string, create bool) (*Flight, bool) {
	key := instanceKey(t)
	m.mu.Lock()
	if f := m.flights[key]; f != nil {
		f.mu.Lock()
		running := !f.done
		f.mu.Unlock()
		if running {
			m.mu.Unlock()
			return f, true
		}
	}
	now := m.now()
	f := &Flight{target: t, started: now, now: m.now, changed: make(chan struct{})}
	f.history = []Step{{State: state, At: now}}
	if m.closing.Err() != nil {
		// Closed: no AWS call, and nothing left running.
		m.mu.Unlock()
		f.finish(shuttingDown())
		return f, false
	}
	m.flights[key] = f
	// Counted under m.mu, which Close takes to end the waits, so that
	// Close either sees this wait or this wait sees Close.
	m.waits.Add(1)
	m.mu.Unlock()
	m.log.InfoContext(ctx, "notebook: waiting for an instance", "user", p.Username, "target", t.ID,
		"account", t.AccountID, "instance", t.NotebookInstance, "state", state)
	// Detached: closing the tab must not abandon a start that others (or
	// the next click) wait for; only the Manager's Close ends it. The
	// bound is on the injected clock, so tests need not wait for it; the
	// context's deadline is only a safety net in real time.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), m.opts.WaitTimeout+time.Minute)
	unhook := context.AfterFunc(m.closing, cancel)
	end := func() {
		unhook()
		cancel()
		m.waits.Done()
	}
	rs := &runState{state: state, create: create, deadline: now.Add(m.opts.WaitTimeout)}
	if m.act(ctx, f, p, rs) {
		end()
		return f, false
	}
	go func() {
		defer end()
		m.poll(ctx, f, p, rs)
	}()
	return f, false
}

// runState is what a flight knows between its steps.
type runState struct {
	state, reason string
	create        bool // the instance is a template's and must be created
	started       bool // sagegate started it
	stoppedAgain  int  // times it was seen Stopped after the start
	deadline      time.Time
}

// poll describes the instance every PollInterval and acts on what it
// sees, until the flight is over.
func (m *Manager) poll(ctx context.Context, f *Flight, p *identity.Principal, rs *runState) {
	t := f.target
	for {
		if !m.now().Before(rs.deadline) {
			f.finish(timeoutError(t, m.opts.WaitTimeout, rs.state))
			return
		}
		if err := m.opts.Sleep(ctx, m.opts.PollInterval); err != nil {
			if m.closing.Err() != nil {
				f.finish(shuttingDown())
			} else {
				f.finish(timeoutError(t, m.opts.WaitTimeout, rs.state))
			}
			return
		}
		nb, err := m.ctl.DescribeNotebook(ctx, p, t)
		switch {
		case err == nil:
			rs.state, rs.reason = nb.Status, nb.FailureReason
		case errors.Is(err, broker.ErrNotebookNotFound) && (rs.state == StateNotCreated || rs.state == StatePending && t.NotebookTemplate != nil):
			// Service Catalog (or CloudFormation) has not created it yet.
		case transient(err):
			m.log.WarnContext(ctx, "notebook: describing failed, polling on", "target", t.ID, "err", err)
		default:
			f.finish(err)
			return
		}
		if m.act(ctx, f, p, rs) {
			return
		}
	}
}

// act records the state just seen and does what it calls for: the end of
// the flight, a start, a creation. It reports whether the flight is over.
func (m *Manager) act(ctx context.Context, f *Flight, p *identity.Principal, rs *runState) bool {
	t := f.target
	f.observe(rs.state, rs.reason)
	m.remember(t, rs.state)
	switch rs.state {
	case StateInService:
		f.finish(nil)
	case StateFailed:
		f.finish(failedError(t, rs.reason))
	case StateDeleting:
		f.finish(deletingError(t))
	case StateNotCreated:
		if !rs.create {
			break
		}
		rs.create = false
		if err := m.createFromTemplate(ctx, p, t); err != nil && !errors.Is(err, broker.ErrNotebookExists) {
			f.finish(err)
			break
		}
		rs.state = StatePending
		f.observe(rs.state, "")
	case StateStopped:
		if rs.started {
			// Started, and seen Stopped again: someone stopped it.
			if rs.stoppedAgain++; rs.stoppedAgain >= 3 {
				f.finish(problem.New(http.StatusConflict, CodeStopped,
					fmt.Sprintf("The notebook instance %q was stopped again while it was starting. Open it again to start it.", t.NotebookInstance)))
			}
			break
		}
		begin := m.now()
		err := m.ctl.StartNotebook(ctx, p, t)
		m.record(ctx, ActionStart, p, t, begin, err)
		switch {
		case err == nil:
			rs.started = true
			rs.state = StatePending
			f.observe(rs.state, "")
		case errors.Is(err, broker.ErrNotebookState):
			// Someone (another gateway) started it a moment ago.
			rs.started = true
		default:
			f.finish(err)
		}
	}
	return f.Progress().Done
}

// transient reports an error worth polling through: throttling, AWS
// unavailable, a timeout.
func transient(err error) bool {
	pe := problem.From(err)
	return pe.Status == http.StatusServiceUnavailable || pe.Status == http.StatusGatewayTimeout || pe.Status == http.StatusTooManyRequests
}

func (f *Flight) observe(state, reason string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	newState := f.history[len(f.history)-1].State != state
	if !newState && f.reason == reason {
		return
	}
	if newState {
		f.history = append(f.history, Step{State: state, At: f.now()})
	}
	f.reason = reason
	f.notifyLocked()
}

func (f *Flight) finish(err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.done, f.doneAt, f.err = true, f.now(), err
	f.notifyLocked()
}

func (f *Flight) notifyLocked() {
	close(f.changed)
	f.changed = make(chan struct{})
}

// Progress returns where the flight is.
func (f *Flight) Progress() Progress {
	p, _ := f.Watch()
	return p
}

// Watch returns where the flight is and a channel closed at its next
// change, so a caller never misses one between the two.
func (f *Flight) Watch() (Progress, <-chan struct{}) {
	f.mu.Lock()
	defer f.mu.Unlock()
	last := f.history[len(f.history)-1]
	end := f.now()
	if f.done {
		end = f.doneAt
	}
	p := Progress{
		Target: f.target.ID, State: last.State, FailureReason: f.reason,
		History: append([]Step(nil), f.history...), Started: f.started, Elapsed: end.Sub(f.started),
		Done: f.done, Ready: f.done && f.err == nil, Err: f.err,
	}
	return p, f.changed
}

// Wait blocks until the flight is over or ctx ends.
func (f *Flight) Wait(ctx context.Context) (Progress, error) {
	for {
		p, ch := f.Watch()
		if p.Done {
			return p, nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return p, ctx.Err()
		}
	}
}

func failedError(t routing.Target, reason string) error {
	if reason == "" {
		reason = "AWS gave no reason"
	}
	return problem.New(http.StatusBadGateway, CodeFailed,
		fmt.Sprintf("The notebook instance %q failed: %s. It cannot start until it is fixed; ask your platform team, quoting this reason.", t.NotebookInstance, strings.TrimSuffix(reason, ".")))
}

func deletingError(t routing.Target) error {
	return problem.New(http.StatusConflict, CodeDeleting,
		fmt.Sprintf("The notebook instance %q is being deleted.", t.NotebookInstance))
}

// shuttingDown ends a flight the Manager's Close cut short, or refuses
// one asked for after it: an instance already starting goes on in AWS,
// and the next click, on a running gateway, follows it.
func shuttingDown() error {
	pe := problem.New(http.StatusServiceUnavailable, problem.CodeUnavailable,
		"sagegate is restarting. Open the notebook again in a moment.")
	pe.RetryAfter = 5 * time.Second
	return pe
}

func timeoutError(t routing.Target, bound time.Duration, state string) error {
	pe := problem.New(http.StatusGatewayTimeout, CodeTimeout,
		fmt.Sprintf("The notebook instance %q is still %s after %s. Open it again in a minute: sagegate waits on, it does not start it twice.", t.NotebookInstance, strings.ToLower(state), bound))
	pe.RetryAfter = 30 * time.Second
	return pe
}
