package awssim

import (
	"context"
	"testing"
	"time"
)

// delays draws n delays for rec without waiting for them.
func delays(t *testing.T, s *Simulator, rec CallRecord, n int) []time.Duration {
	t.Helper()
	var got []time.Duration
	s.faults.sleep = func(_ context.Context, d time.Duration) { got = append(got, d) }
	for range n {
		s.faults.delay(context.Background(), &rec)
	}
	return got
}

func TestLatencyRulesAndJitter(t *testing.T) {
	s := New(Options{})
	chaos := Chaos{Seed: 3, Latency: []Latency{
		{Service: "sts", Operation: "AssumeRole", Base: 50 * time.Millisecond},
		{Service: "sagemaker", Base: 20 * time.Millisecond, Jitter: 5 * time.Millisecond},
	}}
	if err := s.SetChaos(chaos); err != nil {
		t.Fatal(err)
	}
	assume := CallRecord{Service: "sts", Operation: "AssumeRole"}
	presign := CallRecord{Service: "sagemaker", Operation: "CreatePresignedDomainUrl"}

	for _, d := range delays(t, s, assume, 5) {
		if d != 50*time.Millisecond {
			t.Errorf("AssumeRole delay %v, want exactly 50ms", d)
		}
	}
	if got := delays(t, s, CallRecord{Service: "sts", Operation: "GetCallerIdentity"}, 3); len(got) != 0 {
		t.Errorf("no rule matches GetCallerIdentity, yet it slept %v", got)
	}

	first := delays(t, s, presign, 1000)
	var lo, hi int
	for _, d := range first {
		if d < 15*time.Millisecond || d > 25*time.Millisecond {
			t.Fatalf("presign delay %v outside 20ms±5ms", d)
		}
		if d < 20*time.Millisecond {
			lo++
		} else {
			hi++
		}
	}
	// Uniform jitter: about half on either side of the base.
	if lo < 400 || hi < 400 {
		t.Errorf("jitter lopsided: %d below, %d above", lo, hi)
	}

	// Reseeding replays the draws.
	if err := s.SetChaos(chaos); err != nil {
		t.Fatal(err)
	}
	delays(t, s, assume, 5) // no jitter: draws nothing
	again := delays(t, s, presign, 1000)
	for i := range first {
		if first[i] != again[i] {
			t.Fatalf("draw %d: %v then %v with the same seed", i, first[i], again[i])
		}
	}
}

func TestLatencyEndsWithTheRequest(t *testing.T) {
	s := New(Options{})
	// An hour of latency: delay can only return because ctx ended; were it
	// deaf to ctx, the test would hang until it times out.
	if err := s.SetChaos(Chaos{Latency: []Latency{{Base: time.Hour}}}); err != nil {
		t.Fatal(err)
	}
	entered := make(chan struct{})
	s.faults.sleep = func(ctx context.Context, d time.Duration) {
		close(entered)
		sleepCtx(ctx, d)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		s.faults.delay(ctx, &CallRecord{Service: "sts", Operation: "AssumeRole"})
		close(done)
	}()
	<-entered
	cancel()
	<-done
}
