package identity

import (
	"context"
	"crypto/sha256"
	"sync"
	"time"

	"github.com/sagegate/sagegate/internal/sweepmap"
)

// Cache remembers tokens that verified, so a token presented again (an API
// client launching with the same access token, a load balancer's health
// of one session) costs a SHA-256 instead of a signature check. An entry
// lives until the token's exp or maxTTL, whichever is sooner; maxTTL also
// bounds how long a token keeps working after its signing key is
// withdrawn from the JWKS. Failures are never cached: a token refused for
// an unknown key may verify after a key rotation.
//
// Entries past their time are swept as the cache grows (sweepmap); when
// it is full of live ones, an arbitrary one goes, which costs its owner
// one signature check. That keeps an entry at about 100 bytes besides
// the Principal, where an LRU took about 220.
type Cache struct {
	next   Verifier
	maxTTL time.Duration
	now    func() time.Time
	// OnLookup, when set, is told whether each lookup hit (metrics).
	OnLookup func(hit bool)

	mu      sync.Mutex
	entries *sweepmap.Map[[sha256.Size]byte, cached]
}

type cached struct {
	p     *Principal
	until int64 // unix nanoseconds
}

func stale(e cached, now int64) bool { return e.until <= now }

// NewCache caches up to size verified tokens for at most maxTTL each.
func NewCache(next Verifier, size int, maxTTL time.Duration, now func() time.Time) *Cache {
	if now == nil {
		now = time.Now
	}
	return &Cache{next: next, entries: sweepmap.New[[sha256.Size]byte](size, stale), maxTTL: maxTTL, now: now}
}

// Verify implements Verifier. The returned Principal is shared between
// callers presenting the same token and must not be modified.
func (c *Cache) Verify(ctx context.Context, raw string) (*Principal, error) {
	if len(raw) > maxTokenBytes {
		return c.next.Verify(ctx, raw)
	}
	key := sha256.Sum256([]byte(raw))
	now := c.now()
	c.mu.Lock()
	e, ok := c.entries.Get(key)
	c.mu.Unlock()
	if ok && !stale(e, now.UnixNano()) {
		c.observe(true)
		return e.p, nil
	}
	c.observe(false)
	p, err := c.next.Verify(ctx, raw)
	if err != nil {
		return nil, err
	}
	until := now.Add(c.maxTTL)
	if !p.ExpiresAt.IsZero() && p.ExpiresAt.Before(until) {
		until = p.ExpiresAt
	}
	c.mu.Lock()
	c.entries.Put(key, cached{p: p, until: until.UnixNano()}, now.UnixNano())
	c.mu.Unlock()
	return p, nil
}

func (c *Cache) observe(hit bool) {
	if c.OnLookup != nil {
		c.OnLookup(hit)
	}
}
