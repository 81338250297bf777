package identity

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sagegate/sagegate/internal/testutil"
)

type countingVerifier struct {
	calls atomic.Int32
	exp   time.Time
}

func (v *countingVerifier) Verify(_ context.Context, raw string) (*Principal, error) {
	v.calls.Add(1)
	if raw == "bad" {
		return nil, fail(ReasonBadSignature, "bad", nil)
	}
	return &Principal{Username: raw, ExpiresAt: v.exp}, nil
}

// newCountingCache is a Cache of size entries for at most maxTTL over a
// countingVerifier whose tokens expire expiresIn from the clock's start.
func newCountingCache(size int, maxTTL, expiresIn time.Duration) (*Cache, *countingVerifier, *testutil.Clock) {
	clock := testutil.NewClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	next := &countingVerifier{exp: clock.Now().Add(expiresIn)}
	return NewCache(next, size, maxTTL, clock.Now), next, clock
}

func TestCacheServesVerifiedTokensUntilExpiry(t *testing.T) {
	c, next, clock := newCountingCache(100, 5*time.Minute, 2*time.Minute)
	var hits int
	c.OnLookup = func(hit bool) {
		if hit {
			hits++
		}
	}
	for i := 0; i < 3; i++ {
		p, err := c.Verify(context.Background(), "alice")
		if err != nil || p.Username != "alice" {
			t.Fatalf("verify %d: %v %v", i, p, err)
		}
	}
	if next.calls.Load() != 1 || hits != 2 {
		t.Fatalf("underlying verifications = %d, hits = %d; want 1 and 2", next.calls.Load(), hits)
	}
	if p, _ := c.Verify(context.Background(), "bob"); p.Username != "bob" {
		t.Fatalf("another token got %q", p.Username)
	}
	// The token's own exp bounds the entry (2 min, under maxTTL).
	clock.Advance(2 * time.Minute)
	if _, err := c.Verify(context.Background(), "alice"); err != nil {
		t.Fatal(err)
	}
	if next.calls.Load() != 3 {
		t.Fatalf("expired entry was served: %d underlying calls, want 3", next.calls.Load())
	}
}

func TestCacheBoundsByMaxTTLAndNeverCachesFailures(t *testing.T) {
	c, next, clock := newCountingCache(100, time.Minute, time.Hour)
	c.Verify(context.Background(), "alice")
	clock.Advance(61 * time.Second)
	c.Verify(context.Background(), "alice")
	if next.calls.Load() != 2 {
		t.Errorf("entry outlived maxTTL: %d calls", next.calls.Load())
	}
	for i := 0; i < 2; i++ {
		if _, err := c.Verify(context.Background(), "bad"); ReasonOf(err) != ReasonBadSignature {
			t.Fatalf("bad token: %v", err)
		}
	}
	if next.calls.Load() != 4 {
		t.Errorf("a failure was cached: %d calls", next.calls.Load())
	}
}

// The cache holds at most its size: past it, some token is verified again.
func TestCacheIsBounded(t *testing.T) {
	c, next, _ := newCountingCache(2, time.Minute, time.Hour)
	for _, tok := range []string{"a", "b", "c", "a", "b", "c"} {
		if p, err := c.Verify(context.Background(), tok); err != nil || p.Username != tok {
			t.Fatalf("verify %s: %v %v", tok, p, err)
		}
	}
	if n := next.calls.Load(); n < 4 {
		t.Fatalf("%d underlying verifications for 3 tokens in a cache of 2, want at least 4", n)
	}
	if c.entries.Len() > 2 {
		t.Fatalf("cache holds %d entries, want at most 2", c.entries.Len())
	}
}
