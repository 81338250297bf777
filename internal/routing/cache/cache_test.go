package cache_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/sagegate/sagegate/internal/identity"
	"github.com/sagegate/sagegate/internal/routing"
	"github.com/sagegate/sagegate/internal/routing/cache"
	"github.com/sagegate/sagegate/internal/testutil"
)

// store is a routing.Reader that counts reads and can fail or block.
type store struct {
	mu     sync.Mutex
	users  map[string]routing.User
	lobs   map[string]routing.LOB
	groups map[string][]string
	fail   error
	reads  atomic.Int64
	gate   chan struct{} // when set, reads wait for it to close
}

func (s *store) read() error {
	s.reads.Add(1)
	if s.gate != nil {
		<-s.gate
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.fail
}

func (s *store) setFail(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fail = err
}

func (s *store) GetUser(_ context.Context, name string) (routing.User, error) {
	if err := s.read(); err != nil {
		return routing.User{}, err
	}
	u, ok := s.users[name]
	if !ok {
		return routing.User{}, routing.NotFoundError(routing.KindUser, name)
	}
	return u, nil
}

func (s *store) GetLOB(_ context.Context, name string) (routing.LOB, error) {
	if err := s.read(); err != nil {
		return routing.LOB{}, err
	}
	l, ok := s.lobs[name]
	if !ok {
		return routing.LOB{}, routing.NotFoundError(routing.KindLOB, name)
	}
	return l, nil
}

func (s *store) GroupLOBs(_ context.Context, g string) ([]string, error) {
	if err := s.read(); err != nil {
		return nil, err
	}
	return slices.Clone(s.groups[g]), nil
}

func newStore() *store {
	return &store{
		users:  map[string]routing.User{"alice": {Name: "alice", LOBs: []string{"lob-a"}}},
		lobs:   map[string]routing.LOB{"lob-a": lobA()},
		groups: map[string][]string{"ds": {"lob-a"}},
	}
}

func lobA() routing.LOB {
	l := routing.LOB{Name: "lob-a", AccountID: "111122223333", Region: "eu-west-1", DomainID: "d-aaaaaaaaaaaa", RoleARN: "access"}
	l.Normalize(routing.Defaults{})
	return l
}

// observer counts events by "cache/result".
type observer struct {
	mu     sync.Mutex
	counts map[string]int
}

func (o *observer) Cache(c, result string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.counts == nil {
		o.counts = map[string]int{}
	}
	o.counts[c+"/"+result]++
}

func (o *observer) get(k string) int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.counts[k]
}

type fixture struct {
	store *store
	clock *testutil.Clock
	obs   *observer
	logs  *testutil.SyncBuffer
	cache *cache.Cache
}

const (
	ttl      = 30 * time.Second
	negTTL   = 5 * time.Second
	staleMax = 10 * time.Minute
)

func newFixture() *fixture {
	f := &fixture{store: newStore(), clock: testutil.NewClock(time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)), obs: &observer{}, logs: &testutil.SyncBuffer{}}
	f.cache = cache.New(f.store, cache.Options{
		TTL: ttl, NegativeTTL: negTTL, StaleMaxAge: staleMax,
		Now: f.clock.Now, Observer: f.obs, Logger: slog.New(slog.NewJSONHandler(f.logs, nil)),
	})
	return f
}

func (f *fixture) mustUser(t *testing.T, name string) routing.User {
	t.Helper()
	u, err := f.cache.GetUser(context.Background(), name)
	if err != nil {
		t.Fatalf("GetUser(%q): %v", name, err)
	}
	return u
}

func TestTTL(t *testing.T) {
	f := newFixture()
	f.mustUser(t, "alice")
	f.mustUser(t, "alice")
	if n := f.store.reads.Load(); n != 1 {
		t.Fatalf("two lookups within the TTL read the store %d times, want 1", n)
	}
	f.clock.Advance(ttl - time.Second)
	f.mustUser(t, "alice")
	if n := f.store.reads.Load(); n != 1 {
		t.Fatalf("lookup before the TTL ran out read the store (%d reads)", n)
	}
	f.clock.Advance(time.Second)
	f.mustUser(t, "alice")
	if n := f.store.reads.Load(); n != 2 {
		t.Fatalf("lookup after the TTL: %d reads, want 2", n)
	}
	if f.obs.get("routing_user/hit") != 2 || f.obs.get("routing_user/miss") != 2 {
		t.Errorf("observer = %v, want 2 hits and 2 misses", f.obs.counts)
	}
}

func TestNegativeCaching(t *testing.T) {
	f := newFixture()
	ctx := context.Background()
	for range 3 {
		if _, err := f.cache.GetUser(ctx, "nobody"); !errors.Is(err, routing.ErrNotFound) {
			t.Fatalf("GetUser(nobody) = %v, want not found", err)
		}
		if g, err := f.cache.GroupLOBs(ctx, "unmapped"); g != nil || err != nil {
			t.Fatalf("GroupLOBs(unmapped) = %q, %v", g, err)
		}
	}
	if n := f.store.reads.Load(); n != 2 {
		t.Fatalf("%d reads, want one per key", n)
	}
	// Negative answers expire sooner than positive ones.
	f.clock.Advance(negTTL)
	_, _ = f.cache.GetUser(ctx, "nobody")
	_, _ = f.cache.GroupLOBs(ctx, "unmapped")
	f.mustUser(t, "alice")
	if n := f.store.reads.Load(); n != 5 {
		t.Fatalf("after the negative TTL: %d reads, want 5", n)
	}
	f.clock.Advance(negTTL)
	f.mustUser(t, "alice")
	if n := f.store.reads.Load(); n != 5 {
		t.Fatalf("a found record expired with the negative TTL (%d reads)", n)
	}
}

// TestConcurrentMissesShareOneRead blocks the store read and waits, inside
// a synctest bubble, until every caller is blocked: then exactly one of
// them may be in the store, the rest waiting on its answer.
func TestConcurrentMissesShareOneRead(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFixture()
		f.store.gate = make(chan struct{})
		const callers = 20
		var wg sync.WaitGroup
		errs := make(chan error, callers)
		for range callers {
			wg.Go(func() {
				l, err := f.cache.GetLOB(context.Background(), "lob-a")
				if err == nil && l.Name != "lob-a" {
					err = fmt.Errorf("got %+v", l)
				}
				errs <- err
			})
		}
		synctest.Wait()
		if n := f.store.reads.Load(); n != 1 {
			t.Errorf("%d concurrent misses made %d store reads, want 1", callers, n)
		}
		close(f.store.gate)
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Error(err)
			}
		}
	})
}

// TestCancelledCallerDoesNotFailOthers: the read runs on for the callers
// still waiting when the one who started it gives up.
func TestCancelledCallerDoesNotFailOthers(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFixture()
		f.store.gate = make(chan struct{})
		ctx, cancel := context.WithCancel(context.Background())
		first := make(chan error, 1)
		go func() {
			_, err := f.cache.GetLOB(ctx, "lob-a")
			first <- err
		}()
		synctest.Wait()
		second := make(chan error, 1)
		go func() {
			_, err := f.cache.GetLOB(context.Background(), "lob-a")
			second <- err
		}()
		synctest.Wait()
		cancel()
		if err := <-first; !errors.Is(err, context.Canceled) {
			t.Errorf("cancelled caller: %v", err)
		}
		close(f.store.gate)
		if err := <-second; err != nil {
			t.Errorf("waiting caller: %v", err)
		}
	})
}

func TestStaleWhileError(t *testing.T) {
	f := newFixture()
	ctx := context.Background()
	want := f.mustUser(t, "alice")
	boom := errors.New("dynamodb: connection refused")
	f.store.setFail(boom)

	// Expired, store down: the stale answer stands in, loudly.
	f.clock.Advance(ttl)
	if got := f.mustUser(t, "alice"); !slices.Equal(got.LOBs, want.LOBs) {
		t.Fatalf("stale answer = %+v", got)
	}
	if f.obs.get("routing_user/stale") != 1 || !strings.Contains(f.logs.String(), "serving a cached answer") || !strings.Contains(f.logs.String(), "connection refused") {
		t.Errorf("stale serve not reported: observer %v, log %s", f.obs.counts, f.logs)
	}
	reads := f.store.reads.Load()

	// The failing store is left alone for the negative TTL.
	f.mustUser(t, "alice")
	if f.store.reads.Load() != reads {
		t.Errorf("a failing store was asked again at once")
	}
	f.clock.Advance(negTTL)
	f.mustUser(t, "alice")
	if f.store.reads.Load() != reads+1 {
		t.Errorf("the store was not tried again after the negative TTL")
	}

	// Past the maximum age the stale answer is no longer trusted.
	f.clock.Advance(staleMax)
	_, err := f.cache.GetUser(ctx, "alice")
	if !errors.Is(err, cache.ErrUnavailable) || !errors.Is(err, boom) {
		t.Fatalf("after StaleMaxAge: %v, want ErrUnavailable wrapping the store's error", err)
	}

	// The store is back: fresh answers again.
	f.store.setFail(nil)
	f.mustUser(t, "alice")
	f.clock.Advance(ttl - time.Second)
	f.store.setFail(boom)
	f.mustUser(t, "alice")
}

func TestStoreDownNothingCached(t *testing.T) {
	f := newFixture()
	boom := errors.New("timeout")
	f.store.setFail(boom)
	r := routing.NewResolver(f.cache, nil)
	for range 2 {
		_, err := r.Targets(context.Background(), &identity.Principal{Username: "alice"})
		if !errors.Is(err, cache.ErrUnavailable) || !errors.Is(err, boom) || errors.Is(err, routing.ErrNotFound) {
			t.Fatalf("Targets = %v, want ErrUnavailable", err)
		}
	}
	// Failures are not cached: each lookup tries the store.
	if n := f.store.reads.Load(); n != 2 {
		t.Errorf("%d reads, want 2", n)
	}
	if f.obs.get("routing_user/error") != 2 {
		t.Errorf("observer = %v", f.obs.counts)
	}
}

func TestCallerOwnsSlices(t *testing.T) {
	f := newFixture()
	u := f.mustUser(t, "alice")
	u.LOBs[0] = "changed"
	g, _ := f.cache.GroupLOBs(context.Background(), "ds")
	g[0] = "changed"
	if u := f.mustUser(t, "alice"); u.LOBs[0] != "lob-a" {
		t.Errorf("cached user changed: %q", u.LOBs)
	}
	if g, _ := f.cache.GroupLOBs(context.Background(), "ds"); g[0] != "lob-a" {
		t.Errorf("cached group changed: %q", g)
	}
}

func TestConfig(t *testing.T) {
	o := cache.Config{}.Options()
	if o.TTL != cache.DefaultTTL || o.NegativeTTL != cache.DefaultNegativeTTL || o.StaleMaxAge != cache.DefaultStaleMaxAge || o.MaxEntries != cache.DefaultMaxEntries {
		t.Errorf("defaults = %+v", o)
	}
	errs := cache.Config{TTL: routing.Duration(time.Hour), NegativeTTL: -1, StaleMaxAge: routing.Duration(time.Minute)}.Validate()
	if len(errs) != 2 || !strings.HasPrefix(errs[0].Error(), "negativeTtl: must not be negative") || !strings.HasPrefix(errs[1].Error(), "staleMaxAge: must be at least ttl (1h)") {
		t.Errorf("Validate = %v", errs)
	}
}

// BenchmarkResolveCacheHit is a resolution in steady state: the user
// record, two groups (one unmapped) and the LOB all answered by the cache.
func BenchmarkResolveCacheHit(b *testing.B) {
	s := newStore()
	r := routing.NewResolver(cache.New(s, cache.Options{}), nil)
	p := &identity.Principal{Username: "alice", Groups: []string{"ds", "unmapped"}}
	ctx := context.Background()
	if _, err := r.Targets(ctx, p); err != nil {
		b.Fatal(err)
	}
	reads := s.reads.Load()
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := r.Targets(ctx, p); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	if s.reads.Load() != reads {
		b.Fatalf("store read during the benchmark")
	}
}

// BenchmarkResolveCacheHitParallel is the same from every CPU at once.
func BenchmarkResolveCacheHitParallel(b *testing.B) {
	s := newStore()
	r := routing.NewResolver(cache.New(s, cache.Options{}), nil)
	p := &identity.Principal{Username: "alice", Groups: []string{"ds", "unmapped"}}
	if _, err := r.Targets(context.Background(), p); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := r.Targets(context.Background(), p); err != nil {
				b.Error(err)
				return
			}
		}
	})
}
