package devidp

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"net/http"
	"net/url"
	"regexp"
	"sync"
)

// codeVerifier is RFC 7636 section 4.1: 43 to 128 unreserved characters.
var codeVerifier = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[A-Za-z0-9._~-]{43,128}$`) })

// serveToken is the token endpoint (RFC 6749 section 3.2).
func (i *Issuer) serveToken(w http.ResponseWriter, r *http.Request) {
	resp, grantType, e := i.token(w, r)
	if e != nil {
		i.log.Warn("devidp: token request refused", "grant_type", grantType, "error", e.Code, "reason", e.Description)
		writeOAuthError(w, e)
		return
	}
	writeTokenJSON(w, http.StatusOK, resp)
}

func (i *Issuer) token(w http.ResponseWriter, r *http.Request) (tokenResponse, string, *oauthError) {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	if err := r.ParseForm(); err != nil {
		return tokenResponse{}, "", invalidRequest("the body must be application/x-www-form-urlencoded")
	}
	// Parameters in the URL query would end up in access logs, so only the
	// body counts (RFC 6749 section 3.2).
	form := r.PostForm
	grantType, e := single(form, "grant_type")
	if e != nil {
		return tokenResponse{}, "", e
	}
	var handle func(url.Values, *Client) (tokenResponse, *oauthError)
	switch grantType {
	case "":
		return tokenResponse{}, "", invalidRequest("grant_type is required")
	case "authorization_code":
		handle = i.codeGrant
	case "password":
		handle = i.passwordGrant
	case "refresh_token":
		handle = i.refreshGrant
	default:
		return tokenResponse{}, grantType, &oauthError{
			Code: "unsupported_grant_type", Description: "grant_type " + grantType + " is not supported",
			status: http.StatusBadRequest,
		}
	}
	c, e := i.tokenClient(r, form)
	if e != nil {
		return tokenResponse{}, grantType, e
	}
	resp, e := handle(form, c)
	if e == nil {
		i.log.Info("devidp: tokens issued", "grant_type", grantType, "client_id", c.ID)
	}
	return resp, grantType, e
}

// tokenClient identifies the calling client by client_id in the body or in
// HTTP Basic credentials. Secrets are not checked (see Client.Public), but
// Basic is accepted because golang.org/x/oauth2 sends it by default.
func (i *Issuer) tokenClient(r *http.Request, form url.Values) (*Client, *oauthError) {
	id, e := single(form, "client_id")
	if e != nil {
		return nil, e
	}
	if user, _, ok := r.BasicAuth(); ok {
		// RFC 6749 section 2.3.1: Basic credentials are form-encoded first.
		basicID, err := url.QueryUnescape(user)
		if err != nil || (id != "" && id != basicID) {
			return nil, invalidRequest("client_id in the body and in the Authorization header differ")
		}
		id = basicID
	}
	if id == "" {
		return nil, invalidClient("client_id is required")
	}
	c := i.clients[id]
	if c == nil {
		return nil, invalidClient("unknown client")
	}
	return c, nil
}

func required(form url.Values, names ...string) ([]string, *oauthError) {
	out := make([]string, len(names))
	for n, name := range names {
		v, e := single(form, name)
		if e != nil {
			return nil, e
		}
		if v == "" {
			return nil, invalidRequest(name + " is required")
		}
		out[n] = v
	}
	return out, nil
}

func (i *Issuer) codeGrant(form url.Values, c *Client) (tokenResponse, *oauthError) {
	vals, e := required(form, "code", "redirect_uri", "code_verifier")
	if e != nil {
		return tokenResponse{}, e
	}
	code, redirectURI, verifier := vals[0], vals[1], vals[2]
	if !codeVerifier().MatchString(verifier) {
		return tokenResponse{}, invalidRequest("code_verifier must be 43 to 128 unreserved characters")
	}
	entry, err := i.store.redeemCode(code, i.now())
	switch {
	case errors.Is(err, errReused):
		i.log.Warn("devidp: authorization code replayed; its refresh tokens are revoked", "client_id", c.ID)
		return tokenResponse{}, invalidGrant("authorization code was already used")
	case errors.Is(err, errExpired):
		return tokenResponse{}, invalidGrant("authorization code has expired")
	case err != nil:
		return tokenResponse{}, invalidGrant("authorization code is invalid")
	case entry.clientID != c.ID:
		return tokenResponse{}, invalidGrant("authorization code was issued to another client")
	case entry.redirectURI != redirectURI:
		// RFC 6749 section 4.1.3: identical to the authorization request's.
		return tokenResponse{}, invalidGrant("redirect_uri does not match the authorization request")
	}
	sum := sha256.Sum256([]byte(verifier))
	got := base64.RawURLEncoding.EncodeToString(sum[:])
	if subtle.ConstantTimeCompare([]byte(got), []byte(entry.challenge)) != 1 {
		return tokenResponse{}, invalidGrant("code_verifier does not match code_challenge")
	}
	return i.issueOrFail(entry.session, entry.scope)
}

func (i *Issuer) passwordGrant(form url.Values, c *Client) (tokenResponse, *oauthError) {
	vals, e := required(form, "username", "password")
	if e != nil {
		return tokenResponse{}, e
	}
	scope, e := single(form, "scope")
	if e != nil {
		return tokenResponse{}, e
	}
	u := i.byName[vals[0]]
	if !i.passwordOK(u, vals[1]) {
		// One answer for unknown user and wrong password, as a real
		// provider would give.
		i.log.Warn("devidp: login failed", "client_id", c.ID, "user", vals[0])
		return tokenResponse{}, invalidGrant("wrong username or password")
	}
	sess := session{
		username: u.Username,
		clientID: c.ID,
		scope:    grantScope(scope),
		authTime: i.now(),
		family:   randomToken(),
	}
	return i.issueOrFail(sess, sess.scope)
}

func (i *Issuer) refreshGrant(form url.Values, c *Client) (tokenResponse, *oauthError) {
	vals, e := required(form, "refresh_token")
	if e != nil {
		return tokenResponse{}, e
	}
	scope, e := single(form, "scope")
	if e != nil {
		return tokenResponse{}, e
	}
	sess, err := i.store.spendRefresh(vals[0], i.now())
	switch {
	case errors.Is(err, errReused):
		i.log.Warn("devidp: refresh token replayed; its family is revoked", "client_id", c.ID)
		return tokenResponse{}, invalidGrant("refresh token was already used")
	case err != nil:
		return tokenResponse{}, invalidGrant("refresh token is invalid or expired")
	case sess.clientID != c.ID:
		return tokenResponse{}, invalidGrant("refresh token was issued to another client")
	}
	accessScope := sess.scope
	if scope != "" {
		if !scopeSubset(scope, sess.scope) {
			return tokenResponse{}, &oauthError{Code: "invalid_scope",
				Description: "scope exceeds the scope originally granted", status: http.StatusBadRequest}
		}
		accessScope = grantScope(scope)
	}
	return i.issueOrFail(sess, accessScope)
}

func (i *Issuer) issueOrFail(sess session, accessScope string) (tokenResponse, *oauthError) {
	resp, err := i.issue(sess, accessScope)
	if err != nil {
		i.log.Error("devidp: issue tokens", "client_id", sess.clientID, "err", err)
		return tokenResponse{}, &oauthError{Code: "server_error", Description: "could not issue tokens",
			status: http.StatusInternalServerError}
	}
	return resp, nil
}
