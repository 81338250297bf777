package opencmd

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sagegate/sagegate/internal/cli/clitest"
	"github.com/sagegate/sagegate/internal/cli/oidclogin"
	"github.com/sagegate/sagegate/internal/sandbox"
	"github.com/sagegate/sagegate/internal/testutil"
)

// startDev runs `sagegate dev` in-process on a free port, with opts (the
// audit log discarded).
func startDev(t *testing.T, opts sandbox.Options) *sandbox.Dev {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	opts.AuditWriter = io.Discard
	dev, err := sandbox.New(context.Background(), "http://"+ln.Addr().String(), ln.Addr().String(), opts)
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: dev.Handler}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return dev
}

type run struct {
	stdout, stderr bytes.Buffer
	err            error
}

func openAs(t *testing.T, dev *sandbox.Dev, p *clitest.Person, cacheDir string, clock *testutil.Clock, mutate func(*Options)) *run {
	t.Helper()
	var r run
	o := Options{
		Server: dev.URL, CacheDir: cacheDir, OpenBrowser: p.Open,
		Stdout: &r.stdout, Stderr: &r.stderr, Now: clock.Now, LoginTimeout: 30 * time.Second,
	}
	if mutate != nil {
		mutate(&o)
	}
	r.err = Run(context.Background(), o)
	return &r
}

func TestOpenSignsInCachesAndLaunches(t *testing.T) {
	dev := startDev(t, sandbox.Options{})
	cache := filepath.Join(t.TempDir(), "sagegate")
	clock := testutil.NewClock(time.Now())
	alice := &clitest.Person{User: "user-lob-a"}

	// First run: browser sign-in, then the one target opens in the browser.
	r := openAs(t, dev, alice, cache, clock, nil)
	if r.err != nil {
		t.Fatalf("open: %v\n%s", r.err, r.stderr.String())
	}
	landed := alice.Landed()
	if alice.SignIns() != 1 || len(landed) != 1 || !strings.HasPrefix(landed[0].Request.URL.Path, "/dev/studio/d-a1b2c3d4e5f6/") || landed[0].StatusCode != http.StatusOK {
		t.Fatalf("sign-ins %d, landed %v; stderr:\n%s", alice.SignIns(), landed, r.stderr.String())
	}
	if !strings.Contains(r.stderr.String(), "/dev/oidc/authorize?") || !strings.Contains(r.stderr.String(), "Opening LOB A research (simulated)") {
		t.Errorf("stderr:\n%s", r.stderr.String())
	}
	files, _ := filepath.Glob(filepath.Join(cache, "token-*.json"))
	if len(files) != 1 {
		t.Fatalf("cache files: %v", files)
	}
	fi, _ := os.Stat(files[0])
	di, _ := os.Stat(cache)
	if fi.Mode().Perm() != 0o600 || di.Mode().Perm()&0o077 != 0 {
		t.Errorf("cache modes: file %v dir %v", fi.Mode(), di.Mode())
	}

	// Second run reuses the cached token: no sign-in; --print prints a
	// working presigned URL and opens nothing.
	r = openAs(t, dev, alice, cache, clock, func(o *Options) { o.Print, o.Target = true, "lob-a" })
	if r.err != nil || alice.SignIns() != 1 || len(alice.Landed()) != 1 {
		t.Fatalf("cached run: %v, sign-ins %d, landed %v", r.err, alice.SignIns(), alice.Landed())
	}
	printed := strings.TrimSpace(r.stdout.String())
	if !strings.HasPrefix(printed, dev.URL+"/dev/studio/d-a1b2c3d4e5f6/auth?token=") || strings.Count(r.stdout.String(), "\n") != 1 {
		t.Fatalf("--print wrote %q", r.stdout.String())
	}
	jar, _ := cookiejar.New(nil)
	resp, body, err := clitest.Fetch(context.Background(), &http.Client{Jar: jar}, "GET", printed, nil)
	if err != nil || resp.StatusCode != http.StatusOK || !strings.Contains(body, "user-lob-a") {
		t.Fatalf("printed URL: %v %v", err, resp)
	}

	// Once the token expires, the next run signs in again.
	clock.Advance(25 * time.Hour)
	if r = openAs(t, dev, alice, cache, clock, func(o *Options) { o.Print = true }); r.err != nil || alice.SignIns() != 2 {
		t.Fatalf("after expiry: %v, sign-ins %d", r.err, alice.SignIns())
	}
	// --fresh does too, without waiting for expiry.
	if r = openAs(t, dev, alice, cache, clock, func(o *Options) { o.Print, o.Fresh = true, true }); r.err != nil || alice.SignIns() != 3 {
		t.Fatalf("--fresh: %v, sign-ins %d", r.err, alice.SignIns())
	}
}

func TestOpenRefusedCachedTokenSignsInAgain(t *testing.T) {
	dev := startDev(t, sandbox.Options{})
	cache := t.TempDir()
	clock := testutil.NewClock(time.Now())
	// A token the gateway will refuse, cached under the right key.
	c := oidclogin.Cache{Dir: cache, Now: clock.Now}
	if err := c.Store(oidclogin.CacheKey(dev.URL, "", ""), oidclogin.Token{Raw: "not-a-jwt", Expiry: clock.Now().Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	alice := &clitest.Person{User: "user-lob-a"}
	r := openAs(t, dev, alice, cache, clock, func(o *Options) { o.Print = true })
	if r.err != nil || alice.SignIns() != 1 || !strings.Contains(r.stdout.String(), "/dev/studio/") {
		t.Fatalf("got %v, sign-ins %d, stdout %q", r.err, alice.SignIns(), r.stdout.String())
	}
}

func TestOpenChoosesAndRefuses(t *testing.T) {
	dev := startDev(t, sandbox.Options{})
	clock := testutil.NewClock(time.Now())

	both := openAs(t, dev, &clitest.Person{User: "user-both"}, "", clock, func(o *Options) { o.Print = true })
	if both.err == nil || !strings.Contains(both.err.Error(), "sagegate open lob-a") || !strings.Contains(both.err.Error(), "sagegate open lob-b") || both.stdout.Len() != 0 {
		t.Errorf("user-both without a target: %v %q", both.err, both.stdout.String())
	}

	// user-lob-b names user-lob-a's target: refused, with their own list;
	// no URL is printed.
	b := openAs(t, dev, &clitest.Person{User: "user-lob-b"}, "", clock, func(o *Options) { o.Print, o.Target = true, "lob-a" })
	if b.err == nil || !strings.Contains(b.err.Error(), `no target "lob-a"`) || !strings.Contains(b.err.Error(), "sagegate open lob-b") || b.stdout.Len() != 0 {
		t.Errorf("user-lob-b opening lob-a: %v %q", b.err, b.stdout.String())
	}
	if n := dev.Sim.Calls().Count("sagemaker", "CreatePresignedDomainUrl", ""); n != 0 {
		t.Errorf("%d presign calls for refused opens", n)
	}

	none := openAs(t, dev, &clitest.Person{User: "user-none"}, "", clock, nil)
	if none.err == nil || !strings.Contains(none.err.Error(), "nothing for user-none to open") {
		t.Errorf("user-none: %v", none.err)
	}
}

func TestOpenReportsUnreachableServerAndBadFlags(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := "http://" + ln.Addr().String()
	ln.Close()
	clock := testutil.NewClock(time.Now())
	for _, tc := range []struct {
		server, want string
	}{
		{dead, "pass --issuer and --client-id"},
		{"ftp://x", "must be an http(s) URL"},
		{"http://127.0.0.1:1/?q=1", "must be an http(s) URL"},
	} {
		o := Options{Server: tc.server, Now: clock.Now, OpenBrowser: func(context.Context, string) error { return errors.New("no browser in this test") }}
		if err := Run(context.Background(), o); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", tc.server, err, tc.want)
		}
	}
}
