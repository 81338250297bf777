package loadtest

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/sagegate/sagegate/internal/sandbox"
	"github.com/sagegate/sagegate/internal/sandbox/awssim"
)

// startSandbox runs `sagegate dev`'s handler on a free loopback port, with
// wrap (if any) in front of it to play a broken gateway.
func startSandbox(t *testing.T, pop sandbox.Population, wrap func(http.Handler) http.Handler) *sandbox.Dev {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + ln.Addr().String()
	dev, err := sandbox.New(context.Background(), base, ln.Addr().String(), sandbox.Options{Population: pop, AuditWriter: io.Discard})
	if err != nil {
		t.Fatal(err)
	}
	h := dev.Handler
	if wrap != nil {
		h = wrap(h)
	}
	srv := &http.Server{Handler: h}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return dev
}

func smallRun(dev *sandbox.Dev, pop sandbox.Population) Config {
	return Config{
		Target: dev.URL, Population: pop, Requests: 400, Duration: time.Minute,
		Concurrency: 4, Warmup: true, AWS: SimView{Sim: dev.Sim},
	}
}

func TestRunAgainstTheSandboxPasses(t *testing.T) {
	pop := sandbox.Population{Users: 12, LOBs: 3}
	dev := startSandbox(t, pop, nil)
	rep, err := Run(context.Background(), smallRun(dev, pop))
	if err != nil {
		t.Fatal(err)
	}
	var text bytes.Buffer
	rep.WriteText(&text)
	if !rep.OK || rep.Violations != 0 || rep.Wrong != 0 {
		t.Fatalf("a correct gateway failed the load test:\n%s", text.String())
	}
	// Bounded in count: exactly the requests asked for, each answered.
	if rep.Requests != 400 {
		t.Errorf("ran %d requests, want 400", rep.Requests)
	}
	answered := 0
	for _, n := range rep.Statuses {
		answered += n
	}
	if answered != 400 {
		t.Errorf("statuses add up to %d: %v", answered, rep.Statuses)
	}
	for _, c := range classes {
		if rep.Classes[c] == nil || rep.Classes[c].Requests == 0 {
			t.Errorf("class %s never ran: %v", c, rep.Classes)
		}
	}
	// 16 LOB memberships: user-lob-a, user-lob-b, user-both (two), user-none
	// (none) and the 12 generated people; the warm-up assumed each once.
	// Warm credentials: every granted launch cost exactly one presign and
	// nothing else; a refused one (rate limit) cost nothing.
	if rep.Launches.Granted == 0 || rep.AWS.Total != rep.Launches.Granted || rep.AWS.Calls["CreatePresignedDomainUrl"] != rep.Launches.Granted {
		t.Errorf("AWS calls %+v for %d granted launches", rep.AWS, rep.Launches.Granted)
	}
	v := rep.Verification
	if v.CallsUnseen != 0 || v.PresignChecked < rep.Launches.Granted || v.AssumeRoleChecked != 16 {
		t.Errorf("verification %+v", v)
	}
	if rep.Warmup == nil || rep.Warmup.Requests != 16 {
		t.Errorf("warm-up %+v: one launch per LOB per person (15 people with 16 LOB memberships)", rep.Warmup)
	}
	if !strings.Contains(text.String(), "sagegate load test: PASS") {
		t.Errorf("text report:\n%s", text.String())
	}
	var back Report
	if b, err := json.Marshal(rep); err != nil || json.Unmarshal(b, &back) != nil || back.Requests != 400 {
		t.Errorf("JSON report does not round-trip: %v", err)
	}
}

// rewriteLocation plays a gateway that sends people into the wrong domain.
type rewriteLocation struct {
	http.ResponseWriter
	from, to string
}

func (w *rewriteLocation) WriteHeader(code int) {
	if loc := w.Header().Get("Location"); strings.Contains(loc, w.from) {
		w.Header().Set("Location", strings.Replace(loc, w.from, w.to, 1))
	}
	w.ResponseWriter.WriteHeader(code)
}

func TestRunCatchesALaunchIntoTheWrongDomain(t *testing.T) {
	pop := sandbox.Population{Users: 6}
	routes, err := sandbox.Routes(pop)
	if err != nil {
		t.Fatal(err)
	}
	domainA, domainB := routes["user-lob-a"][0].DomainID, routes["user-lob-b"][0].DomainID
	dev := startSandbox(t, pop, func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			h.ServeHTTP(&rewriteLocation{ResponseWriter: w, from: domainB, to: domainA}, r)
		})
	})
	cfg := smallRun(dev, pop)
	cfg.Warmup = false
	rep, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if rep.OK || rep.Violations == 0 || !strings.Contains(strings.Join(rep.ViolationExamples, "\n"), "not their domain "+domainB) {
		t.Fatalf("a grant into the wrong domain went unnoticed: %d violations %v", rep.Violations, rep.ViolationExamples)
	}
	// The examples name people and domains, never a URL.
	for _, e := range rep.ViolationExamples {
		if strings.Contains(e, "token=") {
			t.Errorf("example holds a presigned URL: %s", e)
		}
	}
}

func TestRunCatchesAGrantToSomeoneElse(t *testing.T) {
	pop := sandbox.Population{Users: 4}
	// This gateway lets anyone open anyone's Studio by name.
	dev := startSandbox(t, pop, func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if strings.HasPrefix(r.URL.Path, "/studio/") {
				http.Redirect(w, r, "http://127.0.0.1/dev/studio/d-a1b2c3d4e5f6/auth?token=stolen", http.StatusFound)
				return
			}
			h.ServeHTTP(w, r)
		})
	})
	cfg := smallRun(dev, pop)
	cfg.Mix = Mix{ClassLaunch: 1, ClassCross: 1}
	rep, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if rep.OK || rep.Classes[ClassCross].Outcomes["violation"] != rep.Classes[ClassCross].Requests {
		t.Fatalf("cross-user grants went unnoticed: %+v", rep.Classes[ClassCross])
	}
	if !strings.Contains(rep.ViolationExamples[0], "where 403 was due") {
		t.Errorf("examples: %v", rep.ViolationExamples)
	}
}

// blindView hides the call log, as if it overflowed between two reads.
type blindView struct{ SimView }

func (blindView) CallLog(context.Context) ([]awssim.CallRecord, error) { return nil, nil }

func TestUnseenCallsFailTheRun(t *testing.T) {
	pop := sandbox.Population{Users: 2}
	dev := startSandbox(t, pop, nil)
	cfg := smallRun(dev, pop)
	cfg.Requests = 50
	cfg.AWS = blindView{SimView{Sim: dev.Sim}}
	rep, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if rep.OK || rep.Verification.CallsUnseen == 0 {
		t.Errorf("unchecked AWS calls must fail the run: %+v", rep.Verification)
	}
}

func TestRunStopsAtTheDeadline(t *testing.T) {
	pop := sandbox.Population{}
	dev := startSandbox(t, pop, nil)
	cfg := smallRun(dev, pop)
	cfg.Requests = 1 << 40
	cfg.Duration = 200 * time.Millisecond
	cfg.Warmup = false
	rep, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Requests == 0 || rep.Requests >= 1<<40 {
		t.Errorf("requests = %d", rep.Requests)
	}
}

func TestPopulationMismatchStopsTheRun(t *testing.T) {
	dev := startSandbox(t, sandbox.Population{Users: 3}, nil)
	// The target has user-0001..0003 over 2 LOBs, the test expects 3 LOBs.
	_, err := Run(context.Background(), smallRun(dev, sandbox.Population{Users: 3, LOBs: 3}))
	if err == nil || !strings.Contains(err.Error(), "--demo-users 3 --demo-lobs 3") {
		t.Errorf("err = %v", err)
	}
	// And more users than it has.
	_, err = Run(context.Background(), smallRun(dev, sandbox.Population{Users: 5}))
	if err == nil || !strings.Contains(err.Error(), "--demo-users 5") {
		t.Errorf("err = %v", err)
	}
}

func TestCallChecker(t *testing.T) {
	routes, err := sandbox.Routes(sandbox.Population{Users: 2})
	if err != nil {
		t.Fatal(err)
	}
	m := newModel(routes)
	a, b := routes["user-0001"][0], routes["user-0002"][0] // lob-a, lob-b
	presign := func(seq int, who, account, domain, profile, errCode string) awssim.CallRecord {
		return awssim.CallRecord{Seq: seq, Service: "sagemaker", Operation: "CreatePresignedDomainUrl", SourceIdentity: who,
			Account: account, DomainID: domain, UserProfile: profile, Error: errCode}
	}
	c := newCallChecker(m)
	c.baseline([]awssim.CallRecord{{Seq: 10}})
	c.absorb([]awssim.CallRecord{
		{Seq: 9, Operation: "AssumeRole", SourceIdentity: "nobody"}, // before the baseline: not ours
		{Seq: 11, Operation: "AssumeRole", SourceIdentity: "user-0001", Account: a.AccountID},
		presign(12, "user-0001", a.AccountID, a.DomainID, "user-0001", ""),
		presign(13, "user-0001", a.AccountID, "", "", "ThrottlingException"), // refused before it ran
		{Seq: 14, Operation: "AssumeRole", Account: b.AccountID, Error: "Throttling"},
		{Seq: 15, Service: "sts", Operation: "GetCallerIdentity"},
	})
	if c.nViolation != 0 || c.presigns != 2 || c.assumes != 1 || c.unattrib != 1 || c.seen != 5 {
		t.Fatalf("good calls: %d violations %v, %+v", c.nViolation, c.violations, c)
	}
	c.absorb([]awssim.CallRecord{
		presign(16, "user-0001", b.AccountID, b.DomainID, "user-0001", ""),                    // lob-b's account: not theirs
		presign(17, "user-0001", a.AccountID, a.DomainID, "user-0002", ""),                    // someone else's profile
		presign(18, "mallory", a.AccountID, a.DomainID, "mallory", ""),                        // nobody we know
		presign(19, "", a.AccountID, a.DomainID, "user-0001", ""),                             // no identity at all
		{Seq: 20, Operation: "AssumeRole", SourceIdentity: "user-0002", Account: a.AccountID}, // user-0002 is lob-b
	})
	if c.nViolation != 5 {
		t.Errorf("%d violations, want 5: %v", c.nViolation, c.violations)
	}
	// Re-reading the same log changes nothing.
	before := c.seen
	c.absorb([]awssim.CallRecord{presign(20, "x", "", "", "", "")})
	if c.seen != before {
		t.Error("a record was checked twice")
	}
}

func TestJudge(t *testing.T) {
	u := &user{name: "user-0001"}
	launch := &request{class: ClassLaunch, user: u, path: "/launch/lob-a", expect: expectation{status: 302, domain: "d-right"}}
	invalid := &request{class: ClassInvalid, user: u, path: "/studio", expect: expectation{status: 401}}
	hdr := func(kv ...string) http.Header {
		h := http.Header{}
		for i := 0; i+1 < len(kv); i += 2 {
			h.Set(kv[i], kv[i+1])
		}
		return h
	}
	cases := []struct {
		req    *request
		status int
		h      http.Header
		want   Outcome
	}{
		{launch, 302, hdr("Location", "http://h/dev/studio/d-right/auth?token=x"), OK},
		{launch, 302, hdr("Location", "https://d-right.studio.us-east-1.sagemaker.aws/auth?token=x"), OK},
		{launch, 302, hdr("Location", "http://h/dev/studio/d-wrong/auth?token=x"), Violation},
		{launch, 302, hdr("Location", "http://h/login"), Wrong},
		{launch, 429, hdr("Retry-After", "1"), Limited},
		{launch, 429, hdr(), Wrong},
		{launch, 503, hdr("Retry-After", "2"), Shed},
		{launch, 504, hdr("Retry-After", "2"), Shed},
		{launch, 503, hdr(), Wrong},
		{launch, 502, hdr("Retry-After", "2"), Wrong},
		{launch, 500, hdr(), Wrong},
		{invalid, 401, hdr(), OK},
		{invalid, 200, hdr(), Wrong},
		{invalid, 302, hdr("Location", "http://h/dev/studio/d-right/auth?token=x"), Violation},
	}
	for i, tc := range cases {
		if got, detail := judge(tc.req, tc.status, tc.h); got != tc.want {
			t.Errorf("case %d (%s %d %v): %s (%s), want %s", i, tc.req.class, tc.status, tc.h, got, detail, tc.want)
		}
	}
}

func TestParseMix(t *testing.T) {
	m, err := ParseMix("launch=3,invalid=1")
	if err != nil || m[ClassLaunch] != 3 || m[ClassInvalid] != 1 || m.String() != "launch=3,invalid=1" {
		t.Errorf("ParseMix = %v, %v", m, err)
	}
	for _, bad := range []string{"", "launch", "launch=-1", "teleport=1", "launch=0"} {
		if _, err := ParseMix(bad); err == nil {
			t.Errorf("ParseMix(%q) accepted", bad)
		}
	}
	if got := DefaultMix().String(); got != "launch=70,studio=10,invalid=10,cross=5,foreign=5" {
		t.Errorf("DefaultMix = %s", got)
	}
}

func TestReadProcStatus(t *testing.T) {
	m, err := ProcMemory(os.Getpid())
	if err != nil {
		t.Skip("no /proc here:", err)
	}
	if m.VmHWMBytes <= 0 {
		t.Errorf("VmHWM = %d", m.VmHWMBytes)
	}
	if self, err := SelfMemory(); err != nil || self.GoTotalBytes == 0 || self.VmHWMBytes < self.VmRSSBytes {
		t.Errorf("SelfMemory = %+v, %v", self, err)
	}
}
