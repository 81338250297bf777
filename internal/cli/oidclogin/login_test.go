package oidclogin

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/sagegate/sagegate/internal/cli/clitest"
	"github.com/sagegate/sagegate/internal/identity"
	"github.com/sagegate/sagegate/internal/sandbox/devidp"
)

// issuer runs the sandbox's OIDC issuer with one public client that
// allows loopback redirects on any port, as RFC 8252 asks of providers.
func issuer(t *testing.T) string {
	t.Helper()
	srv := httptest.NewUnstartedServer(nil)
	base := "http://" + srv.Listener.Addr().String() + "/oidc"
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	idp, err := devidp.New(devidp.Options{
		Issuer: base, Audience: "sagegate", Key: key,
		Users:   []devidp.User{{Username: "alice", Email: "alice@example.test"}},
		Clients: []devidp.Client{{ID: "cli", Public: true, RedirectURIs: []string{"http://127.0.0.1" + CallbackPath}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	srv.Config.Handler = idp.Handler()
	srv.Start()
	t.Cleanup(srv.Close)
	return base
}

func claimsOf(t *testing.T, jwt string) map[string]any {
	t.Helper()
	var m map[string]any
	if err := identity.UnverifiedPayload(jwt, &m); err != nil {
		t.Fatalf("%q: %v", jwt, err)
	}
	return m
}

func TestLoginThroughTheBrowser(t *testing.T) {
	iss := issuer(t)
	for _, which := range []string{IDToken, AccessToken} {
		t.Run(which, func(t *testing.T) {
			alice := &clitest.Person{User: "alice"}
			var notice strings.Builder
			tok, err := Login(context.Background(), Config{Issuer: iss, ClientID: "cli", Token: which},
				Options{OpenBrowser: alice.Open, Notify: &notice})
			if err != nil {
				t.Fatal(err)
			}
			c := claimsOf(t, tok.Raw)
			if c["preferred_username"] != "alice" && c["sub"] == nil {
				t.Errorf("claims %v", c)
			}
			if which == AccessToken && c["aud"] != "sagegate" {
				t.Errorf("access token aud = %v", c["aud"])
			}
			if which == IDToken && c["aud"] != "cli" {
				t.Errorf("id token aud = %v", c["aud"])
			}
			if exp := int64(c["exp"].(float64)); tok.Expiry.Unix() != exp {
				t.Errorf("expiry %v, exp claim %d", tok.Expiry, exp)
			}
			if alice.SignIns() != 1 || !strings.Contains(notice.String(), iss+"/authorize?") {
				t.Errorf("sign-ins %d, notice %q", alice.SignIns(), notice.String())
			}
		})
	}
}

// A redirect that is not ours (stale tab, another program) is ignored;
// the real one still completes the sign-in.
func TestLoginIgnoresForeignCallbacks(t *testing.T) {
	iss := issuer(t)
	alice := &clitest.Person{User: "alice"}
	open := func(ctx context.Context, u string) error {
		auth, _ := url.Parse(u)
		cb := auth.Query().Get("redirect_uri") + "?code=stolen&state=not-ours"
		resp, _, err := clitest.Fetch(ctx, http.DefaultClient, http.MethodGet, cb, nil)
		if err != nil || resp.StatusCode != http.StatusBadRequest {
			return errors.New("foreign callback was not refused")
		}
		return alice.Open(ctx, u)
	}
	if _, err := Login(context.Background(), Config{Issuer: iss, ClientID: "cli"}, Options{OpenBrowser: open}); err != nil {
		t.Fatal(err)
	}
}

func TestLoginFailures(t *testing.T) {
	iss := issuer(t)
	// callbackWith answers the sign-in with the given query (plus state).
	callbackWith := func(q string) func(context.Context, string) error {
		return func(ctx context.Context, u string) error {
			auth, _ := url.Parse(u)
			cb := auth.Query().Get("redirect_uri") + "?" + q + "&state=" + url.QueryEscape(auth.Query().Get("state"))
			_, _, err := clitest.Fetch(ctx, http.DefaultClient, http.MethodGet, cb, nil)
			return err
		}
	}
	cases := []struct {
		name string
		cfg  Config
		open func(context.Context, string) error
		want string
	}{
		{"provider refuses", Config{Issuer: iss, ClientID: "cli"}, callbackWith("error=access_denied&error_description=evil+text"), "refused the sign-in: access_denied"},
		{"odd error code", Config{Issuer: iss, ClientID: "cli"}, callbackWith("error=%3Cb%3Ex"), "unknown error"},
		{"no code", Config{Issuer: iss, ClientID: "cli"}, callbackWith("x=1"), "no authorization code"},
		{"bad code", Config{Issuer: iss, ClientID: "cli"}, callbackWith("code=forged"), "refused the sign-in code: invalid_grant"},
		{"no client id", Config{Issuer: iss}, nil, "no client id"},
		{"bad token kind", Config{Issuer: iss, ClientID: "cli", Token: "refresh_token"}, nil, `"refresh_token" must be`},
		{"wrong issuer", Config{Issuer: iss + "/", ClientID: "cli"}, nil, "expected"},
		{"no issuer", Config{ClientID: "cli"}, nil, "no issuer"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var openErr error
			open := func(ctx context.Context, u string) error {
				if tc.open == nil {
					return errors.New("the browser must not open")
				}
				openErr = tc.open(ctx, u)
				return openErr
			}
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			_, err := Login(ctx, tc.cfg, Options{OpenBrowser: open})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
			if strings.Contains(err.Error(), "evil") {
				t.Errorf("provider text reached the message: %v", err)
			}
		})
	}
}

// An issuer that never redirects back (it showed the person an error)
// leaves Login waiting until the caller gives up.
func TestLoginEndsWithItsContext(t *testing.T) {
	iss := issuer(t)
	ctx, cancel := context.WithCancelCause(context.Background())
	gaveUp := errors.New("the person gave up")
	var openErr error
	open := func(ctx context.Context, u string) error {
		openErr = (&clitest.Person{User: "alice"}).Open(ctx, u)
		cancel(gaveUp)
		return openErr
	}
	_, err := Login(ctx, Config{Issuer: iss, ClientID: "unregistered"}, Options{OpenBrowser: open})
	if openErr == nil || !strings.Contains(openErr.Error(), "no login form") || !errors.Is(err, gaveUp) {
		t.Fatalf("open: %v, login: %v", openErr, err)
	}
}

func TestPickToken(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	jwt := func(claims map[string]any) string {
		b, _ := json.Marshal(claims)
		return "e30." + base64.RawURLEncoding.EncodeToString(b) + ".sig"
	}
	tok := (&oauth2.Token{AccessToken: jwt(map[string]any{"exp": 1_700_000_600}), Expiry: now.Add(time.Hour)}).
		WithExtra(map[string]any{"id_token": jwt(map[string]any{"exp": 1_700_000_300, "nonce": "n1"})})

	got, err := pickToken(tok, IDToken, "n1", now)
	if err != nil || got.Expiry.Unix() != 1_700_000_300 {
		t.Fatalf("id token: %+v %v", got, err)
	}
	got, err = pickToken(tok, AccessToken, "n1", now)
	if err != nil || got.Expiry.Unix() != 1_700_000_600 {
		t.Fatalf("access token: %+v %v", got, err)
	}
	if _, err := pickToken(tok, AccessToken, "another sign-in", now); err == nil || !strings.Contains(err.Error(), "nonce") {
		t.Fatalf("nonce mismatch accepted: %v", err)
	}
	// An opaque access token without expires_in is usable but not cached.
	opaque := &oauth2.Token{AccessToken: "opaque"}
	if got, err := pickToken(opaque, AccessToken, "", now); err != nil || !got.Expiry.Equal(now) {
		t.Fatalf("opaque: %+v %v", got, err)
	}
	if _, err := pickToken(opaque, IDToken, "", now); err == nil {
		t.Fatal("missing id_token accepted")
	}
}
