package identity

import (
	"context"
	"crypto/sha256"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"
)

// Cache remembers tokens that verified, so a token presented again (an API
// client launching with the same access token, a load balancer's health
// of one session) costs a SHA-256 instead of a signature check. An entry
// lives until the token's exp or maxTTL, whichever is sooner; maxTTL also
// bounds how long a token keeps working after its signing key is
// withdrawn from the JWKS. Failures are never cached: a token refused for
// an unknown key may verify after a key rotation.
type Cache struct {
	next    Verifier
	entries *lru.Cache[[sha256.Size]byte, cached]
	maxTTL  time.Duration
	now     func() time.Time
	// OnLookup, when set, is told whether each lookup hit (metrics).
	OnLookup func(hit bool)
}

type cached struct {
	p     *Principal
	until time.Time
}

// NewCache caches up to size verified tokens for at most maxTTL each.
func NewCache(next Verifier, size int, maxTTL time.Duration, now func() time.Time) *Cache {
	if now == nil {
		now = time.Now
	}
	entries, err := lru.New[[sha256.Size]byte, cached](max(size, 1))
	if err != nil {
		panic(err) // unreachable: size is positive
	}
	return &Cache{next: next, entries: entries, maxTTL: maxTTL, now: now}
}

// Verify implements Verifier. The returned Principal is shared between
// callers presenting the same token and must not be modified.
func (c *Cache) Verify(ctx context.Context, raw string) (*Principal, error) {
	if len(raw) > maxTokenBytes {
		return c.next.Verify(ctx, raw)
	}
	key := sha256.Sum256([]byte(raw))
	now := c.now()
	if e, ok := c.entries.Get(key); ok && now.Before(e.until) {
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
	c.entries.Add(key, cached{p: p, until: until})
	return p, nil
}

func (c *Cache) observe(hit bool) {
	if c.OnLookup != nil {
		c.OnLookup(hit)
	}
}
