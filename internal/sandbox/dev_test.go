package sandbox

import (
	"context"
	"html"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/sagegate/sagegate/internal/testutil"
)

// startDev runs the sandbox exactly as `sagegate dev` does, on a free port.
func startDev(t *testing.T) (*Dev, *testutil.SyncBuffer) {
	t.Helper()
	return startDevWith(t, Options{})
}

func startDevWith(t *testing.T, opts Options) (*Dev, *testutil.SyncBuffer) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var audit testutil.SyncBuffer
	opts.AuditWriter = &audit
	dev, err := New(context.Background(), "http://"+ln.Addr().String(), ln.Addr().String(), opts)
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: dev.Handler}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return dev, &audit
}

var (
	formAction  = regexp.MustCompile(`<form method="post" action="([^"]+)"`)
	hiddenInput = regexp.MustCompile(`<input type="hidden" name="([^"]+)" value="([^"]*)">`)
)

// browser is an HTTP client with cookies that records where it landed.
func browser(t *testing.T) *http.Client {
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &http.Client{Jar: jar}
}

func get(t *testing.T, c *http.Client, u string) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequest("GET", u, nil)
	return asBrowser(t, c, req)
}

// asBrowser sends req asking for HTML, as a browser does, and reads the page.
func asBrowser(t *testing.T, c *http.Client, req *http.Request) (*http.Response, string) {
	t.Helper()
	req.Header.Set("Accept", "text/html,application/xhtml+xml")
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

// signIn follows /studio to the dev issuer's form and submits it.
func signIn(t *testing.T, c *http.Client, dev *Dev, user, start string) (*http.Response, string) {
	t.Helper()
	resp, page := get(t, c, dev.URL+start)
	m := formAction.FindStringSubmatch(page)
	if resp.StatusCode != http.StatusOK || m == nil {
		t.Fatalf("expected the login form at %s, got %s:\n%s", resp.Request.URL, resp.Status, page)
	}
	form := url.Values{"username": {user}, "password": {"demo"}}
	for _, h := range hiddenInput.FindAllStringSubmatch(page, -1) {
		form.Set(h[1], html.UnescapeString(h[2]))
	}
	action, _ := resp.Request.URL.Parse(html.UnescapeString(m[1]))
	req, _ := http.NewRequest("POST", action.String(), strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return asBrowser(t, c, req)
}

func TestBrowserSignInLandsInOwnStudioOnce(t *testing.T) {
	dev, audit := startDev(t)
	c := browser(t)
	resp, page := signIn(t, c, dev, "user-lob-a", "/studio")
	if resp.StatusCode != http.StatusOK || !strings.Contains(page, "d-a1b2c3d4e5f6") || !strings.Contains(page, "user-lob-a") {
		t.Fatalf("after sign-in landed on %s (%s):\n%s", resp.Request.URL, resp.Status, page)
	}
	if !strings.HasPrefix(resp.Request.URL.Path, "/dev/studio/d-a1b2c3d4e5f6/") {
		t.Errorf("landed on %s, want the simulated Studio of lob-a", resp.Request.URL)
	}
	// The presigned URL the browser followed works once: find it in the
	// redirect chain and replay it.
	var presigned string
	for r := resp; r != nil; r = r.Request.Response {
		if strings.HasSuffix(r.Request.URL.Path, "/auth") && r.Request.URL.Query().Get("token") != "" {
			presigned = r.Request.URL.String()
		}
	}
	if presigned == "" {
		t.Fatal("no presigned URL in the redirect chain")
	}
	again, _ := get(t, http.DefaultClient, presigned)
	if again.StatusCode != http.StatusForbidden {
		t.Errorf("second use of the presigned URL: %s, want 403", again.Status)
	}
	if strings.Contains(audit.String(), presigned) {
		t.Error("the audit trail holds the presigned URL")
	}

	// The session cookie now launches without signing in again, and the
	// other LOB's deep link is refused.
	resp, _ = get(t, c, dev.URL+"/launch/lob-a")
	if !strings.HasPrefix(resp.Request.URL.Path, "/dev/studio/d-a1b2c3d4e5f6/") {
		t.Errorf("session launch landed on %s", resp.Request.URL)
	}
	resp, page = get(t, c, dev.URL+"/launch/lob-b")
	if resp.StatusCode != http.StatusNotFound || !strings.Contains(page, "target_not_found") {
		t.Errorf("lob-b deep link for user-lob-a: %s\n%s", resp.Status, page)
	}
}

func TestBrowserUserWithTwoLOBsChooses(t *testing.T) {
	dev, _ := startDev(t)
	resp, page := signIn(t, browser(t), dev, "user-both", "/studio")
	if resp.StatusCode != http.StatusOK || !strings.Contains(page, `href="/launch/lob-a"`) || !strings.Contains(page, `href="/launch/lob-b"`) {
		t.Fatalf("want the choice page, got %s at %s:\n%s", resp.Status, resp.Request.URL, page)
	}
}

func TestDevTokenAndAPI(t *testing.T) {
	dev, _ := startDev(t)
	if r := launch(t, dev, "user-lob-a", "/studio"); r.StatusCode != http.StatusFound || !strings.Contains(r.Header.Get("Location"), "/dev/studio/d-a1b2c3d4e5f6/auth?token=") {
		t.Errorf("user-lob-a: %s %q", r.Status, r.Header.Get("Location"))
	}
	if r := launch(t, dev, "user-lob-b", "/studio/user-lob-a"); r.StatusCode != http.StatusForbidden {
		t.Errorf("user-lob-b on user-lob-a: %s", r.Status)
	}
	if r := launch(t, dev, "user-none", "/studio"); r.StatusCode != http.StatusNotFound {
		t.Errorf("user-none: %s", r.Status)
	}
	if r := launch(t, dev, "user-both", "/studio"); r.StatusCode != http.StatusConflict {
		t.Errorf("user-both: %s", r.Status)
	}
	calls := dev.Sim.Calls()
	if calls.Count("sts", "AssumeRole", "111111111111") != 1 || calls.Count("sagemaker", "CreatePresignedDomainUrl", "") != 1 || calls.Total != 2 {
		t.Errorf("AWS calls = %+v, want one AssumeRole and one presign", calls)
	}
}
