package ratelimit

import (
	"fmt"
	"testing"
	"time"

	"github.com/sagegate/sagegate/internal/testutil"
)

// allowN takes n tokens for key, failing the test if any is refused.
func allowN(t *testing.T, l *Keyed, key string, n int) {
	t.Helper()
	for i := range n {
		if ok, wait := l.Allow(key); !ok {
			t.Fatalf("%s's request %d of %d refused (wait %v)", key, i+1, n, wait)
		}
	}
}

func TestKeyedBucketsAreIndependent(t *testing.T) {
	c := testutil.NewClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	l := New(1, 3, 100, c.Now) // one per second, bursts of three
	allowN(t, l, "alice", 3)
	ok, wait := l.Allow("alice")
	if ok || wait <= 0 || wait > time.Second {
		t.Fatalf("fourth request: ok=%v wait=%v, want refused with a wait up to 1s", ok, wait)
	}
	// Refusals do not dig a deeper hole.
	for i := 0; i < 10; i++ {
		l.Allow("alice")
	}
	if ok, _ := l.Allow("bob"); !ok {
		t.Fatal("bob was limited by alice's requests")
	}
	c.Advance(time.Second)
	if ok, _ := l.Allow("alice"); !ok {
		t.Fatal("alice not allowed again after a second")
	}
	if ok, _ := l.Allow("alice"); ok {
		t.Fatal("alice got two tokens for one second")
	}
}

// The bucket refills at the rate up to the burst, and the wait a refusal
// reports is exactly the time until the next token.
func TestKeyedRefillsUpToTheBurst(t *testing.T) {
	c := testutil.NewClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	l := New(0.5, 10, 100, c.Now) // 30 a minute, bursts of 10: the launch default
	allowN(t, l, "alice", 10)
	if ok, wait := l.Allow("alice"); ok || wait != 2*time.Second {
		t.Fatalf("11th: ok=%v wait=%v, want refused for 2s", ok, wait)
	}
	c.Advance(1500 * time.Millisecond)
	if ok, wait := l.Allow("alice"); ok || wait != 500*time.Millisecond {
		t.Fatalf("after 1.5s: ok=%v wait=%v, want refused for 0.5s", ok, wait)
	}
	// An hour idle fills the bucket to its burst, not beyond.
	c.Advance(time.Hour)
	allowN(t, l, "alice", 10)
	if ok, _ := l.Allow("alice"); ok {
		t.Fatal("the bucket held more than its burst")
	}
}

func TestKeyedWithoutRefillOrBurst(t *testing.T) {
	c := testutil.NewClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	l := New(0, 2, 100, c.Now)
	allowN(t, l, "a", 2)
	c.Advance(24 * time.Hour)
	if ok, wait := l.Allow("a"); ok || wait <= 0 {
		t.Fatalf("no rate: ok=%v wait=%v, want refused", ok, wait)
	}
	if ok, _ := New(1, 0, 100, c.Now).Allow("a"); ok {
		t.Fatal("a burst of 0 allowed a request")
	}
}

func TestKeyedForgetsKeysAtMaxKeys(t *testing.T) {
	c := testutil.NewClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	l := New(1, 1, 2, c.Now)
	l.Allow("a")
	l.Allow("b")
	l.Allow("c") // the set is full: one of a and b is forgotten
	if n := l.keys(); n != 2 {
		t.Fatalf("keys = %d, want 2", n)
	}
	if ok, _ := l.Allow("c"); ok {
		t.Error("c, just added, was forgotten")
	}
}

// Keys whose buckets are full again are forgotten as the set grows, so
// memory follows the people active now, not everyone ever seen.
func TestKeyedSweepsFullBuckets(t *testing.T) {
	c := testutil.NewClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	l := New(1, 5, 1_000_000, c.Now)
	const floor = 1024 // sweepmap's
	for i := range floor {
		l.Allow(fmt.Sprintf("early-%d", i))
	}
	l.Allow("busy")
	l.Allow("busy")
	c.Advance(time.Second) // the early keys' buckets are full again; busy's is not
	for i := range floor {
		l.Allow(fmt.Sprintf("late-%d", i))
	}
	if n := l.keys(); n > floor+1 {
		t.Fatalf("keys = %d, want the full early buckets swept (at most %d)", n, floor+1)
	}
	// busy kept its state: 5 - 2 + 1 refilled = 4 tokens.
	allowN(t, l, "busy", 4)
	if ok, _ := l.Allow("busy"); ok {
		t.Fatal("busy's bucket was forgotten in the sweep (it started full again)")
	}
}

func BenchmarkAllow(b *testing.B) {
	l := New(1000, 10, 100_000, nil)
	keys := make([]string, 5000)
	for i := range keys {
		keys[i] = fmt.Sprintf("user-%04d", i)
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		l.Allow(keys[i%len(keys)])
		i++
	}
}
