package session

import (
	"cmp"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/sagegate/sagegate/internal/identity"
)

// Which token from the token response goes to the Verifier.
const (
	VerifyIDToken     = "id_token"
	VerifyAccessToken = "access_token"
)

// Paths of the routes this package owns.
const (
	LoginPath    = "/auth/login"
	CallbackPath = "/auth/callback"
	LogoutPath   = "/auth/logout"
)

// LoginConfig describes the OIDC client sagegate is at the provider.
type LoginConfig struct {
	// Issuer is the provider's issuer URL; endpoints are discovered from
	// <Issuer>/.well-known/openid-configuration unless all of AuthURL and
	// TokenURL are given.
	Issuer       string
	ClientID     string
	ClientSecret string // optional: public clients rely on PKCE alone
	// Scopes default to openid, email, profile.
	Scopes []string
	// RedirectURL defaults to <PublicURL>/auth/callback and must be
	// registered with the provider.
	RedirectURL string
	// Explicit endpoints win over discovery, for providers whose discovery
	// document is missing or wrong (Cognito has no end_session_endpoint; its
	// logout is https://<domain>/logout?logout_uri=...).
	AuthURL, TokenURL, LogoutURL string
	// PostLogoutRedirectURL is where the provider sends the browser after
	// logout (it must be registered there), and where local logout goes.
	PostLogoutRedirectURL string
	// VerifyToken is "id_token" (default) or "access_token": which returned
	// token is passed to the Verifier. Cognito deployments that authorize on
	// access-token groups use "access_token".
	VerifyToken string
}

// Options configure a Manager.
type Options struct {
	Codec    *Codec
	Login    LoginConfig
	Verifier identity.Verifier
	// PublicURL is how browsers reach sagegate, e.g. https://studio.example.com.
	PublicURL   string
	IdleTTL     time.Duration // default 1h
	AbsoluteTTL time.Duration // default 12h
	// HTTPClient talks to the provider; default has a 10s timeout.
	HTTPClient *http.Client
	Now        func() time.Time
	Logger     *slog.Logger
	// Render writes an error from the /auth/* handlers; errors are
	// *problem.Error. The default writes plain text so the package works
	// alone, but the server should pass its own page renderer.
	Render func(w http.ResponseWriter, r *http.Request, err error)
}

// Manager runs browser login and reads sessions.
type Manager struct {
	codec       *Codec
	cookies     cookiePolicy
	login       LoginConfig
	verifier    identity.Verifier
	idleTTL     time.Duration
	absoluteTTL time.Duration
	client      *http.Client
	now         func() time.Time
	log         *slog.Logger
	render      func(w http.ResponseWriter, r *http.Request, err error)
	endpoints   *endpointCache
}

// New validates opts and builds a Manager. It does not contact the
// provider: discovery happens on the first login, so sagegate starts even
// while the provider is unreachable.
func New(opts Options) (*Manager, error) {
	var errs []error
	if opts.Codec == nil {
		errs = append(errs, errors.New("session: a cookie codec is required"))
	}
	if opts.Verifier == nil {
		errs = append(errs, errors.New("session: a token verifier is required"))
	}
	cookies, err := newCookiePolicy(opts.PublicURL)
	if err != nil {
		errs = append(errs, err)
	}
	login, err := normalizeLogin(opts.Login, opts.PublicURL)
	if err != nil {
		errs = append(errs, err)
	}
	if opts.IdleTTL < 0 || opts.AbsoluteTTL < 0 {
		errs = append(errs, errors.New("session: lifetimes must not be negative"))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	m := &Manager{
		codec:       opts.Codec,
		cookies:     cookies,
		login:       login,
		verifier:    opts.Verifier,
		idleTTL:     cmp.Or(opts.IdleTTL, DefaultIdleTTL),
		absoluteTTL: cmp.Or(opts.AbsoluteTTL, DefaultAbsoluteTTL),
		client:      opts.HTTPClient,
		now:         opts.Now,
		log:         opts.Logger,
		render:      opts.Render,
	}
	if m.idleTTL > m.absoluteTTL {
		return nil, fmt.Errorf("session: idle lifetime %s is longer than absolute lifetime %s", m.idleTTL, m.absoluteTTL)
	}
	if m.client == nil {
		m.client = &http.Client{Timeout: 10 * time.Second}
	}
	if m.now == nil {
		m.now = time.Now
	}
	if m.log == nil {
		m.log = slog.New(slog.DiscardHandler)
	}
	if m.render == nil {
		m.render = renderPlain
	}
	m.endpoints = newEndpointCache(login, m.client)
	return m, nil
}

// normalizeLogin applies defaults and checks everything at once.
func normalizeLogin(c LoginConfig, publicURL string) (LoginConfig, error) {
	var errs []error
	if c.ClientID == "" {
		errs = append(errs, errors.New("session: login client id is required"))
	}
	if c.Issuer == "" && (c.AuthURL == "" || c.TokenURL == "") {
		errs = append(errs, errors.New("session: login needs an issuer (for discovery) or both an authorize URL and a token URL"))
	}
	for name, v := range map[string]string{"issuer": c.Issuer, "authorize URL": c.AuthURL, "token URL": c.TokenURL, "logout URL": c.LogoutURL, "post-logout redirect URL": c.PostLogoutRedirectURL, "redirect URL": c.RedirectURL} {
		if v == "" {
			continue
		}
		if u, err := url.Parse(v); err != nil || !u.IsAbs() || u.Host == "" {
			errs = append(errs, fmt.Errorf("session: login %s %q must be an absolute URL", name, v))
		}
	}
	if len(c.Scopes) == 0 {
		c.Scopes = []string{"openid", "email", "profile"}
	}
	switch c.VerifyToken {
	case "":
		c.VerifyToken = VerifyIDToken
	case VerifyIDToken, VerifyAccessToken:
	default:
		errs = append(errs, fmt.Errorf("session: login verify token %q must be %q or %q", c.VerifyToken, VerifyIDToken, VerifyAccessToken))
	}
	if c.VerifyToken == VerifyIDToken && !slices.Contains(c.Scopes, "openid") {
		errs = append(errs, errors.New(`session: login scopes must include "openid" to receive the id_token being verified`))
	}
	if c.RedirectURL == "" && publicURL != "" {
		c.RedirectURL = strings.TrimSuffix(publicURL, "/") + CallbackPath
	}
	return c, errors.Join(errs...)
}

// Routes registers the login, callback and logout handlers.
func (m *Manager) Routes(mux *http.ServeMux) {
	mux.HandleFunc("GET "+LoginPath, m.handleLogin)
	mux.HandleFunc("GET "+CallbackPath, m.handleCallback)
	mux.HandleFunc("GET "+LogoutPath, m.handleLogoutPage)
	mux.HandleFunc("POST "+LogoutPath, m.handleLogout)
}

// LoginURL is where to send a browser without a session; after login it
// comes back to returnTo (a local path; anything else becomes "/").
func (m *Manager) LoginURL(returnTo string) string {
	return LoginPath + "?rd=" + url.QueryEscape(safeReturnTo(returnTo))
}
