package broker

import (
	"sync"
	"time"
)

// breaker fails launches into one account fast while that account's AWS
// endpoints keep failing, instead of making every person wait for the full
// retry deadline and adding load to an account that is already in trouble.
//
// Closed: calls go through; consecutive failures are counted. After
// threshold of them it opens for cooldown. Then one probe is let through
// (half-open): success closes it, failure opens it again.
type breaker struct {
	mu        sync.Mutex
	threshold int
	cooldown  time.Duration
	now       func() time.Time

	failures  int
	openUntil time.Time
	probing   bool
}

func newBreaker(threshold int, cooldown time.Duration, now func() time.Time) *breaker {
	return &breaker{threshold: threshold, cooldown: cooldown, now: now}
}

// allow reports whether a call may proceed; when not, how long until the
// breaker will let a probe through.
func (b *breaker) allow() (bool, time.Duration) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.openUntil.IsZero() {
		return true, 0
	}
	now := b.now()
	if now.Before(b.openUntil) {
		return false, b.openUntil.Sub(now)
	}
	if b.probing {
		// One probe at a time; the others keep failing fast briefly.
		return false, time.Second
	}
	b.probing = true
	return true, 0
}

// outcome of a call for the breaker.
type outcome int

const (
	// healthy: AWS answered (a success, or a refusal such as a missing
	// profile or a denied role, which is the caller's or the
	// configuration's problem, not the account's).
	healthy outcome = iota
	// unhealthy: throttled after retries, 5xx, timed out, unreachable.
	unhealthy
	// neutral: nothing learned (the caller went away first).
	neutral
)

// record reports the outcome of a call that allow let through. It returns
// true when this call opened the breaker.
func (b *breaker) record(o outcome) (opened bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.probing = false
	switch o {
	case neutral:
		return false
	case healthy:
		b.failures = 0
		b.openUntil = time.Time{}
		return false
	}
	b.failures++
	if b.failures >= b.threshold || !b.openUntil.IsZero() {
		wasClosed := b.openUntil.IsZero()
		b.openUntil = b.now().Add(b.cooldown)
		return wasClosed
	}
	return false
}

// open reports whether the breaker is currently refusing calls.
func (b *breaker) open() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return !b.openUntil.IsZero() && b.now().Before(b.openUntil)
}
