// Package cache puts a read cache in front of any routing store, so that a
// launch in steady state reads nothing from it:
//
//   - found records live for TTL, "not found" (and unmapped groups, and
//     invalid records) for the shorter NegativeTTL;
//   - concurrent misses for one key share one store read;
//   - when the store fails, an expired record fetched at most StaleMaxAge
//     ago keeps being served, with a log line and an Observer event, and
//     the store is left alone for NegativeTTL before the next try;
//   - when the store fails and nothing usable is cached, the lookup fails
//     with an error wrapping ErrUnavailable, which the HTTP layer answers
//     with 503 and Retry-After.
package cache

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"
	"golang.org/x/sync/singleflight"

	"github.com/sagegate/sagegate/internal/routing"
)

// ErrUnavailable is wrapped by lookups that failed because the store did
// and no cached answer was young enough to stand in.
var ErrUnavailable = errors.New("routing: store unavailable and nothing cached")

// Observer is told the outcome of every lookup; a metrics package plugs in
// here. cache is "routing_user", "routing_lob" or "routing_group"; result
// is "hit" (answered from the cache), "miss" (read from the store), "stale"
// (an expired answer served because the store failed) or "error" (the
// store failed and nothing could be served). *metrics.Metrics satisfies it.
type Observer interface {
	Cache(cache, result string)
}

// Options tune a Cache. Zero values get the defaults of Config.
type Options struct {
	TTL         time.Duration
	NegativeTTL time.Duration
	StaleMaxAge time.Duration
	MaxEntries  int
	Now         func() time.Time
	Logger      *slog.Logger
	Observer    Observer
}

func (o Options) withDefaults() Options {
	if o.TTL <= 0 {
		o.TTL = DefaultTTL
	}
	if o.NegativeTTL <= 0 {
		o.NegativeTTL = DefaultNegativeTTL
	}
	if o.StaleMaxAge <= 0 {
		o.StaleMaxAge = DefaultStaleMaxAge
	}
	if o.MaxEntries <= 0 {
		o.MaxEntries = DefaultMaxEntries
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Observer == nil {
		o.Observer = nopObserver{}
	}
	return o
}

type nopObserver struct{}

func (nopObserver) Cache(string, string) {}

// Cache is a routing.Reader in front of another. It is safe for concurrent
// use.
type Cache struct {
	opts   Options
	users  *table[routing.User]
	lobs   *table[routing.LOB]
	groups *table[[]string]
}

var _ routing.Reader = (*Cache)(nil)

// New returns a cache in front of store.
func New(store routing.Reader, o Options) *Cache {
	o = o.withDefaults()
	return &Cache{
		opts:   o,
		users:  newTable("routing_user", o.MaxEntries, store.GetUser, routing.User.Clone),
		lobs:   newTable("routing_lob", o.MaxEntries, store.GetLOB, routing.LOB.Clone),
		groups: newTable("routing_group", o.MaxEntries, store.GroupLOBs, slices.Clone[[]string]),
	}
}

// GetUser implements routing.Reader.
func (c *Cache) GetUser(ctx context.Context, name string) (routing.User, error) {
	return lookup(ctx, c, c.users, name)
}

// ForgetUser drops the cached record of user name, so that a change this
// process just made (a notebook vended) shows at once; other processes see
// it within the TTL.
func (c *Cache) ForgetUser(name string) { c.users.entries.Remove(name) }

// GetLOB implements routing.Reader.
func (c *Cache) GetLOB(ctx context.Context, name string) (routing.LOB, error) {
	return lookup(ctx, c, c.lobs, name)
}

// GroupLOBs implements routing.Reader.
func (c *Cache) GroupLOBs(ctx context.Context, group string) ([]string, error) {
	return lookup(ctx, c, c.groups, group)
}

// entry is one answer of the store: a value, or a definitive error (not
// found, invalid). Entries are never changed once in the cache.
type entry[V any] struct {
	val     V
	err     error
	fetched time.Time
	// fresh is until when the entry is served without asking the store;
	// after a store failure, a stale entry is re-added with a later one.
	fresh time.Time
}

type table[V any] struct {
	name    string
	entries *lru.Cache[string, *entry[V]]
	flights singleflight.Group
	load    func(context.Context, string) (V, error)
	clone   func(V) V
}

func newTable[V any](name string, size int, load func(context.Context, string) (V, error), clone func(V) V) *table[V] {
	entries, err := lru.New[string, *entry[V]](size)
	if err != nil {
		// Only a non-positive size errors, and withDefaults prevents it.
		panic(err)
	}
	return &table[V]{name: name, entries: entries, load: load, clone: clone}
}

// lookup answers from the cache while the entry is fresh, and otherwise
// reads the store once for all concurrent callers.
func lookup[V any](ctx context.Context, c *Cache, t *table[V], key string) (V, error) {
	if e, ok := t.entries.Get(key); ok && c.opts.Now().Before(e.fresh) {
		c.opts.Observer.Cache(t.name, "hit")
		return t.clone(e.val), e.err
	}
	ch := t.flights.DoChan(key, func() (any, error) {
		// Detached from the first caller's cancellation: the others
		// waiting on this read must not fail because one left.
		return refresh(context.WithoutCancel(ctx), c, t, key)
	})
	select {
	case res := <-ch:
		if res.Err != nil {
			var zero V
			return zero, res.Err
		}
		e := res.Val.(*entry[V])
		return t.clone(e.val), e.err
	case <-ctx.Done():
		var zero V
		return zero, ctx.Err()
	}
}

// refresh reads key from the store and caches the answer, or falls back to
// a stale entry when the store fails.
func refresh[V any](ctx context.Context, c *Cache, t *table[V], key string) (*entry[V], error) {
	now := c.opts.Now()
	// A flight that finished just before this one started has already
	// refreshed the entry.
	if e, ok := t.entries.Peek(key); ok && now.Before(e.fresh) {
		c.opts.Observer.Cache(t.name, "hit")
		return e, nil
	}
	v, err := t.load(ctx, key)
	now = c.opts.Now()
	if err == nil || errors.Is(err, routing.ErrNotFound) || errors.Is(err, routing.ErrInvalid) {
		e := &entry[V]{val: t.clone(v), err: err, fetched: now, fresh: now.Add(c.ttl(v, err))}
		t.entries.Add(key, e)
		c.opts.Observer.Cache(t.name, "miss")
		return e, nil
	}
	if old, ok := t.entries.Peek(key); ok {
		if age := now.Sub(old.fetched); age <= c.opts.StaleMaxAge {
			// Served as it is until the store is tried again; the fetch
			// time stays, so StaleMaxAge counts from the last real read.
			stale := &entry[V]{val: old.val, err: old.err, fetched: old.fetched, fresh: now.Add(c.opts.NegativeTTL)}
			t.entries.Add(key, stale)
			c.opts.Observer.Cache(t.name, "stale")
			c.opts.Logger.WarnContext(ctx, "routing: store failed, serving a cached answer",
				"kind", t.name, "key", key, "age", age.Round(time.Second).String(), "err", err)
			return stale, nil
		}
	}
	c.opts.Observer.Cache(t.name, "error")
	return nil, fmt.Errorf("%w: %s %q: %w", ErrUnavailable, t.name, key, err)
}

// ttl is how long an answer is served: the negative TTL for not-found,
// invalid records and groups that map to nothing, which are the answers
// an administrator is most likely about to change.
func (c *Cache) ttl(v any, err error) time.Duration {
	if err != nil {
		return c.opts.NegativeTTL
	}
	if lobs, ok := v.([]string); ok && len(lobs) == 0 {
		return c.opts.NegativeTTL
	}
	return c.opts.TTL
}
