package loadtest

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sagegate/sagegate/internal/sandbox"
	"github.com/sagegate/sagegate/internal/sandbox/awssim"
)

// Run fetches a token for every person, warms up, runs the load until
// Duration or Requests is reached, and reports. An error means the test
// could not run (target unreachable, population mismatch); a run that
// found problems returns a Report with OK false.
func Run(ctx context.Context, c Config) (*Report, error) {
	cfg, err := c.withDefaults()
	if err != nil {
		return nil, err
	}
	routes, err := sandbox.Routes(cfg.Population)
	if err != nil {
		return nil, err
	}
	m := newModel(routes)
	do := func(ctx context.Context, req *request, t *tally) { exchange(ctx, &cfg, req, t) }
	var dc *direct
	if cfg.Direct {
		dc = newDirect(&cfg)
		do = func(ctx context.Context, req *request, t *tally) { dc.exchange(ctx, &cfg, req, t) }
	} else {
		cfg.Logger.InfoContext(ctx, "loadtest: fetching tokens", "people", len(m.users))
		if err := fetchTokens(ctx, &cfg, m); err != nil {
			return nil, err
		}
	}

	checker := newCallChecker(m)
	startLog, err := cfg.AWS.CallLog(ctx)
	if err != nil {
		return nil, fmt.Errorf("reading the simulator's call log: %w", err)
	}
	start, err := cfg.AWS.Calls(ctx)
	if err != nil {
		return nil, fmt.Errorf("reading the simulator's call counts: %w", err)
	}
	checker.baseline(startLog)
	ticker := time.NewTicker(cfg.VerifyInterval)
	defer ticker.Stop()
	stop, polled := make(chan struct{}), make(chan struct{})
	pollErrs := make(chan error, 1)
	go func() {
		defer close(polled)
		checker.poll(ctx, cfg.AWS, ticker.C, stop, pollErrs)
	}()
	stopPolling := sync.OnceFunc(func() { close(stop); <-polled })
	defer stopPolling()

	rep := &Report{
		Target: cfg.Target, Gateway: cfg.Gateway, Direct: cfg.Direct, InProcess: cfg.InProcess, Population: cfg.Population, People: len(m.users),
		Concurrency: cfg.Concurrency, Mix: cfg.Mix.String(), Seed: cfg.Seed,
	}
	if dc != nil {
		// After the baseline: the checker attributes these calls too.
		cfg.Logger.InfoContext(ctx, "loadtest: assuming every access role", "people", len(m.users))
		if err := dc.assumeAll(ctx, &cfg, m); err != nil {
			return nil, err
		}
	}
	if chaos, err := cfg.AWS.Chaos(ctx); err == nil {
		rep.Faults = &chaos
	}
	var warm *tally
	if cfg.Warmup {
		cfg.Logger.InfoContext(ctx, "loadtest: warming up")
		if warm, err = warmup(ctx, &cfg, m, do); err != nil {
			return nil, err
		}
		rep.Warmup = &Phase{Requests: warm.requests(), Outcomes: warm.outcomeMap("")}
	}

	before, err := cfg.AWS.Calls(ctx)
	if err != nil {
		return nil, err
	}
	cfg.Logger.InfoContext(ctx, "loadtest: running", "duration", cfg.Duration, "requests", cfg.Requests, "concurrency", cfg.Concurrency)
	var done func()
	if cfg.OnRun != nil {
		done = cfg.OnRun()
	}
	self := &cpuMeter{source: "this process", read: SelfCPU}
	if rep.InProcess {
		self.source = "this process: gateway, sandbox and load generator"
	}
	var server *cpuMeter
	if cfg.ServerCPU != nil {
		server = &cpuMeter{source: "the process of --pid", read: cfg.ServerCPU}
		server.begin()
	}
	self.begin()
	t, elapsed := load(ctx, &cfg, m, do)
	rep.LoadCPU = self.end(elapsed, t.requests())
	if server != nil {
		rep.ServerCPU = server.end(elapsed, t.requests())
	}
	if done != nil {
		done()
	}
	after, err := cfg.AWS.Calls(ctx)
	if err != nil {
		return nil, err
	}
	stopPolling()
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}

	rep.fill(t, elapsed, before, after)
	rep.verify(checker, after.Total-start.Total)
	if warm != nil {
		rep.Wrong += warm.nWrong
		rep.WrongExamples = appendExamples(rep.WrongExamples, prefixed("warm-up: ", warm.wrong))
		rep.Violations += warm.nViol
		rep.ViolationExamples = appendExamples(rep.ViolationExamples, prefixed("warm-up: ", warm.violation))
	}
	select {
	case err := <-pollErrs:
		rep.WrongExamples = appendExamples(rep.WrongExamples, []string{"reading the call log: " + err.Error()})
	default:
	}
	if cfg.Memory != nil {
		if mem, err := cfg.Memory(); err == nil {
			rep.Memory = mem
		} else {
			cfg.Logger.WarnContext(ctx, "loadtest: reading memory", "err", err)
		}
	}
	rep.OK = rep.Violations == 0 && rep.Wrong == 0 && rep.Verification.CallsUnseen == 0 && rep.Requests > 0
	return rep, nil
}

// exchangeFunc sends one request (to the gateway, or straight to AWS in
// a direct run), judges the answer and records it.
type exchangeFunc func(context.Context, *request, *tally)

// load runs the workers until a bound is reached and returns their merged
// tally and the time it took (the last request included).
func load(ctx context.Context, cfg *Config, m *model, do exchangeFunc) (*tally, time.Duration) {
	mix := newWeights(cfg.Mix)
	var issued atomic.Int64
	begin := time.Now()
	deadline := begin.Add(cfg.Duration)
	tallies := make([]*tally, cfg.Concurrency)
	var wg sync.WaitGroup
	for i := range tallies {
		t := newTally()
		tallies[i] = t
		r := rand.New(rand.NewPCG(cfg.Seed, uint64(i)))
		wg.Go(func() {
			for ctx.Err() == nil && time.Now().Before(deadline) && issued.Add(1) <= int64(cfg.Requests) {
				req := m.plan(r, mix)
				do(ctx, &req, t)
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(begin)
	all := newTally()
	for _, t := range tallies {
		all.merge(t)
	}
	return all, elapsed
}

// exchange sends one request, judges the answer and records it.
func exchange(ctx context.Context, cfg *Config, req *request, t *tally) {
	status, h, d, err := send(ctx, cfg, req.path, req.auth)
	if err != nil {
		t.add(req.class, req.expect.domain != "", statusNone, d, Wrong, fmt.Sprintf("%s %s: %v", req.class, templatePath(req.path), err))
		return
	}
	o, detail := judge(req, status, h)
	t.add(req.class, req.expect.domain != "", status, d, o, detail)
}

func send(ctx context.Context, cfg *Config, path, auth string) (int, http.Header, time.Duration, error) {
	ctx, cancel := context.WithTimeout(ctx, cfg.RequestTimeout)
	defer cancel()
	hreq, err := http.NewRequestWithContext(ctx, http.MethodGet, cfg.Gateway+path, nil)
	if err != nil {
		return 0, nil, 0, err
	}
	hreq.Header.Set("Authorization", auth)
	begin := time.Now()
	resp, err := cfg.HTTPClient.Do(hreq)
	if err != nil {
		return 0, nil, time.Since(begin), err
	}
	// Drain so that the connection is reused.
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	resp.Body.Close()
	return resp.StatusCode, resp.Header, time.Since(begin), nil
}

// fill computes the run's figures.
func (r *Report) fill(t *tally, elapsed time.Duration, before, after awssim.Calls) {
	r.ElapsedSeconds = elapsed.Seconds()
	r.Requests = t.requests()
	if elapsed > 0 {
		r.Throughput = float64(r.Requests) / elapsed.Seconds()
	}
	r.Statuses = t.statusMap("")
	r.Outcomes = t.outcomeMap("")
	var all []time.Duration
	r.Classes = map[string]*ClassReport{}
	for c, ds := range t.durations {
		all = append(all, ds...)
		r.Classes[c] = &ClassReport{Requests: len(ds), Statuses: t.statusMap(c), Outcomes: t.outcomeMap(c), Latency: latencyOf(ds)}
	}
	r.Latency = latencyOf(all)

	l := &r.Launches
	l.Attempted = t.launches[OK] + t.launches[Limited] + t.launches[Shed] + t.launches[Wrong] + t.launches[Violation]
	l.Granted, l.Limited, l.Shed = t.launches[OK], t.launches[Limited], t.launches[Shed]
	l.Failed = t.launches[Wrong] + t.launches[Violation]
	if l.Attempted > 0 {
		l.SuccessRate = float64(l.Granted) / float64(l.Attempted)
	}
	if n := l.Attempted - l.Limited; n > 0 {
		l.UnlimitedSuccessRate = float64(l.Granted) / float64(n)
	}
	if elapsed > 0 {
		l.PerSecond = float64(l.Granted) / elapsed.Seconds()
	}

	r.AWS.Calls = map[string]int{}
	for _, cc := range after.Calls {
		if n := cc.Count - before.Count(cc.Service, cc.Operation, cc.Account); n > 0 {
			r.AWS.Calls[cc.Operation] += n
		}
	}
	r.AWS.Total = after.Total - before.Total
	if l.Granted > 0 {
		r.AWS.PerGranted = float64(r.AWS.Total) / float64(l.Granted)
	}
	if l.Attempted > 0 {
		r.AWS.PerAttempt = float64(r.AWS.Total) / float64(l.Attempted)
	}
	r.Wrong, r.WrongExamples = t.nWrong, slices.Clone(t.wrong)
	r.Violations, r.ViolationExamples = t.nViol, slices.Clone(t.violation)
}

// verify adds the call log's findings; total is how many calls the
// simulator counted since the start.
func (r *Report) verify(c *callChecker, total int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	r.Verification = Verification{
		CallsSeen:         c.seen,
		CallsUnseen:       max(0, total-c.seen),
		AssumeRoleChecked: c.assumes,
		PresignChecked:    c.presigns,
		Unattributed:      c.unattrib,
	}
	if len(c.errorCodes) > 0 {
		r.AWS.Errors = c.errorCodes
	}
	r.Violations += c.nViolation
	r.ViolationExamples = appendExamples(r.ViolationExamples, c.violations)
}

func prefixed(prefix string, lines []string) []string {
	out := make([]string, len(lines))
	for i, l := range lines {
		out[i] = prefix + l
	}
	return out
}
