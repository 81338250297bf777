// Package ratelimit holds per-key token buckets, so each person gets their
// own allowance of launches and nobody can spend another's.
package ratelimit

import (
	"math"
	"sync"
	"time"
)

// Keyed is a set of token buckets, one per key, kept as the generic cell
// rate algorithm keeps them: a key's whole state is one instant, the
// time at which its bucket would be full again (its "theoretical arrival
// time"). A request is allowed when that instant is less than a burst's
// worth of intervals ahead of now, and then moves it one interval on.
// This is exactly a token bucket, in 8 bytes a person instead of a
// limiter object and an LRU entry (about 200 bytes): with thousands of
// people active it is the difference between a few and a few hundred KB.
//
// A key whose instant has passed has a full bucket, the same as a key
// never seen, so it is forgotten when the set is swept; the set is swept
// as it doubles, and when it reaches maxKeys. If it is still full after
// a sweep, some key is forgotten: it starts again with a full bucket,
// which only ever errs on the side of the person.
type Keyed struct {
	interval  int64 // nanoseconds per token
	tolerance int64 // how far ahead of now a key's instant may be: (burst-1) intervals
	burst     int
	maxKeys   int
	now       func() time.Time

	mu        sync.Mutex
	full      map[string]int64 // key -> unix nanoseconds at which its bucket is full
	nextSweep int
}

// sweepFloor is the size below which the set is not swept as it grows.
const sweepFloor = 1024

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
		interval: interval, burst: burst, maxKeys: max(maxKeys, 1), now: now,
		full: map[string]int64{}, nextSweep: sweepFloor,
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
	at, known := k.full[key]
	at = max(at, now)
	if wait := at - now - k.tolerance; wait > 0 {
		return false, time.Duration(wait)
	}
	if !known {
		k.makeRoom(now)
	}
	k.full[key] = min(at, math.MaxInt64-k.interval) + k.interval
	return true, 0
}

// makeRoom sweeps the set when it has doubled since the last sweep or is
// at maxKeys, and forgets some key if it is still full.
func (k *Keyed) makeRoom(now int64) {
	n := len(k.full)
	if n < k.nextSweep && n < k.maxKeys {
		return
	}
	for key, at := range k.full {
		if at <= now {
			delete(k.full, key)
		}
	}
	if len(k.full) >= k.maxKeys {
		for key := range k.full {
			delete(k.full, key)
			break
		}
	}
	k.nextSweep = max(sweepFloor, 2*len(k.full))
}

// Len is the number of keys whose bucket is not known to be full.
func (k *Keyed) Len() int {
	k.mu.Lock()
	defer k.mu.Unlock()
	return len(k.full)
}
