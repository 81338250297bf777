package awssim_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sagemaker"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"

	"github.com/sagegate/sagegate/internal/sandbox/awssim"
)

// outcomes makes n GetCallerIdentity calls one after another and returns
// each call's error code ("" for success).
func (e *env) outcomes(t *testing.T, n int) []string {
	t.Helper()
	client := e.sts(gatewayCreds())
	out := make([]string, n)
	for i := range out {
		_, err := client.GetCallerIdentity(context.Background(), &sts.GetCallerIdentityInput{})
		if err != nil {
			var ae smithy.APIError
			if !errors.As(err, &ae) {
				t.Fatalf("call %d: not an API error: %v", i, err)
			}
			out[i] = ae.ErrorCode()
		}
	}
	return out
}

func tally(codes []string) map[string]int {
	m := map[string]int{}
	for _, c := range codes {
		m[c]++
	}
	return m
}

func TestChaosRatesAreSeededAndStatisticallyRight(t *testing.T) {
	e := newEnv(t)
	const n = 2000
	chaos := awssim.Chaos{ThrottleRate: 0.3, ErrorRate: 0.1, Seed: 42}
	if err := e.sim.SetChaos(chaos); err != nil {
		t.Fatal(err)
	}
	first := e.outcomes(t, n)
	got := tally(first)
	// Binomial standard deviations are ~10 (throttle) and ~7 (each error
	// kind) calls; the bounds are several of them wide.
	if got["Throttling"] < 540 || got["Throttling"] > 660 {
		t.Errorf("throttled %d of %d, want about 600 (%v)", got["Throttling"], n, got)
	}
	if got["InternalFailure"] < 60 || got["InternalFailure"] > 140 || got["ServiceUnavailable"] < 60 || got["ServiceUnavailable"] > 140 {
		t.Errorf("server errors %v, want about 100 of each kind", got)
	}
	if got[""]+got["Throttling"]+got["InternalFailure"]+got["ServiceUnavailable"] != n {
		t.Errorf("unexpected codes: %v", got)
	}

	// The same seed replays the same sequence, call for call.
	if err := e.sim.SetChaos(chaos); err != nil {
		t.Fatal(err)
	}
	again := e.outcomes(t, n)
	for i := range first {
		if first[i] != again[i] {
			t.Fatalf("call %d: %q then %q with the same seed", i, first[i], again[i])
		}
	}
	// Every call was counted, faulted or not, with its code in the log.
	if c := e.sim.Calls().Count("sts", "GetCallerIdentity", ""); c != 2*n {
		t.Errorf("counted %d calls, want %d", c, 2*n)
	}
	log := e.sim.CallLog()
	if last := log[len(log)-1]; last.Error != again[n-1] {
		t.Errorf("last logged error %q, want %q", last.Error, again[n-1])
	}
}

func TestChaosUsesEachServicesThrottlingError(t *testing.T) {
	e := newEnv(t)
	creds := e.assume(t, roleA, extA, "alice", "alice")
	if err := e.sim.SetChaos(awssim.Chaos{ThrottleRate: 1}); err != nil {
		t.Fatal(err)
	}
	_, err := e.sts(gatewayCreds()).AssumeRole(context.Background(), &sts.AssumeRoleInput{
		RoleArn: aws.String(roleA), RoleSessionName: aws.String("alice"), ExternalId: aws.String(extA),
	})
	wantContains(t, wantAPIError(t, err, "Throttling", http.StatusBadRequest), "Rate exceeded")
	_, err = e.sagemaker("us-east-1", creds).CreatePresignedDomainUrl(context.Background(), &sagemaker.CreatePresignedDomainUrlInput{
		DomainId: aws.String(domainA), UserProfileName: aws.String("alice"),
	})
	wantContains(t, wantAPIError(t, err, "ThrottlingException", http.StatusBadRequest), "Rate exceeded")

	// A targeted fault comes first; ClearFaults ends both.
	e.sim.InjectFault(awssim.Fault{Service: "sts", Code: "AccessDenied", Status: http.StatusForbidden, Times: 1})
	_, err = e.sts(gatewayCreds()).GetCallerIdentity(context.Background(), nil)
	wantAPIError(t, err, "AccessDenied", http.StatusForbidden)
	e.sim.ClearFaults()
	if _, err := e.sts(gatewayCreds()).GetCallerIdentity(context.Background(), nil); err != nil {
		t.Errorf("after ClearFaults: %v", err)
	}
	if c := e.sim.Chaos(); c.ThrottleRate != 0 {
		t.Errorf("ClearFaults left %+v", c)
	}
}

func TestChaosOutageOfOneAccount(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	credsA := e.assume(t, roleA, extA, "alice", "alice")
	credsB := e.assume(t, roleB, "", "carol", "carol")
	presignA := func() error {
		_, err := e.sagemaker("us-east-1", credsA).CreatePresignedDomainUrl(ctx, &sagemaker.CreatePresignedDomainUrlInput{
			DomainId: aws.String(domainA), UserProfileName: aws.String("alice"),
		})
		return err
	}
	presignB := func() error {
		_, err := e.sagemaker("eu-west-1", credsB).CreatePresignedDomainUrl(ctx, &sagemaker.CreatePresignedDomainUrlInput{
			DomainId: aws.String(domainB), UserProfileName: aws.String("carol"),
		})
		return err
	}

	if err := e.sim.SetChaos(awssim.Chaos{OutageAccounts: []string{acctA}}); err != nil {
		t.Fatal(err)
	}
	wantAPIError(t, presignA(), "ServiceUnavailable", http.StatusServiceUnavailable)
	_, err := e.sts(gatewayCreds()).AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(roleA), RoleSessionName: aws.String("alice"), ExternalId: aws.String(extA)})
	wantAPIError(t, err, "ServiceUnavailable", http.StatusServiceUnavailable)
	if err := presignB(); err != nil {
		t.Errorf("account B is not in the outage: %v", err)
	}

	// A reset outage answers nothing at all: the SDK sees a broken
	// connection, not an API error.
	if err := e.sim.SetChaos(awssim.Chaos{OutageAccounts: []string{acctA}, OutageMode: awssim.OutageReset}); err != nil {
		t.Fatal(err)
	}
	err = presignA()
	var ae smithy.APIError
	if err == nil || errors.As(err, &ae) {
		t.Fatalf("reset outage: want a connection error, got %v", err)
	}
	log := e.sim.CallLog()
	if last := log[len(log)-1]; last.Account != acctA || last.Error != "ConnectionReset" {
		t.Errorf("reset call logged as %+v", last)
	}
	if err := presignB(); err != nil {
		t.Errorf("account B during A's reset outage: %v", err)
	}

	if err := e.sim.SetChaos(awssim.Chaos{}); err != nil {
		t.Fatal(err)
	}
	if err := presignA(); err != nil {
		t.Errorf("after the outage: %v", err)
	}
}

func TestSetChaosRefusesNonsense(t *testing.T) {
	e := newEnv(t)
	good := awssim.Chaos{ThrottleRate: 0.3}
	if err := e.sim.SetChaos(good); err != nil {
		t.Fatal(err)
	}
	err := e.sim.SetChaos(awssim.Chaos{
		ThrottleRate: 0.8, ErrorRate: 0.3, OutageAccounts: []string{"2222"}, OutageMode: "flaky",
		Latency: []awssim.Latency{{Base: -time.Second}},
	})
	for _, want := range []string{"must not exceed 1", "12 digits", "outage mode", "must not be negative"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v does not mention %q", err, want)
		}
	}
	if c := e.sim.Chaos(); c.ThrottleRate != 0.3 {
		t.Errorf("a refused Chaos replaced the previous one: %+v", c)
	}
}

func TestParseLatency(t *testing.T) {
	cases := []struct {
		in   string
		want awssim.Latency
		bad  bool
	}{
		{in: "20ms", want: awssim.Latency{Base: 20 * time.Millisecond}},
		{in: "20ms~5ms", want: awssim.Latency{Base: 20 * time.Millisecond, Jitter: 5 * time.Millisecond}},
		{in: "*=1s", want: awssim.Latency{Base: time.Second}},
		{in: "sts=50ms", want: awssim.Latency{Service: "sts", Base: 50 * time.Millisecond}},
		{in: "sagemaker:CreatePresignedDomainUrl=30ms~10ms", want: awssim.Latency{Service: "sagemaker", Operation: "CreatePresignedDomainUrl", Base: 30 * time.Millisecond, Jitter: 10 * time.Millisecond}},
		{in: "", bad: true},
		{in: "fast", bad: true},
		{in: "sts=", bad: true},
		{in: "-5ms", bad: true},
		{in: "5ms~-1ms", bad: true},
		{in: "STS=5ms", bad: true},
	}
	for _, tc := range cases {
		got, err := awssim.ParseLatency(tc.in)
		if (err != nil) != tc.bad || got != tc.want {
			t.Errorf("ParseLatency(%q) = %+v, %v; want %+v (error: %v)", tc.in, got, err, tc.want, tc.bad)
		}
		if err == nil {
			if back, _ := awssim.ParseLatency(got.String()); back != got {
				t.Errorf("%q: String %q does not read back", tc.in, got.String())
			}
		}
	}
}

func TestChaosString(t *testing.T) {
	for _, tc := range []struct {
		in   awssim.Chaos
		want string
	}{
		{awssim.Chaos{Seed: 7}, "none"},
		{awssim.Chaos{
			Latency:      []awssim.Latency{{Base: 20 * time.Millisecond, Jitter: 5 * time.Millisecond}, {Service: "sts", Operation: "AssumeRole", Base: time.Second}},
			ThrottleRate: 0.3, ErrorRate: 0.01, OutageAccounts: []string{acctA, acctB}, Seed: 1,
		}, "latency *=20ms~5ms, latency sts:AssumeRole=1s, throttle rate 0.3, error rate 0.01, outage of 111111111111,222222222222 (unavailable) (seed 1)"},
		{awssim.Chaos{OutageAccounts: []string{acctB}, OutageMode: awssim.OutageReset}, "outage of 222222222222 (reset) (seed 0)"},
	} {
		if got := tc.in.String(); got != tc.want {
			t.Errorf("String() = %q, want %q", got, tc.want)
		}
	}
}

func TestFaultsHandler(t *testing.T) {
	e := newEnv(t)
	mux := http.NewServeMux()
	mux.Handle("/faults", e.sim.FaultsHandler())
	do := func(method, body string) (int, string) {
		req, _ := http.NewRequest(method, "/faults", strings.NewReader(body))
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, req)
		return rec.Code, rec.Body.String()
	}
	code, body := do(http.MethodPut, `{"throttleRate":0.3,"errorRate":0.01,"outageAccounts":["222222222222"],"latency":[{"service":"sts","base":"20ms","jitter":"5ms"}],"seed":7}`)
	if code != http.StatusOK {
		t.Fatalf("PUT: %d %s", code, body)
	}
	want := awssim.Chaos{ThrottleRate: 0.3, ErrorRate: 0.01, OutageAccounts: []string{acctB}, Seed: 7,
		Latency: []awssim.Latency{{Service: "sts", Base: 20 * time.Millisecond, Jitter: 5 * time.Millisecond}}}
	got := e.sim.Chaos()
	if got.ThrottleRate != want.ThrottleRate || got.ErrorRate != want.ErrorRate || got.Seed != 7 ||
		len(got.OutageAccounts) != 1 || got.OutageAccounts[0] != acctB || len(got.Latency) != 1 || got.Latency[0] != want.Latency[0] {
		t.Errorf("Chaos = %+v, want %+v", got, want)
	}
	code, body = do(http.MethodGet, "")
	var read awssim.Chaos
	if err := json.Unmarshal([]byte(body), &read); code != http.StatusOK || err != nil || read.Latency[0] != want.Latency[0] {
		t.Errorf("GET: %d %s (%v)", code, body, err)
	}
	if !strings.Contains(body, `"base":"20ms"`) {
		t.Errorf("durations should read as Go durations: %s", body)
	}
	for _, bad := range []string{`{"throttleRate":2}`, `{"nope":1}`, `{"latency":[{"base":"soon"}]}`, `[`} {
		if code, body := do(http.MethodPut, bad); code != http.StatusBadRequest {
			t.Errorf("PUT %s: %d %s, want 400", bad, code, body)
		}
	}
	if code, _ := do(http.MethodPost, "{}"); code != http.StatusMethodNotAllowed {
		t.Errorf("POST: %d", code)
	}
	if code, _ := do(http.MethodPut, "{}"); code != http.StatusOK || e.sim.Chaos().ThrottleRate != 0 {
		t.Errorf("PUT {} should clear: %d %+v", code, e.sim.Chaos())
	}
}
