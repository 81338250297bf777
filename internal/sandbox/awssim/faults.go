package awssim

import (
	"context"
	"math/rand/v2"
	"net/http"
	"slices"
	"sync"
	"time"
)

// Two kinds of misbehaviour can be injected:
//
//   - Fault: a chosen error for matching calls, exactly as many times as
//     asked (a test drives one code path: "the next presign is throttled").
//   - Chaos: random misbehaviour for every call (latency with jitter, a
//     throttling rate, an error rate, an outage of whole accounts), drawn
//     from a seeded generator so that a sequential test is exact and a load
//     test reproducible in its rates.
//
// Both apply after authentication and before the operation runs, and a
// faulted call is counted and logged like any other (CallRecord.Error holds
// the injected code). Latency applies to every call, faulted or not, just
// before its answer is written.

// Fault makes matching calls fail with a chosen AWS error, so that tests can
// drive a client's handling of throttling, access denial or outages through
// the real SDK (e.g. Code "ThrottlingException" for SageMaker, "Throttling"
// for STS).
type Fault struct {
	// Service ("sts", "sagemaker"), Operation and Account select calls; an
	// empty field matches anything. Account is the one the call is counted
	// under (see CallRecord.Account).
	Service   string
	Operation string
	Account   string
	// Code and Message form the error; Status defaults to 400.
	Code    string
	Message string
	Status  int
	// Times is how many matching calls fail; 0 means every matching call
	// until ClearFaults.
	Times int
}

// codeConnectionReset marks a call that is answered by closing the
// connection; it is what the call log shows for it.
const codeConnectionReset = "ConnectionReset"

type faultSet struct {
	mu     sync.Mutex
	faults []*Fault
	chaos  Chaos
	rng    *rand.Rand
	// sleep waits for d or until ctx is done; tests replace it to see the
	// drawn delays without waiting for them.
	sleep func(ctx context.Context, d time.Duration)
}

// InjectFault adds a fault. Faults are tried in the order added, before
// Chaos.
func (s *Simulator) InjectFault(f Fault) {
	if f.Status == 0 {
		f.Status = http.StatusBadRequest
	}
	if f.Message == "" {
		f.Message = "Injected fault: " + f.Code
	}
	s.faults.mu.Lock()
	defer s.faults.mu.Unlock()
	s.faults.faults = append(s.faults.faults, &f)
}

// SetChaos replaces the random misbehaviour and reseeds its generator from
// c.Seed. It refuses an invalid c and keeps the previous one.
func (s *Simulator) SetChaos(c Chaos) error {
	if err := c.Validate(); err != nil {
		return err
	}
	c.Latency = slices.Clone(c.Latency)
	c.OutageAccounts = slices.Clone(c.OutageAccounts)
	s.faults.mu.Lock()
	defer s.faults.mu.Unlock()
	s.faults.chaos = c
	s.faults.rng = rand.New(rand.NewPCG(c.Seed, c.Seed^0x5a6e6761746531)) // second word: any constant
	return nil
}

// Chaos returns the random misbehaviour in force.
func (s *Simulator) Chaos() Chaos {
	s.faults.mu.Lock()
	defer s.faults.mu.Unlock()
	c := s.faults.chaos
	c.Latency = slices.Clone(c.Latency)
	c.OutageAccounts = slices.Clone(c.OutageAccounts)
	return c
}

// ClearFaults removes every fault and the Chaos.
func (s *Simulator) ClearFaults() {
	s.faults.mu.Lock()
	defer s.faults.mu.Unlock()
	s.faults.faults = nil
	s.faults.chaos = Chaos{}
	s.faults.rng = nil
}

// match returns the error the call must answer, if any: the first Fault
// that matches it (using up one of its Times), else an outage of its
// account, else a random throttle or server error.
func (fs *faultSet) match(rec *CallRecord) *apiError {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	for i, f := range fs.faults {
		if (f.Service != "" && f.Service != rec.Service) ||
			(f.Operation != "" && f.Operation != rec.Operation) ||
			(f.Account != "" && f.Account != rec.Account) {
			continue
		}
		if f.Times > 0 {
			f.Times--
			if f.Times == 0 {
				fs.faults = append(fs.faults[:i:i], fs.faults[i+1:]...)
			}
		}
		return newAPIError(f.Status, f.Code, f.Message)
	}
	return fs.chaosError(rec)
}

// chaosError draws the Chaos outcome of one call; fs.mu is held.
func (fs *faultSet) chaosError(rec *CallRecord) *apiError {
	c := &fs.chaos
	if rec.Account != "" && slices.Contains(c.OutageAccounts, rec.Account) {
		if c.OutageMode == OutageReset {
			return newAPIError(http.StatusServiceUnavailable, codeConnectionReset, "Injected outage of account "+rec.Account+": connection closed")
		}
		return newAPIError(http.StatusServiceUnavailable, "ServiceUnavailable", "Service is unavailable (injected outage of account "+rec.Account+")")
	}
	if fs.rng == nil || c.ThrottleRate+c.ErrorRate == 0 {
		return nil
	}
	// One draw decides: [0, throttle) throttles, [throttle, throttle+error)
	// fails, the rest succeeds. The rates are then exactly the shares.
	x := fs.rng.Float64()
	switch {
	case x < c.ThrottleRate:
		code := "ThrottlingException"
		if rec.Service == "sts" {
			code = "Throttling"
		}
		return newAPIError(http.StatusBadRequest, code, "Rate exceeded")
	case x < c.ThrottleRate+c.ErrorRate:
		if fs.rng.IntN(2) == 0 {
			return newAPIError(http.StatusInternalServerError, "InternalFailure", "The request processing has failed because of an unknown error, exception or failure (injected).")
		}
		return newAPIError(http.StatusServiceUnavailable, "ServiceUnavailable", "Service is unavailable (injected).")
	}
	return nil
}

// delay waits out the call's injected latency, returning early when ctx
// ends (the client gave up: nobody is waiting for the answer).
func (fs *faultSet) delay(ctx context.Context, rec *CallRecord) {
	fs.mu.Lock()
	var d time.Duration
	for _, l := range fs.chaos.Latency {
		if l.matches(rec) {
			d = l.Base
			if l.Jitter > 0 && fs.rng != nil {
				d += time.Duration((fs.rng.Float64()*2 - 1) * float64(l.Jitter))
			}
			break
		}
	}
	sleep := fs.sleep
	fs.mu.Unlock()
	if d <= 0 {
		return
	}
	if sleep == nil {
		sleep = sleepCtx
	}
	sleep(ctx, d)
}

func sleepCtx(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}

// abortIfReset ends the HTTP exchange without an answer when the call's
// injected outage is a connection reset. net/http closes the connection on
// this panic value and logs nothing.
func abortIfReset(e *apiError) {
	if e != nil && e.code == codeConnectionReset {
		panic(http.ErrAbortHandler)
	}
}
