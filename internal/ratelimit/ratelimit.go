// Package ratelimit holds per-key token buckets, so each person gets their
// own allowance of launches and nobody can spend another's.
package ratelimit

import (
	"math"
	"sync"
	"time"

	"github.com/sagegate/sagegate/internal/sweepmap"
)

// Keyed is a set of token buckets, one per key, kept as the generic cell
// rate algorithm keeps them: a key's whole state is one instant, the
// time at which its bucket would be full again (its "theoretical arrival
// time"). A request is allowed when that instant is less than a burst's
// worth of intervals ahead of now, and then moves it one interval on.
// This is exactly a token bucket, in one int64 a person (about 30 bytes
// with the map's own) instead of a limiter object and an LRU entry (about
// 200 bytes).
//
// A key whose instant has passed has a full bucket, the same as a key
// never seen, so it is forgotten when the set is swept (sweepmap); a key
// forgotten to respect maxKeys starts again with a full bucket, which
// only ever errs on the side of the person.
type Keyed struct {
	interval  int64 // nanoseconds per token
	tolerance int64 // how far ahead of now a key's instant may be: (burst-1) intervals
	burst     int
	now       func() time.Time

	mu   sync.Mutex
	full *sweepmap.Map[string, int64] // key -> unix nanoseconds at which its bucket is full
}

// fullAgain says a key's bucket is full at now: it can be forgotten.
func fullAgain(at, now int64) bool { return at <= now }

// New allows each key perSecond events on average with bursts of burst.
// maxKeys bounds memory.
func New(perSecond float64, burst, maxKeys int, now func() time.Time) *Keyed {
	if now == nil {
		now = time.Now
	}
	// A rate that is not positive refills (next to) nothing: a token a year.
	interval := int64(365 * 24 * time.Hour)
	if perSecond > 0 {
		interval = max(1, int64(min(float64(time.Second)/perSecond, float64(interval))))
	}
	k := &Keyed{
		interval: interval, burst: burst, now: now,
		full: sweepmap.New[string](maxKeys, fullAgain),
	}
	if burst > 1 {
		k.tolerance = int64(min(float64(burst-1)*float64(interval), math.MaxInt64/4))
	}
	return k
}

// Allow takes one token for key. When none is left it reports how long
// until one will be; a refused request takes nothing, so that it does not
// push the person's next allowed time further out.
func (k *Keyed) Allow(key string) (bool, time.Duration) {
	if k.burst < 1 {
		return false, time.Second // a bucket that holds nothing never allows
	}
	now := k.now().UnixNano()
	k.mu.Lock()
	defer k.mu.Unlock()
	at, _ := k.full.Get(key)
	at = max(at, now)
	if wait := at - now - k.tolerance; wait > 0 {
		return false, time.Duration(wait)
	}
	k.full.Put(key, min(at, math.MaxInt64-k.interval)+k.interval, now)
	return true, 0
}

// keys is the number of keys whose bucket is not known to be full.
func (k *Keyed) keys() int {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.full.Len()
}
