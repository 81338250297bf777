package broker

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/sagegate/sagegate/internal/problem"
)

// Codes for refusals that protect an account.
const (
	CodeAccountBusy    = "account_busy"
	CodeAWSUnavailable = "aws_unavailable"
)

// account is the per-account protection: a cap on concurrent AWS calls, so
// no burst of launches (or one person) can exhaust the account's STS or
// SageMaker quotas, and a circuit breaker.
type account struct {
	id      string
	slots   chan struct{}
	breaker *breaker
}

func (b *Broker) account(id string) *account {
	b.mu.Lock()
	defer b.mu.Unlock()
	a, ok := b.accounts[id]
	if !ok {
		a = &account{
			id:      id,
			slots:   make(chan struct{}, b.opts.MaxConcurrentPerAccount),
			breaker: newBreaker(b.opts.BreakerThreshold, b.opts.BreakerCooldown, b.opts.Now),
		}
		b.accounts[id] = a
	}
	return a
}

// acquire takes a call slot, waiting at most wait for one to free up.
func (a *account) acquire(ctx context.Context, wait time.Duration) (func(), error) {
	release := func() { <-a.slots }
	select {
	case a.slots <- struct{}{}:
		return release, nil
	default:
	}
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case a.slots <- struct{}{}:
		return release, nil
	case <-t.C:
		pe := problem.New(http.StatusTooManyRequests, CodeAccountBusy,
			fmt.Sprintf("Too many launches are in progress for account %s right now. Try again in a moment.", a.id))
		pe.RetryAfter = time.Second
		return nil, pe
	case <-ctx.Done():
		return nil, clientClosed(ctx.Err())
	}
}

// guard runs one AWS call (retries included) under the account's slot and
// breaker; judge tells the breaker what its error says about the account.
// It covers a single call, never the waits between calls: a launch whose
// profile is being created must not hold a slot (or the breaker's one
// probe) while it polls, or a burst of new people would turn everyone
// else in the account away.
func (b *Broker) guard(ctx context.Context, accountID string, judge func(context.Context, error) outcome, call func() error) error {
	a := b.account(accountID)
	release, err := a.acquire(ctx, b.opts.QueueWait)
	if err != nil {
		b.opts.Metrics.Rejected("account")
		return err
	}
	defer release()
	if ok, wait := a.breaker.allow(); !ok {
		b.opts.Metrics.Rejected("breaker")
		pe := problem.New(http.StatusServiceUnavailable, CodeAWSUnavailable,
			fmt.Sprintf("AWS has been failing for account %s; sagegate is holding off for a moment. Try again shortly.", accountID))
		pe.RetryAfter = max(wait, time.Second)
		return pe
	}
	err = call()
	if a.breaker.record(judge(ctx, err)) {
		b.log.WarnContext(ctx, "circuit opened: AWS keeps failing for account", "account", accountID, "cooldown", b.opts.BreakerCooldown, "err", err)
	}
	b.opts.Metrics.BreakerOpen(accountID, a.breaker.open())
	return err
}

// Health reports the accounts whose circuit is open (for /readyz).
func (b *Broker) Health(context.Context) error {
	b.mu.Lock()
	var open []string
	for id, a := range b.accounts {
		if a.breaker.open() {
			open = append(open, id)
		}
	}
	b.mu.Unlock()
	if len(open) == 0 {
		return nil
	}
	slices.Sort(open)
	return fmt.Errorf("AWS is failing for account(s) %s; launches there fail fast until it recovers", strings.Join(open, ", "))
}
