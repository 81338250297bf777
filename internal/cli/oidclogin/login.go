package oidclogin

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"time"

	"golang.org/x/oauth2"

	"github.com/sagegate/sagegate/internal/identity"
)

// Which token of the token response Login returns.
const (
	IDToken     = "id_token"
	AccessToken = "access_token"
)

// CallbackPath is the path of the loopback redirect URI,
// http://127.0.0.1:<port>/callback; providers must allow it (with any port
// for RFC 8252 loopback matching, or with the fixed CallbackPort).
const CallbackPath = "/callback"

// Config is the provider and the client this program is at it.
type Config struct {
	Issuer   string
	ClientID string
	// Scopes default to openid, email, profile.
	Scopes []string
	// AuthURL and TokenURL skip discovery when both are set.
	AuthURL, TokenURL string
	// Token is IDToken (default) or AccessToken.
	Token string
	// CallbackPort fixes the loopback port, for providers that match
	// redirect URIs exactly; 0 picks a free one.
	CallbackPort int
}

// Options are Login's dependencies.
type Options struct {
	// HTTPClient talks to the provider; default has a 30 s timeout.
	HTTPClient *http.Client
	// OpenBrowser shows a URL to the person; default OpenBrowser. Tests
	// drive the provider's login page here.
	OpenBrowser func(ctx context.Context, url string) error
	// Notify receives the sign-in URL in case no browser opens.
	Notify io.Writer
	Now    func() time.Time
	Logger *slog.Logger
}

// Token is a signed-in person's token and when it stops being valid.
type Token struct {
	Raw    string    `json:"token"`
	Expiry time.Time `json:"expiry"`
}

// callback is what the loopback listener heard.
type callback struct {
	code string
	err  error
}

// Login runs the authorization-code flow with PKCE through the browser and
// returns the configured token. It returns when the provider redirects
// back, or when ctx ends (the caller bounds how long a person may take).
func Login(ctx context.Context, cfg Config, opts Options) (Token, error) {
	opts = withDefaults(opts)
	if cfg.ClientID == "" {
		return Token{}, errors.New("no client id: the provider needs a public client registered for http://127.0.0.1" + CallbackPath)
	}
	if cfg.Token == "" {
		cfg.Token = IDToken
	}
	if cfg.Token != IDToken && cfg.Token != AccessToken {
		return Token{}, fmt.Errorf("token %q must be %q or %q", cfg.Token, IDToken, AccessToken)
	}
	if len(cfg.Scopes) == 0 {
		cfg.Scopes = []string{"openid", "email", "profile"}
	}
	ep, err := endpoints(ctx, opts.HTTPClient, cfg)
	if err != nil {
		return Token{}, err
	}

	// Only 127.0.0.1: RFC 8252 section 8.3 prefers the IP literal to
	// "localhost", which a hostile resolver could point elsewhere.
	ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(cfg.CallbackPort)))
	if err != nil {
		return Token{}, fmt.Errorf("listening for the sign-in redirect: %w", err)
	}
	defer ln.Close()
	conf := &oauth2.Config{
		ClientID:    cfg.ClientID,
		Endpoint:    oauth2.Endpoint{AuthURL: ep.auth, TokenURL: ep.token, AuthStyle: oauth2.AuthStyleInParams},
		RedirectURL: "http://" + ln.Addr().String() + CallbackPath,
		Scopes:      cfg.Scopes,
	}
	state, nonce, verifier := rand.Text(), rand.Text(), oauth2.GenerateVerifier()
	authURL := conf.AuthCodeURL(state, oauth2.S256ChallengeOption(verifier), oauth2.SetAuthURLParam("nonce", nonce))

	got := make(chan callback, 1)
	srv := &http.Server{Handler: callbackHandler(state, got), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	defer func() {
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}()

	fmt.Fprintf(opts.Notify, "Signing in through your browser. If it does not open, visit:\n\n  %s\n\n", authURL)
	if err := opts.OpenBrowser(ctx, authURL); err != nil {
		opts.Logger.Debug("could not open a browser", "err", err)
	}
	var cb callback
	select {
	case cb = <-got:
	case <-ctx.Done():
		return Token{}, fmt.Errorf("waiting for the browser sign-in: %w", context.Cause(ctx))
	}
	if cb.err != nil {
		return Token{}, cb.err
	}
	tok, err := conf.Exchange(context.WithValue(ctx, oauth2.HTTPClient, opts.HTTPClient), cb.code, oauth2.VerifierOption(verifier))
	if err != nil {
		var re *oauth2.RetrieveError
		if errors.As(err, &re) {
			return Token{}, fmt.Errorf("the provider refused the sign-in code: %s", re.ErrorCode)
		}
		return Token{}, fmt.Errorf("redeeming the sign-in code: %w", err)
	}
	return pickToken(tok, cfg.Token, nonce, opts.Now())
}

// pickToken returns the token the gateway verifies, with its expiry.
func pickToken(tok *oauth2.Token, which, nonce string, now time.Time) (Token, error) {
	idToken, _ := tok.Extra("id_token").(string)
	// The nonce ties an id token to this sign-in. The token came straight
	// from the token endpoint, so this is defence in depth; the gateway
	// verifies the signature on every request.
	if idToken != "" {
		if c, err := readClaims(idToken); err != nil || c.Nonce != nonce {
			return Token{}, errors.New("the provider's id_token does not belong to this sign-in (nonce mismatch)")
		}
	}
	raw := tok.AccessToken
	if which == IDToken {
		raw = idToken
	}
	if raw == "" {
		return Token{}, fmt.Errorf("the provider returned no %s", which)
	}
	expiry := tok.Expiry
	if c, err := readClaims(raw); err == nil && c.Exp > 0 {
		expiry = time.Unix(c.Exp, 0)
	}
	if expiry.IsZero() {
		// Unknown lifetime: usable now, never cached.
		expiry = now
	}
	return Token{Raw: raw, Expiry: expiry}, nil
}

// callbackHandler accepts the first redirect carrying our state and
// answers the browser with a page saying where to look next.
func callbackHandler(state string, got chan<- callback) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+CallbackPath, func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		w.Header().Set("Cache-Control", "no-store")
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'")
		if subtle.ConstantTimeCompare([]byte(q.Get("state")), []byte(state)) != 1 {
			// Not our sign-in (a stale tab, another program): ignore it
			// and keep waiting for the real one.
			w.WriteHeader(http.StatusBadRequest)
			_, _ = io.WriteString(w, page("This sign-in is not the one sagegate is waiting for", "Start again from the terminal."))
			return
		}
		cb := callback{code: q.Get("code")}
		if e := q.Get("error"); e != "" {
			cb.err = fmt.Errorf("the provider refused the sign-in: %s", identity.ErrorCode(e))
		} else if cb.code == "" {
			cb.err = errors.New("the provider sent no authorization code")
		}
		select {
		case got <- cb:
		default:
			w.WriteHeader(http.StatusConflict)
			_, _ = io.WriteString(w, page("Already signed in", "You can close this tab."))
			return
		}
		if cb.err != nil {
			w.WriteHeader(http.StatusBadRequest)
			_, _ = io.WriteString(w, page("Sign-in failed", "Go back to the terminal to see why."))
			return
		}
		_, _ = io.WriteString(w, page("You are signed in to sagegate", "You can close this tab and go back to the terminal."))
	})
	return mux
}

func page(title, msg string) string {
	// Both strings are constants of this file, never request data.
	return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>` + title +
		`</title></head><body style="font-family:system-ui,sans-serif;max-width:32rem;margin:3rem auto;padding:0 1rem"><main><h1>` +
		title + `</h1><p>` + msg + `</p></main></body></html>`
}

func withDefaults(o Options) Options {
	if o.HTTPClient == nil {
		o.HTTPClient = &http.Client{Timeout: 30 * time.Second}
	}
	if o.OpenBrowser == nil {
		o.OpenBrowser = OpenBrowser
	}
	if o.Notify == nil {
		o.Notify = io.Discard
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return o
}
