package awssim_test

import (
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sagemaker"

	"github.com/sagegate/sagegate/internal/sandbox/awssim"
	"github.com/sagegate/sagegate/internal/testutil"
)

// presign mints a presigned URL for alice in domain A as the gateway would.
func (e *env) presign(t *testing.T, in sagemaker.CreatePresignedDomainUrlInput) string {
	t.Helper()
	if in.DomainId == nil {
		in.DomainId = aws.String(domainA)
	}
	if in.UserProfileName == nil {
		in.UserProfileName = aws.String("alice")
	}
	creds := e.assume(t, roleA, extA, "sagegate-alice", "alice@example.com")
	out, err := e.sagemaker("us-east-1", creds).CreatePresignedDomainUrl(context.Background(), &in)
	if err != nil {
		t.Fatalf("CreatePresignedDomainUrl: %v", err)
	}
	return *out.AuthorizedUrl
}

// browser is an HTTP client with a cookie jar that does not follow
// redirects, so each hop can be checked.
func (e *env) browser(t *testing.T) *http.Client {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	c := *e.srv.Client()
	c.Jar = jar
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &c
}

type page struct {
	status int
	header http.Header
	body   string
}

// send sends req with c and returns the answer with its body read.
func send(t *testing.T, c *http.Client, req *http.Request) page {
	t.Helper()
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return page{resp.StatusCode, resp.Header, string(b)}
}

// get fetches a simulated page, which must never be cached.
func get(t *testing.T, c *http.Client, url string) page {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	p := send(t, c, req)
	if cc := p.header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("GET %s: Cache-Control = %q, want no-store", req.URL.Path, cc)
	}
	return p
}

func TestStudioURLOpensOnce(t *testing.T) {
	e := newEnv(t)
	link := e.presign(t, sagemaker.CreatePresignedDomainUrlInput{
		SpaceName:                          aws.String("team-space"),
		LandingUri:                         aws.String("app:JupyterLab:/lab/tree/work"),
		SessionExpirationDurationInSeconds: aws.Int32(1800),
	})
	b := e.browser(t)

	first := get(t, b, link)
	if first.status != http.StatusSeeOther {
		t.Fatalf("first open: status %d: %s", first.status, first.body)
	}
	loc := first.header.Get("Location")
	if want := "/dev/studio/" + domainA + "/jupyterlab/default/lab/tree/work"; loc != want {
		t.Errorf("Location = %q, want %q", loc, want)
	}
	setCookie := first.header.Get("Set-Cookie")
	for _, attr := range []string{"Path=/dev/studio/" + domainA, "HttpOnly", "SameSite=Lax"} {
		wantContains(t, setCookie, attr)
	}

	app := get(t, b, e.srv.URL+loc)
	if app.status != http.StatusOK {
		t.Fatalf("app page: status %d: %s", app.status, app.body)
	}
	signedIn := e.clock.Now().UTC()
	for _, want := range []string{
		"SageMaker Studio (simulated)",
		`<dd id="account">111111111111</dd>`,
		`<dd id="region">us-east-1</dd>`,
		`<dd id="domain">` + domainA + `</dd>`,
		`<dd id="profile">alice</dd>`,
		`<dd id="space">team-space</dd>`,
		`<dd id="source-identity">alice@example.com</dd>`,
		`<dd id="session-name">sagegate-alice</dd>`,
		`<dd id="session-expires">` + signedIn.Add(1800*time.Second).Format(time.RFC3339) + `</dd>`,
	} {
		wantContains(t, app.body, want)
	}

	again := get(t, e.browser(t), link)
	if again.status != http.StatusForbidden {
		t.Fatalf("second open: status %d", again.status)
	}
	wantContains(t, again.body, "already used")

	// The session lasts SessionExpirationDurationInSeconds, then ends.
	e.clock.Advance(1799 * time.Second)
	if p := get(t, b, e.srv.URL+loc); p.status != http.StatusOK {
		t.Fatalf("session one second before expiry: status %d", p.status)
	}
	e.clock.Advance(time.Second)
	expired := get(t, b, e.srv.URL+loc)
	if expired.status != http.StatusForbidden {
		t.Fatalf("expired session: status %d", expired.status)
	}
	wantContains(t, expired.body, "session expired")
}

func TestStudioURLExpires(t *testing.T) {
	e := newEnv(t)
	early := e.presign(t, sagemaker.CreatePresignedDomainUrlInput{ExpiresInSeconds: aws.Int32(5)})
	late := e.presign(t, sagemaker.CreatePresignedDomainUrlInput{ExpiresInSeconds: aws.Int32(5)})

	e.clock.Advance(4 * time.Second)
	p := get(t, e.browser(t), early)
	if p.status != http.StatusSeeOther || p.header.Get("Location") != "/dev/studio/"+domainA+"/lab" {
		t.Fatalf("open within ExpiresInSeconds: status %d, Location %q", p.status, p.header.Get("Location"))
	}
	e.clock.Advance(time.Second)
	p = get(t, e.browser(t), late)
	if p.status != http.StatusForbidden {
		t.Fatalf("open at expiry: status %d", p.status)
	}
	wantContains(t, p.body, "expired")
}

func TestStudioRefusesStrangers(t *testing.T) {
	e := newEnv(t)
	link := e.presign(t, sagemaker.CreatePresignedDomainUrlInput{})
	cases := []struct {
		name, url, detail string
		status            int
	}{
		{"unknown token", e.studioBase + "/" + domainA + "/auth?token=bogus", "not valid", 403},
		{"no token", e.studioBase + "/" + domainA + "/auth", "not valid", 403},
		{"token for another domain", strings.Replace(link, domainA, domainB, 1), "not valid", 403},
		{"app without session", e.studioBase + "/" + domainA + "/lab", "not signed in", 403},
		{"not a domain", e.studioBase + "/nope/lab", "no Studio domain", 404},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := get(t, e.browser(t), tc.url)
			if p.status != tc.status {
				t.Fatalf("status %d, want %d", p.status, tc.status)
			}
			wantContains(t, p.body, tc.detail)
		})
	}
	// The token refused above for the wrong domain still works once for
	// its own.
	if p := get(t, e.browser(t), link); p.status != http.StatusSeeOther {
		t.Fatalf("genuine link after refusals: status %d", p.status)
	}
}

func TestStudioSessionIsBoundToItsDomain(t *testing.T) {
	e := newEnv(t)
	b := e.browser(t)
	first := get(t, b, e.presign(t, sagemaker.CreatePresignedDomainUrlInput{}))
	var session string
	for _, c := range first.header.Values("Set-Cookie") {
		session = strings.SplitN(c, ";", 2)[0]
	}
	// Replay domain A's cookie, renamed, against another domain.
	req, _ := http.NewRequest(http.MethodGet, e.studioBase+"/"+domainSSO+"/lab", nil)
	req.Header.Set("Cookie", strings.Replace(session, domainA, domainSSO, 1))
	resp, err := e.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("session of %s used for %s: status %d, want 403", domainA, domainSSO, resp.StatusCode)
	}
}

func TestStudioUnderStripPrefix(t *testing.T) {
	clk := testutil.NewClock(time.Now())
	srv := httptest.NewUnstartedServer(nil)
	sim := awssim.New(awssim.Options{Now: clk.Now, StudioBaseURL: "http://" + srv.Listener.Addr().String() + "/studio/"})
	mux := http.NewServeMux()
	mux.Handle("/studio/", http.StripPrefix("/studio", sim.StudioHandler()))
	mux.Handle("/aws", sim.APIHandler())
	srv.Config.Handler = mux
	srv.Start()
	defer srv.Close()
	sim.AddCaller(awssim.Caller{AccessKeyID: gatewayKey, SecretAccessKey: gatewaySecret, AccountID: acctA})
	sim.AddAccount(awssim.Account{ID: acctA, Domains: []awssim.Domain{{ID: domainA, UserProfiles: []string{"alice"}}}})

	cfg := aws.Config{Region: "us-east-1", Credentials: gatewayCreds(), HTTPClient: srv.Client()}
	out, err := sagemaker.NewFromConfig(cfg, func(o *sagemaker.Options) { o.BaseEndpoint = aws.String(srv.URL + "/aws") }).
		CreatePresignedDomainUrl(context.Background(), &sagemaker.CreatePresignedDomainUrlInput{
			DomainId: aws.String(domainA), UserProfileName: aws.String("alice"), LandingUri: aws.String("studio::/../../etc"),
		})
	if err != nil {
		t.Fatal(err)
	}
	e := &env{srv: srv}
	b := e.browser(t)
	p := get(t, b, *out.AuthorizedUrl)
	// ".." in the landing path cannot climb out of the domain.
	if loc := p.header.Get("Location"); p.status != http.StatusSeeOther || loc != "/studio/"+domainA+"/studio/etc" {
		t.Fatalf("status %d, Location %q", p.status, loc)
	}
	if p := get(t, b, srv.URL+p.header.Get("Location")); p.status != http.StatusOK {
		t.Fatalf("app page: status %d: %s", p.status, p.body)
	}
}

// TestStudioTokenSpentOnceUnderConcurrency opens one link from many
// browsers at once: exactly one gets in.
func TestStudioTokenSpentOnceUnderConcurrency(t *testing.T) {
	e := newEnv(t)
	link := e.presign(t, sagemaker.CreatePresignedDomainUrlInput{})
	const n = 16
	statuses := make(chan int, n)
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			resp, err := e.browser(t).Get(link)
			if err != nil {
				t.Error(err)
				return
			}
			resp.Body.Close()
			statuses <- resp.StatusCode
		})
	}
	wg.Wait()
	close(statuses)
	counts := map[int]int{}
	for s := range statuses {
		counts[s]++
	}
	if counts[http.StatusSeeOther] != 1 || counts[http.StatusForbidden] != n-1 {
		t.Errorf("statuses = %v, want one 303 and %d 403", counts, n-1)
	}
}

func TestStudioHeadDoesNotSpendToken(t *testing.T) {
	e := newEnv(t)
	link := e.presign(t, sagemaker.CreatePresignedDomainUrlInput{})
	resp, err := e.browser(t).Head(link)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("HEAD: status %d, want 405", resp.StatusCode)
	}
	if p := get(t, e.browser(t), link); p.status != http.StatusSeeOther {
		t.Errorf("GET after HEAD: status %d, want 303", p.status)
	}
}
