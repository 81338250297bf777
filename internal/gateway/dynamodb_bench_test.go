package gateway_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/sagegate/sagegate/internal/sandbox/awssim"
)

const (
	benchLOBs  = 20
	benchUsers = 1000
)

// newScaleEnv is 1,000 people across 20 LOBs, each LOB its own account
// with one domain, routed from DynamoDB in the AWS sample's shape (no
// domain ids: each is discovered once). Every person has launched once,
// so credentials, routes and domains are warm, and the counters are zero.
func newScaleEnv(b *testing.B) (*ddbEnv, []*http.Request) {
	b.Helper()
	profiles := make([][]string, benchLOBs)
	for u := range benchUsers {
		profiles[u%benchLOBs] = append(profiles[u%benchLOBs], fmt.Sprintf("user-%04d", u))
	}
	var accounts []awssim.Account
	for l := range benchLOBs {
		accounts = append(accounts, awssim.Account{
			ID:      fmt.Sprintf("3000000000%02d", l),
			Roles:   []awssim.Role{{Name: "sagegate-access", TrustedAccounts: []string{gwAccount}}},
			Domains: []awssim.Domain{{ID: fmt.Sprintf("d-scale%07d", l), UserProfiles: profiles[l]}},
		})
	}
	e := newDDBEnv(b, accounts, "")
	for l := range benchLOBs {
		e.db.Put(b, "lobs-map-table", "PK", fmt.Sprintf("lob-%02d", l), "ACCOUNT_ID", fmt.Sprintf("3000000000%02d", l))
	}
	reqs := make([]*http.Request, benchUsers)
	for u := range benchUsers {
		user := fmt.Sprintf("user-%04d", u)
		e.db.Put(b, "users-map-table", "PK", user, "LOB", fmt.Sprintf("lob-%02d", u%benchLOBs))
		reqs[u] = httptest.NewRequest("GET", "/studio", nil)
		reqs[u].Header.Set("Authorization", "Bearer "+e.token(user))
	}
	for _, req := range reqs {
		rec := httptest.NewRecorder()
		e.gw.Handler.ServeHTTP(rec, req)
		if rec.Code != http.StatusFound {
			b.Fatalf("warm-up: %d %s", rec.Code, rec.Body)
		}
	}
	e.sim.ResetCalls()
	e.ddbRequests.Store(0)
	return e, reqs
}

// BenchmarkLaunch1000Users20LOBs is a warm gateway serving launches of
// 1,000 different people in turn, routes from DynamoDB behind the cache:
// token verification (cached), routing (cache hits), cached credentials
// and one CreatePresignedDomainUrl over loopback HTTP to the simulator.
func BenchmarkLaunch1000Users20LOBs(b *testing.B) {
	e, reqs := newScaleEnv(b)
	serveLoop(b, e.gw.Handler, http.StatusFound, reqs)
	reportScale(b, e)
}

// BenchmarkLaunch1000Users20LOBsParallel is the same from every CPU.
func BenchmarkLaunch1000Users20LOBsParallel(b *testing.B) {
	e, reqs := newScaleEnv(b)
	// 7 apart: another person each time, whichever goroutine.
	launchParallel(b, e.gw.Handler, reqs, 7)
	reportScale(b, e)
}

// reportScale adds AWS calls and DynamoDB requests per launch: 1 and 0
// while the cache TTL (30s) outlasts the run.
func reportScale(b *testing.B, e *ddbEnv) {
	if b.N > 0 {
		b.ReportMetric(float64(e.sim.Calls().Total)/float64(b.N), "awscalls/launch")
		b.ReportMetric(float64(e.ddbRequests.Load())/float64(b.N), "ddbreads/launch")
	}
}
