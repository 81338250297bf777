// Package opencmd is `sagegate open [TARGET]`: sign in through the
// browser (or reuse a cached token), ask the gateway for a fresh presigned
// URL and open it in the browser, or print it.
package opencmd

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/sagegate/sagegate/internal/broker"
	"github.com/sagegate/sagegate/internal/cli/oidclogin"
	"github.com/sagegate/sagegate/internal/routing"
)

// DefaultServer is where `sagegate dev` listens.
const DefaultServer = "http://127.0.0.1:8080"

// Options are one run of `sagegate open`.
type Options struct {
	// Server is sagegate's base URL.
	Server string
	// Target is the id to open; empty opens the only one there is.
	Target string
	// Print writes the URL to Stdout instead of opening a browser.
	Print bool
	// Fresh signs in again even when a cached token is still valid.
	Fresh bool
	// Login overrides what the gateway's /api/v1/login-config says: a
	// non-empty field wins. CallbackPort is only ever set here.
	Login oidclogin.Config
	// LoginTimeout bounds how long the person may take to sign in.
	LoginTimeout time.Duration
	// CacheDir holds cached tokens; empty means no cache.
	CacheDir    string
	HTTPClient  *http.Client
	OpenBrowser func(ctx context.Context, url string) error
	Stdout      io.Writer
	Stderr      io.Writer
	Now         func() time.Time
	Logger      *slog.Logger
	// Sleep waits between two looks at a starting notebook; tests
	// replace it. Default: a timer that ctx cuts short.
	Sleep func(ctx context.Context, d time.Duration) error
}

// runner carries one run's state: the token in use and where it came
// from, so a refused cached token leads to exactly one fresh sign-in.
type runner struct {
	o      Options
	api    *api
	cache  *oidclogin.Cache
	key    string
	token  string
	cached bool
}

// Run opens (or prints) the launch of o.Target.
func Run(ctx context.Context, o Options) error {
	o = withDefaults(o)
	base, err := url.Parse(strings.TrimSuffix(o.Server, "/"))
	if err != nil || (base.Scheme != "http" && base.Scheme != "https") || base.Host == "" || base.RawQuery != "" || base.Fragment != "" {
		return fmt.Errorf("--server %q must be an http(s) URL such as %s", o.Server, DefaultServer)
	}
	r := &runner{o: o, api: &api{base: base, client: o.HTTPClient}}
	if o.CacheDir != "" {
		r.cache = &oidclogin.Cache{Dir: o.CacheDir, Now: o.Now}
		// The flags are part of the key, so a token from one provider
		// or client is never offered where another is configured.
		r.key = oidclogin.CacheKey(base.String(), o.Login.Issuer, o.Login.ClientID)
	}

	target, err := r.chooseTarget(ctx)
	if err != nil {
		return err
	}
	res, err := r.launch(ctx, target.ID)
	if ns := (*notebookStarting)(nil); errors.As(err, &ns) {
		res, err = r.waitNotebook(ctx, target, ns)
	}
	if ae := (*APIError)(nil); errors.As(err, &ae) && ae.Code == "target_not_found" {
		return r.notFound(ctx, target.ID, err)
	}
	if err != nil {
		return err
	}
	name := cmp.Or(target.Label, target.ID)
	if o.Print {
		fmt.Fprintln(o.Stdout, res.URL)
		fmt.Fprintf(o.Stderr, "That URL opens %s once, until %s; it is a secret: do not share it.\n", name, localTime(res.ExpiresAt))
		return nil
	}
	fmt.Fprintf(o.Stderr, "Opening %s in your browser.\n", name)
	if err := o.OpenBrowser(ctx, res.URL); err != nil {
		return fmt.Errorf("could not open a browser (%w); run again with --print to get the URL", err)
	}
	return nil
}

// chooseTarget returns the named target, or the only one there is.
func (r *runner) chooseTarget(ctx context.Context) (routing.Target, error) {
	if r.o.Target != "" {
		return routing.Target{ID: r.o.Target}, nil
	}
	l, err := r.list(ctx)
	if err != nil {
		return routing.Target{}, err
	}
	switch len(l.Targets) {
	case 0:
		return routing.Target{}, fmt.Errorf("sagegate has nothing for %s to open; ask your platform team to add you to a line of business", l.User)
	case 1:
		return l.Targets[0], nil
	}
	// Without a name, one Studio is "your Studio" even beside notebooks.
	if studios := onlyStudios(l.Targets); len(studios) == 1 {
		return studios[0], nil
	}
	return routing.Target{}, fmt.Errorf("you can open several things; name one:\n%s", table(l.Targets))
}

// notFound explains a target the person does not have, with the list of
// those they do.
func (r *runner) notFound(ctx context.Context, id string, cause error) error {
	l, err := r.list(ctx)
	if err != nil || len(l.Targets) == 0 {
		return cause
	}
	return fmt.Errorf("you have no target %q; yours are:\n%s", id, table(l.Targets))
}

func (r *runner) list(ctx context.Context) (targetList, error) {
	var l targetList
	err := r.authed(ctx, func(tok string) (err error) {
		l, err = r.api.targets(ctx, tok)
		return err
	})
	return l, err
}

func (r *runner) launch(ctx context.Context, id string) (launchResult, error) {
	var res launchResult
	err := r.authed(ctx, func(tok string) (err error) {
		res, err = r.api.launch(ctx, tok, id)
		return err
	})
	return res, err
}

func table(ts []routing.Target) string {
	var b strings.Builder
	w := tabwriter.NewWriter(&b, 0, 0, 3, ' ', 0)
	for _, t := range ts {
		fmt.Fprintf(w, "  sagegate open %s\t%s\t%s, account %s\n", t.ID, cmp.Or(t.Label, t.ID), t.LOB, t.AccountID)
	}
	_ = w.Flush()
	return strings.TrimRight(b.String(), "\n")
}

// authed calls call with a token. If the gateway refuses a cached token
// (revoked, or the provider's keys changed), the cache entry goes and the
// person signs in once more.
func (r *runner) authed(ctx context.Context, call func(token string) error) error {
	if err := r.ensureToken(ctx); err != nil {
		return err
	}
	err := call(r.token)
	var ae *APIError
	if !r.cached || !errors.As(err, &ae) || ae.Status != http.StatusUnauthorized {
		return err
	}
	r.o.Logger.Debug("cached token refused; signing in again", "code", ae.Code)
	_ = r.cache.Delete(r.key)
	r.token = ""
	if err := r.ensureToken(ctx); err != nil {
		return err
	}
	return call(r.token)
}

func (r *runner) ensureToken(ctx context.Context) error {
	if r.token != "" {
		return nil
	}
	if r.cache != nil && !r.o.Fresh {
		if t, ok := r.cache.Load(r.key); ok {
			r.token, r.cached = t.Raw, true
			return nil
		}
	}
	cfg, err := r.loginConfig(ctx)
	if err != nil {
		return err
	}
	lctx, cancel := context.WithTimeoutCause(ctx, r.o.LoginTimeout, errors.New("no sign-in within "+r.o.LoginTimeout.String()))
	defer cancel()
	t, err := oidclogin.Login(lctx, cfg, oidclogin.Options{
		HTTPClient: r.o.HTTPClient, OpenBrowser: r.o.OpenBrowser, Notify: r.o.Stderr, Now: r.o.Now, Logger: r.o.Logger,
	})
	if err != nil {
		return fmt.Errorf("sign-in: %w", err)
	}
	r.token, r.cached = t.Raw, false
	if r.cache != nil {
		if err := r.cache.Store(r.key, t); err != nil {
			r.o.Logger.Warn("could not cache the token; the next run signs in again", "err", err)
		}
	}
	return nil
}

// loginConfig merges the flags over what the gateway publishes. The
// gateway is asked only when the flags leave something open.
func (r *runner) loginConfig(ctx context.Context) (oidclogin.Config, error) {
	cfg := r.o.Login
	complete := cfg.ClientID != "" && (cfg.Issuer != "" || (cfg.AuthURL != "" && cfg.TokenURL != ""))
	if complete && cfg.Token != "" {
		return cfg, nil
	}
	pub, err := r.api.loginConfig(ctx)
	if err != nil {
		if complete {
			return cfg, nil
		}
		return cfg, fmt.Errorf("cannot learn how to sign in from %s (%w); pass --issuer and --client-id", r.api.base.Redacted(), err)
	}
	cfg.Issuer = cmp.Or(cfg.Issuer, pub.Issuer)
	cfg.ClientID = cmp.Or(cfg.ClientID, pub.ClientID)
	cfg.Token = cmp.Or(cfg.Token, pub.Token)
	cfg.AuthURL = cmp.Or(cfg.AuthURL, pub.AuthURL)
	cfg.TokenURL = cmp.Or(cfg.TokenURL, pub.TokenURL)
	if len(cfg.Scopes) == 0 {
		cfg.Scopes = pub.Scopes
	}
	if cfg.ClientID == "" {
		return cfg, errors.New("this sagegate signs browsers in with a confidential client, which a terminal cannot use; " +
			"ask your platform team for the public client id registered for http://127.0.0.1/callback and pass it with --client-id")
	}
	return cfg, nil
}

func localTime(rfc3339 string) string {
	t, err := time.Parse(time.RFC3339, rfc3339)
	if err != nil {
		return "a few seconds from now"
	}
	return t.Local().Format("15:04:05")
}

func withDefaults(o Options) Options {
	o.Server = cmp.Or(o.Server, DefaultServer)
	if o.LoginTimeout <= 0 {
		o.LoginTimeout = 5 * time.Minute
	}
	if o.HTTPClient == nil {
		o.HTTPClient = &http.Client{Timeout: 30 * time.Second}
	}
	if o.OpenBrowser == nil {
		o.OpenBrowser = oidclogin.OpenBrowser
	}
	if o.Stdout == nil {
		o.Stdout = io.Discard
	}
	if o.Stderr == nil {
		o.Stderr = io.Discard
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Sleep == nil {
		o.Sleep = broker.Sleep
	}
	return o
}
