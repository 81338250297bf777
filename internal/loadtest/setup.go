package loadtest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sync"

	"github.com/sagegate/sagegate/internal/routing"
	"github.com/sagegate/sagegate/internal/sandbox"
)

// parallel runs fn for every user, n at a time, and returns the first error.
func parallel(ctx context.Context, n int, users []*user, fn func(context.Context, *user) error) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	next := make(chan *user)
	var wg sync.WaitGroup
	for range min(n, len(users)) {
		wg.Go(func() {
			for u := range next {
				if err := fn(ctx, u); err != nil {
					cancel(err)
				}
			}
		})
	}
	for _, u := range users {
		select {
		case next <- u:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			break
		}
	}
	close(next)
	wg.Wait()
	return context.Cause(ctx)
}

// fetchTokens gets each person's access token once, by the dev issuer's
// password grant.
func fetchTokens(ctx context.Context, cfg *Config, m *model) error {
	return parallel(ctx, cfg.Concurrency, m.users, func(ctx context.Context, u *user) error {
		tok, err := sandbox.DemoToken(ctx, cfg.HTTPClient, cfg.Target, u.name)
		var refused *sandbox.TokenRefusedError
		switch {
		case errors.As(err, &refused):
			return fmt.Errorf("token for %s %w (was the target started with --demo-users %d --demo-lobs %d?)",
				u.name, err, cfg.Population.Users, cfg.Population.LOBs)
		case err != nil:
			return fmt.Errorf("token for %s: %w (is `sagegate dev` running at %s?)", u.name, err, cfg.Target)
		}
		u.token = tok
		return nil
	})
}

// warmup checks that the gateway routes every person as the model says,
// then launches each of their LOBs once so that the measured run starts
// with warm credential caches. Its answers are judged like the run's.
// A direct run has no gateway to check.
func warmup(ctx context.Context, cfg *Config, m *model, do exchangeFunc) (*tally, error) {
	var mu sync.Mutex
	all := newTally()
	err := parallel(ctx, cfg.Concurrency, m.users, func(ctx context.Context, u *user) error {
		if !cfg.Direct {
			if err := checkTargets(ctx, cfg, u); err != nil {
				return err
			}
		}
		t := newTally()
		for _, l := range u.lobs {
			req := request{class: ClassLaunch, user: u, path: "/launch/" + l.Name, lob: l.Name, auth: bearer(u.token),
				expect: expectation{status: http.StatusFound, domain: l.DomainID}}
			do(ctx, &req, t)
		}
		mu.Lock()
		all.merge(t)
		mu.Unlock()
		return nil
	})
	return all, err
}

// checkTargets compares the gateway's list of u's targets with the model,
// so that a load test against a differently populated sandbox stops at
// once instead of reporting thousands of wrong answers.
func checkTargets(ctx context.Context, cfg *Config, u *user) error {
	ctx, cancel := context.WithTimeout(ctx, cfg.RequestTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, cfg.Gateway+"/api/v1/targets", nil)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", bearer(u.token))
	resp, err := cfg.HTTPClient.Do(req)
	if err != nil {
		return fmt.Errorf("targets of %s: %w", u.name, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusServiceUnavailable {
		return nil // cannot tell now; the run's checks still apply
	}
	var body struct {
		Targets []struct {
			ID       string `json:"id"`
			Kind     string `json:"kind"`
			Account  string `json:"account"`
			DomainID string `json:"domainId"`
		} `json:"targets"`
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("targets of %s: %s", u.name, resp.Status)
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&body); err != nil {
		return fmt.Errorf("targets of %s: %w", u.name, err)
	}
	var got, want []string
	for _, t := range body.Targets {
		// The load is about Studio; notebooks a LOB offers are left out.
		if t.Kind == "" || t.Kind == routing.KindStudio {
			got = append(got, t.ID+"@"+t.Account+"/"+t.DomainID)
		}
	}
	for _, l := range u.lobs {
		want = append(want, l.Name+"@"+l.AccountID+"/"+l.DomainID)
	}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		return fmt.Errorf("the target routes %s to %v, the population %+v to %v: start `sagegate dev --demo-users %d --demo-lobs %d`",
			u.name, got, cfg.Population, want, cfg.Population.Users, cfg.Population.LOBs)
	}
	return nil
}
