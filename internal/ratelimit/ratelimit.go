// Package ratelimit holds per-key token buckets, so each person gets their
// own allowance of launches and nobody can spend another's.
package ratelimit

import (
	"time"

	lru "github.com/hashicorp/golang-lru/v2"
	"golang.org/x/time/rate"
)

// Keyed is a set of token buckets, one per key, bounded in number: the
// least recently used key is forgotten first (it then starts again with a
// full bucket, which only ever errs on the side of the person).
type Keyed struct {
	limit   rate.Limit
	burst   int
	now     func() time.Time
	buckets *lru.Cache[string, *rate.Limiter]
}

// New allows each key perSecond events on average with bursts of burst.
// maxKeys bounds memory.
func New(perSecond float64, burst, maxKeys int, now func() time.Time) *Keyed {
	if now == nil {
		now = time.Now
	}
	c, err := lru.New[string, *rate.Limiter](max(maxKeys, 1))
	if err != nil {
		panic(err) // unreachable: size is positive
	}
	return &Keyed{limit: rate.Limit(perSecond), burst: burst, now: now, buckets: c}
}

// Allow takes one token for key. When none is left it reports how long
// until one will be.
func (k *Keyed) Allow(key string) (bool, time.Duration) {
	l, ok := k.buckets.Get(key)
	if !ok {
		l = rate.NewLimiter(k.limit, k.burst)
		// Two first requests for one key may race to create it; the loser's
		// limiter is dropped and one token is forgiven, which is harmless.
		if prev, found, _ := k.buckets.PeekOrAdd(key, l); found {
			l = prev
		}
	}
	now := k.now()
	r := l.ReserveN(now, 1)
	if !r.OK() {
		return false, time.Second
	}
	if d := r.DelayFrom(now); d > 0 {
		// Not taking the token: a refused request must not push the
		// person's next allowed time further out.
		r.CancelAt(now)
		return false, d
	}
	return true, 0
}
