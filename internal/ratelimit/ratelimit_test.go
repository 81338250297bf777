package ratelimit

import (
	"testing"
	"time"

	"github.com/sagegate/sagegate/internal/testutil"
)

func TestKeyedBucketsAreIndependent(t *testing.T) {
	c := testutil.NewClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	l := New(1, 3, 100, c.Now) // one per second, bursts of three
	for i := 0; i < 3; i++ {
		if ok, _ := l.Allow("alice"); !ok {
			t.Fatalf("burst request %d refused", i)
		}
	}
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

func TestKeyedForgetsLeastRecentlyUsed(t *testing.T) {
	c := testutil.NewClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	l := New(1, 1, 2, c.Now)
	l.Allow("a")
	l.Allow("b")
	l.Allow("c") // evicts a
	if l.buckets.Len() != 2 {
		t.Fatalf("buckets = %d, want 2", l.buckets.Len())
	}
	if ok, _ := l.Allow("a"); !ok {
		t.Error("a forgotten key starts with a full bucket")
	}
}
