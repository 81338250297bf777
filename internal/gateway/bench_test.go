package gateway_test

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

// BenchmarkLaunch measures one warm launch through the whole gateway:
// bearer-token verification (signature, claims), routing, the cached
// assumed-role credentials, and CreatePresignedDomainUrl through the real
// AWS SDK over loopback HTTP to the in-process simulator (SigV4 signed
// and verified on both sides).
func BenchmarkLaunch(b *testing.B) {
	e := newEnv(b)
	req := launchRequest(e, "alice")
	warm(b, e, req)
	serveLoop(b, e.gw.Handler, http.StatusFound, []*http.Request{req})
	reportCallsPerLaunch(b, e)
}

// BenchmarkLaunchParallel runs warm launches of several users at once.
func BenchmarkLaunchParallel(b *testing.B) {
	e := newEnv(b)
	names := []string{"alice", "amy", "arthur", "both"}
	reqs := make([]*http.Request, len(names))
	for i, n := range names {
		reqs[i] = launchRequest(e, n)
		warm(b, e, reqs[i])
	}
	launchParallel(b, e.gw.Handler, reqs, 1)
	reportCallsPerLaunch(b, e)
}

// BenchmarkVerifyAndRoute is the gateway's own work on a launch, without
// the AWS call: the targets listing runs the same verification and routing.
func BenchmarkVerifyAndRoute(b *testing.B) {
	e := newEnv(b)
	req := httptest.NewRequest("GET", "/api/v1/targets", nil)
	req.Header.Set("Authorization", "Bearer "+e.token("alice"))
	warm(b, e, req)
	serveLoop(b, e.gw.Handler, http.StatusOK, []*http.Request{req})
}

// serveLoop serves reqs in turn until b is done, failing on any status but
// want. The timer is stopped when it returns.
func serveLoop(b *testing.B, h http.Handler, want int, reqs []*http.Request) {
	b.Helper()
	b.ReportAllocs()
	b.ResetTimer()
	i := 0
	for b.Loop() {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, reqs[i%len(reqs)])
		if rec.Code != want {
			b.Fatalf("status %d", rec.Code)
		}
		i++
	}
	b.StopTimer()
}

// launchParallel is serveLoop from every CPU, for launches (302): each
// goroutine walks reqs step at a time. The timer is stopped when it returns.
func launchParallel(b *testing.B, h http.Handler, reqs []*http.Request, step int) {
	b.Helper()
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, reqs[i%len(reqs)])
			if rec.Code != http.StatusFound {
				b.Errorf("status %d", rec.Code)
				return
			}
			i += step
		}
	})
	b.StopTimer()
}

func launchRequest(e *env, user string) *http.Request {
	req := httptest.NewRequest("GET", "/launch/lob-a", nil)
	req.Header.Set("Authorization", "Bearer "+e.token(user))
	return req
}

// warm does the first launch (JWKS fetch, AssumeRole) and resets counts.
func warm(b *testing.B, e *env, req *http.Request) {
	b.Helper()
	rec := httptest.NewRecorder()
	e.gw.Handler.ServeHTTP(rec, req)
	if rec.Code >= 400 {
		b.Fatalf("warm-up: %d %s", rec.Code, rec.Body)
	}
	e.sim.ResetCalls()
}

func reportCallsPerLaunch(b *testing.B, e *env) {
	if b.N > 0 {
		b.ReportMetric(float64(e.sim.Calls().Total)/float64(b.N), "awscalls/launch")
	}
}
