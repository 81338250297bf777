package notebooks

import (
	"context"
	"errors"
	"strings"
	"sync"
	"time"

	"github.com/sagegate/sagegate/internal/broker"
	"github.com/sagegate/sagegate/internal/identity"
	"github.com/sagegate/sagegate/internal/routing"
)

// stateTimeout bounds the describes of one launcher page: a slow account
// shows no state rather than holding the page.
const stateTimeout = 2 * time.Second

// TargetStates says what state p's notebook targets are in, for the
// launcher page (server.StateReporter): from a running flight, else from a
// state described less than StateTTL ago, else from one describe per
// instance, all at once. Instances it cannot tell are left out.
func (m *Manager) TargetStates(ctx context.Context, p *identity.Principal, ts []routing.Target) map[string]string {
	out := map[string]string{}
	var todo []routing.Target
	for _, t := range ts {
		if t.Kind != routing.KindNotebook {
			continue
		}
		if s, ok := m.knownState(t); ok {
			out[t.ID] = s
			continue
		}
		todo = append(todo, t)
	}
	if len(todo) == 0 {
		return out
	}
	ctx, cancel := context.WithTimeout(ctx, stateTimeout)
	defer cancel()
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, t := range todo {
		wg.Go(func() {
			s, ok := m.describeState(ctx, p, t)
			if !ok {
				return
			}
			mu.Lock()
			out[t.ID] = s
			mu.Unlock()
		})
	}
	wg.Wait()
	return out
}

// State is the state of t for p (see TargetStates), "" when it cannot be
// told.
func (m *Manager) State(ctx context.Context, p *identity.Principal, t routing.Target) string {
	if s, ok := m.knownState(t); ok {
		return s
	}
	s, _ := m.describeState(ctx, p, t)
	return s
}

func (m *Manager) knownState(t routing.Target) (string, bool) {
	if f := m.flight(instanceKey(t)); f != nil {
		if p := f.Progress(); !p.Done || p.Ready {
			return p.State, true
		}
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	c, ok := m.states[instanceKey(t)]
	if ok && m.now().Sub(c.at) < m.opts.StateTTL {
		return c.state, true
	}
	return "", false
}

func (m *Manager) describeState(ctx context.Context, p *identity.Principal, t routing.Target) (string, bool) {
	nb, err := m.ctl.DescribeNotebook(ctx, p, t)
	switch {
	case errors.Is(err, broker.ErrNotebookNotFound) && (t.NotebookTemplate != nil || t.ProvisionedProduct != ""):
		m.remember(t, StateNotCreated)
		return StateNotCreated, true
	case errors.Is(err, broker.ErrNotebookNotFound):
		return "Not found", true
	case err != nil:
		m.log.DebugContext(ctx, "notebook: state unknown", "target", t.ID, "err", err)
		return "", false
	}
	m.remember(t, nb.Status)
	return nb.Status, true
}

// remember notes a state just seen, for TargetStates.
func (m *Manager) remember(t routing.Target, state string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.states[instanceKey(t)] = cachedState{state: state, at: m.now()}
}

// notebookARN is the ARN of t's instance; SageMaker lower-cases the name.
func notebookARN(t routing.Target) string {
	return "arn:" + routing.Partition(t.Region) + ":sagemaker:" + t.Region + ":" + t.AccountID +
		":notebook-instance/" + strings.ToLower(t.NotebookInstance)
}

// tagLaunch writes when t was last opened onto the instance (at most every
// LaunchTagEvery), which the reaper reads. Tags live with the instance, so
// every gateway, the CLI and the scheduled reaper agree on them without a
// store of their own, and they survive restarts. A failure costs only
// precision: the reaper falls back to when the instance last changed state.
func (m *Manager) tagLaunch(ctx context.Context, p *identity.Principal, t routing.Target) {
	key := instanceKey(t)
	now := m.now()
	m.mu.Lock()
	if last, ok := m.tagged[key]; ok && now.Sub(last) < m.opts.LaunchTagEvery {
		m.mu.Unlock()
		return
	}
	m.tagged[key] = now
	m.mu.Unlock()
	err := m.ctl.TagNotebook(ctx, p, t, notebookARN(t), map[string]string{TagLastLaunch: now.UTC().Format(time.RFC3339)})
	if err != nil {
		m.log.WarnContext(ctx, "notebook: could not record the launch on the instance (idle stop will go by its last state change)",
			"target", t.ID, "err", err)
		m.mu.Lock()
		delete(m.tagged, key)
		m.mu.Unlock()
	}
}
