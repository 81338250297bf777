package session

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"time"

	"golang.org/x/oauth2"

	"github.com/sagegate/sagegate/internal/identity"
	"github.com/sagegate/sagegate/internal/problem"
)

// loginTTL bounds how long a browser may sit at the provider's login page
// before the callback is refused.
const loginTTL = 10 * time.Minute

// maxPendingLogins bounds login cookies per browser. Each login attempt has
// its own cookie so two tabs logging in at once do not break each other;
// without a bound, a redirect loop would fill the browser's cookie jar.
const maxPendingLogins = 4

// loginIDLen is how much of the state names the login cookie: enough to
// tell a browser's concurrent logins apart. The full state is inside the
// sealed value and compared there.
const loginIDLen = 10

// exchangeTimeout bounds the code-for-token request.
const exchangeTimeout = 15 * time.Second

// pendingLogin is what the login cookie carries from /auth/login to
// /auth/callback.
type pendingLogin struct {
	State    string `json:"s"`
	Nonce    string `json:"n"`
	Verifier string `json:"v"`
	ReturnTo string `json:"r"`
	Expires  int64  `json:"e"`
}

// handleLogin starts an authorization-code flow with PKCE.
func (m *Manager) handleLogin(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	ep, err := m.endpoints.get(r.Context())
	if err != nil {
		m.log.ErrorContext(r.Context(), "login: provider discovery failed", "err", err)
		m.render(w, r, problem.Wrap(err, http.StatusServiceUnavailable, CodeIDPUnavailable, "The sign-in provider cannot be reached right now. Try again in a minute."))
		return
	}
	now := m.now()
	pl := pendingLogin{
		State:    rand.Text(),
		Nonce:    rand.Text(),
		Verifier: oauth2.GenerateVerifier(),
		ReturnTo: safeReturnTo(r.URL.Query().Get("rd")),
		Expires:  now.Add(loginTTL).Unix(),
	}
	name, _ := m.loginCookieName(pl.State)
	pt, err := json.Marshal(pl)
	if err != nil {
		m.render(w, r, problem.Wrap(err, http.StatusInternalServerError, "internal", "Sign-in could not be started."))
		return
	}
	value, err := m.codec.Seal(name, pt)
	if err != nil {
		m.render(w, r, problem.Wrap(err, http.StatusInternalServerError, "internal", "Sign-in could not be started."))
		return
	}
	if pending := m.pendingLoginNames(r); len(pending) >= maxPendingLogins {
		for _, n := range pending {
			http.SetCookie(w, m.cookies.cookie(n, "", time.Time{}, now))
		}
	}
	http.SetCookie(w, m.cookies.cookie(name, value, now.Add(loginTTL), now))
	authURL := m.oauthConfig(ep).AuthCodeURL(pl.State,
		oauth2.S256ChallengeOption(pl.Verifier),
		oauth2.SetAuthURLParam("nonce", pl.Nonce))
	http.Redirect(w, r, authURL, http.StatusFound)
}

// handleCallback finishes the flow: it checks state, exchanges the code,
// verifies the token and starts a session.
func (m *Manager) handleCallback(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	ctx := r.Context()
	q := r.URL.Query()
	var pl *pendingLogin
	if name, ok := m.loginCookieName(q.Get("state")); ok {
		pl = m.readPendingLogin(r, name)
		// The login cookie is single-use whatever happens next, which makes
		// a replayed callback fail here even before the provider refuses
		// the spent code.
		http.SetCookie(w, m.cookies.cookie(name, "", time.Time{}, m.now()))
	}
	if e := q.Get("error"); e != "" {
		// error_description is attacker-controlled text (anyone can link
		// here), so it is logged, not shown.
		m.log.WarnContext(ctx, "login: provider returned an error", "error", e, "description", truncate(q.Get("error_description"), 200))
		if e == "access_denied" {
			m.render(w, r, problem.New(http.StatusUnauthorized, CodeLoginDenied, "The sign-in provider did not let you sign in (access_denied)."))
			return
		}
		m.render(w, r, problem.New(http.StatusBadRequest, CodeLoginDenied, "The sign-in provider reported an error ("+identity.ErrorCode(e)+"). Start again, or ask an administrator if it keeps happening."))
		return
	}
	if pl == nil || subtle.ConstantTimeCompare([]byte(pl.State), []byte(q.Get("state"))) != 1 {
		m.log.WarnContext(ctx, "login: callback without a matching login in progress")
		m.render(w, r, problem.New(http.StatusBadRequest, CodeLoginState, "This sign-in has expired, was already used, or was started in another browser. Start again from the page you wanted to open."))
		return
	}
	code := q.Get("code")
	if code == "" {
		m.render(w, r, problem.New(http.StatusBadRequest, CodeLoginFailed, "The sign-in provider sent no authorization code. Start again."))
		return
	}
	p, idToken, err := m.redeem(ctx, code, pl)
	if err != nil {
		m.render(w, r, err)
		return
	}
	now := m.now()
	s := &state{ID: rand.Text(), Principal: *p, Created: now.Unix(), Seen: now.Unix(), IDToken: idToken}
	if err := m.write(w, s); err != nil {
		m.log.ErrorContext(ctx, "login: session cookie not written", "username", p.Username, "err", err)
		m.render(w, r, problem.Wrap(err, http.StatusInternalServerError, CodeSessionTooLarge, "Your account has too many groups to fit in a browser session. Ask an administrator."))
		return
	}
	m.log.InfoContext(ctx, "login", "username", p.Username, "provider", p.Provider, "issuer", p.Issuer)
	http.Redirect(w, r, safeReturnTo(pl.ReturnTo), http.StatusSeeOther)
}

// redeem exchanges the code, verifies the configured token and, for an id
// token, checks the nonce. It returns the id token (if any) for the logout
// hint. Errors are *problem.Error.
func (m *Manager) redeem(ctx context.Context, code string, pl *pendingLogin) (*identity.Principal, string, error) {
	ep, err := m.endpoints.get(ctx)
	if err != nil {
		m.log.ErrorContext(ctx, "login: provider discovery failed", "err", err)
		return nil, "", problem.Wrap(err, http.StatusServiceUnavailable, CodeIDPUnavailable, "The sign-in provider cannot be reached right now. Try again in a minute.")
	}
	xctx, cancel := context.WithTimeout(context.WithValue(ctx, oauth2.HTTPClient, m.client), exchangeTimeout)
	defer cancel()
	tok, err := m.oauthConfig(ep).Exchange(xctx, code, oauth2.VerifierOption(pl.Verifier))
	if err != nil {
		var re *oauth2.RetrieveError
		if errors.As(err, &re) {
			// Only the OAuth error code: the response body may echo the
			// request.
			m.log.WarnContext(ctx, "login: token endpoint refused the code", "error", re.ErrorCode, "status", statusOf(re))
			return nil, "", problem.Wrap(errors.New("token endpoint: "+re.ErrorCode), http.StatusBadRequest, CodeLoginFailed, "The sign-in could not be completed (the provider refused the login code). Start again.")
		}
		m.log.ErrorContext(ctx, "login: token endpoint unreachable", "err", err)
		return nil, "", problem.Wrap(err, http.StatusBadGateway, CodeIDPUnavailable, "The sign-in provider cannot be reached right now. Try again in a minute.")
	}
	idToken, _ := tok.Extra("id_token").(string)
	raw := idToken
	if m.login.VerifyToken == VerifyAccessToken {
		raw = tok.AccessToken
	}
	if raw == "" {
		m.log.ErrorContext(ctx, "login: token response lacks the token to verify", "want", m.login.VerifyToken)
		return nil, "", problem.New(http.StatusBadGateway, CodeLoginFailed, "The sign-in provider returned no "+m.login.VerifyToken+".")
	}
	p, err := m.verifier.Verify(ctx, raw)
	if err != nil {
		m.log.WarnContext(ctx, "login: token verification failed", "reason", identity.ReasonOf(err), "err", err)
		return nil, "", problem.Wrap(err, http.StatusUnauthorized, CodeLoginFailed, "Your sign-in could not be verified. Start again, or ask an administrator if it keeps happening.")
	}
	// The nonce ties the id token to this browser's login. Claims are read
	// only now, after the signature has been verified, so nothing unverified
	// is ever trusted.
	if m.login.VerifyToken == VerifyIDToken {
		n, err := unverifiedNonce(idToken)
		if err != nil || subtle.ConstantTimeCompare([]byte(n), []byte(pl.Nonce)) != 1 {
			m.log.WarnContext(ctx, "login: id token nonce does not match", "username", p.Username)
			return nil, "", problem.New(http.StatusUnauthorized, CodeLoginFailed, "Your sign-in could not be verified (nonce mismatch). Start again.")
		}
	}
	return p, idToken, nil
}

func (m *Manager) oauthConfig(ep endpoints) *oauth2.Config {
	// Public clients send client_id in the body; confidential ones use HTTP
	// Basic, which RFC 6749 requires servers to support. A fixed style avoids
	// the library's auto-detection, which retries the exchange on failure.
	style := oauth2.AuthStyleInParams
	if m.login.ClientSecret != "" {
		style = oauth2.AuthStyleInHeader
	}
	return &oauth2.Config{
		ClientID:     m.login.ClientID,
		ClientSecret: m.login.ClientSecret,
		Endpoint:     oauth2.Endpoint{AuthURL: ep.auth, TokenURL: ep.token, AuthStyle: style},
		RedirectURL:  m.login.RedirectURL,
		Scopes:       m.login.Scopes,
	}
}

// loginCookieName maps a state to its login cookie. States we issue are
// rand.Text output; anything else cannot be ours and is rejected before it
// reaches a cookie name.
func (m *Manager) loginCookieName(st string) (string, bool) {
	if len(st) < loginIDLen || len(st) > 64 {
		return "", false
	}
	for i := 0; i < len(st); i++ {
		c := st[i]
		if (c < 'A' || c > 'Z') && (c < '2' || c > '7') {
			return "", false
		}
	}
	return m.cookies.loginPrefix + st[:loginIDLen], true
}

func (m *Manager) readPendingLogin(r *http.Request, name string) *pendingLogin {
	for _, c := range r.CookiesNamed(name) {
		pt, err := m.codec.Open(name, c.Value)
		if err != nil {
			continue
		}
		var pl pendingLogin
		if err := json.Unmarshal(pt, &pl); err != nil {
			continue
		}
		if m.now().Before(time.Unix(pl.Expires, 0)) {
			return &pl
		}
	}
	return nil
}

func (m *Manager) pendingLoginNames(r *http.Request) []string {
	var names []string
	for _, c := range r.Cookies() {
		if strings.HasPrefix(c.Name, m.cookies.loginPrefix) {
			names = append(names, c.Name)
		}
	}
	return names
}

// unverifiedNonce reads the nonce claim of a JWT without checking it; the
// caller must have verified the token first.
func unverifiedNonce(jwt string) (string, error) {
	var claims struct {
		Nonce string `json:"nonce"`
	}
	err := identity.UnverifiedPayload(jwt, &claims)
	return claims.Nonce, err
}

func statusOf(re *oauth2.RetrieveError) int {
	if re.Response == nil {
		return 0
	}
	return re.Response.StatusCode
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}
