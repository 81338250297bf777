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
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		rec := httptest.NewRecorder()
		e.gw.Handler.ServeHTTP(rec, req)
		if rec.Code != http.StatusFound {
			b.Fatalf("status %d", rec.Code)
		}
	}
	b.StopTimer()
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
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			rec := httptest.NewRecorder()
			e.gw.Handler.ServeHTTP(rec, reqs[i%len(reqs)])
			if rec.Code != http.StatusFound {
				b.Errorf("status %d", rec.Code)
				return
			}
			i++
		}
	})
	b.StopTimer()
	reportCallsPerLaunch(b, e)
}

// BenchmarkVerifyAndRoute is the gateway's own work on a launch, without
// the AWS call: the targets listing runs the same verification and routing.
func BenchmarkVerifyAndRoute(b *testing.B) {
	e := newEnv(b)
	req := httptest.NewRequest("GET", "/api/v1/targets", nil)
	req.Header.Set("Authorization", "Bearer "+e.token("alice"))
	warm(b, e, req)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		rec := httptest.NewRecorder()
		e.gw.Handler.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			b.Fatalf("status %d", rec.Code)
		}
	}
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
