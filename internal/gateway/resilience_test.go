package gateway_test

import (
	"net/http"
	"strconv"
	"testing"

	"github.com/sagegate/sagegate/internal/sandbox/awssim"
)

// Throttled presign calls are retried inside the deadline: the person
// sees a launch, not an error.
func TestThrottlingIsRetried(t *testing.T) {
	e := newEnvWith(t, extra{maxAttempts: 6})
	e.sim.InjectFault(awssim.Fault{Service: "sagemaker", Operation: "CreatePresignedDomainUrl", Code: "ThrottlingException", Times: 4})
	if resp := e.do("GET", "/studio", e.token("alice")); resp.StatusCode != http.StatusFound {
		t.Fatalf("status = %s", resp.Status)
	}
	if n := e.sim.Calls().Count("sagemaker", "CreatePresignedDomainUrl", acctA); n != 5 {
		t.Errorf("presign attempts = %d, want 4 throttled + 1", n)
	}
}

// While one account's AWS is down, its launches fail fast with 503 and
// Retry-After after a few failures, without calling AWS again, and the
// other account is unaffected.
func TestAccountOutageOpensTheCircuit(t *testing.T) {
	e := newEnvWith(t, extra{maxAttempts: 2})
	// Warm alice's credentials, then take account A down.
	if resp := e.do("GET", "/studio", e.token("alice")); resp.StatusCode != http.StatusFound {
		t.Fatal(resp.Status)
	}
	if err := e.sim.SetChaos(awssim.Chaos{OutageAccounts: []string{acctA}}); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 5; i++ {
		resp := e.do("GET", "/studio", e.token("alice"))
		if resp.StatusCode != http.StatusBadGateway && resp.StatusCode != http.StatusServiceUnavailable {
			t.Fatalf("launch %d during the outage: %s", i, resp.Status)
		}
	}
	before := e.sim.Calls().Count("", "", acctA)
	resp := e.do("GET", "/studio", e.token("alice"))
	body := decode(t, resp)
	retry, _ := strconv.Atoi(resp.Header.Get("Retry-After"))
	if resp.StatusCode != http.StatusServiceUnavailable || body["code"] != "aws_unavailable" || retry < 1 {
		t.Fatalf("with the circuit open: %s %v Retry-After=%q", resp.Status, body, resp.Header.Get("Retry-After"))
	}
	if after := e.sim.Calls().Count("", "", acctA); after != before {
		t.Errorf("the open circuit still called AWS: %d calls", after-before)
	}
	if resp := e.do("GET", "/studio", e.token("bob")); resp.StatusCode != http.StatusFound {
		t.Errorf("account B during A's outage: %s", resp.Status)
	}
	ready := e.do("GET", "/readyz", "")
	rb := decode(t, ready)
	if ready.StatusCode != http.StatusOK || rb["status"] != "degraded" {
		t.Errorf("/readyz during the outage: %s %v", ready.Status, rb)
	}
}
