package devidp

import (
	"crypto/subtle"
	"net/http"
	"net/url"
	"regexp"
	"sync"
)

// maxFormBytes bounds a login form or token request body; both are tiny.
const maxFormBytes = 64 << 10

// s256Challenge is the shape of base64url(SHA-256(verifier)): 43 characters.
var s256Challenge = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[A-Za-z0-9_-]{43}$`) })

// authRequest is an authorization request (RFC 6749 section 4.1.1 with
// PKCE and OIDC additions). The login form carries it in hidden fields, and
// the form's signature covers every field, so none can be changed between
// the form and the login.
type authRequest struct {
	ClientID            string
	RedirectURI         string
	ResponseType        string
	Scope               string
	State               string
	Nonce               string
	CodeChallenge       string
	CodeChallengeMethod string
}

func readAuthRequest(form url.Values) authRequest {
	return authRequest{
		ClientID:            form.Get("client_id"),
		RedirectURI:         form.Get("redirect_uri"),
		ResponseType:        form.Get("response_type"),
		Scope:               form.Get("scope"),
		State:               form.Get("state"),
		Nonce:               form.Get("nonce"),
		CodeChallenge:       form.Get("code_challenge"),
		CodeChallengeMethod: form.Get("code_challenge_method"),
	}
}

// repeatedParam returns the name of an authorization parameter that occurs
// more than once, or "". RFC 6749 section 3.1 forbids repeats, and which
// copy a component reads would otherwise be a matter of luck.
func repeatedParam(form url.Values) string {
	for name := range (authRequest{}).values() {
		if len(form[name]) > 1 {
			return name
		}
	}
	return ""
}

// values is the request as form fields, in one canonical encoding.
func (a authRequest) values() url.Values {
	return url.Values{
		"client_id":             {a.ClientID},
		"redirect_uri":          {a.RedirectURI},
		"response_type":         {a.ResponseType},
		"scope":                 {a.Scope},
		"state":                 {a.State},
		"nonce":                 {a.Nonce},
		"code_challenge":        {a.CodeChallenge},
		"code_challenge_method": {a.CodeChallengeMethod},
	}
}

// checkClient validates the parts of a request that decide whether the
// browser may be sent back to the client at all. When they fail, the person
// sees an error page and is never redirected: redirecting to an unvalidated
// URI would make the issuer an open redirector (RFC 6749 section 4.1.2.1).
func (i *Issuer) checkClient(a authRequest) (*Client, string) {
	c := i.clients[a.ClientID]
	switch {
	case a.ClientID == "":
		return nil, "The request has no client_id."
	case c == nil:
		return nil, "The application (client_id " + a.ClientID + ") is not registered with this issuer."
	case a.RedirectURI == "":
		return nil, "The request has no redirect_uri."
	case !c.allowsRedirect(a.RedirectURI):
		return nil, "The redirect_uri is not registered for this application."
	}
	return c, ""
}

// checkRequest validates the rest; its errors go back to the client.
func checkRequest(a authRequest) *oauthError {
	switch {
	case a.ResponseType != "code":
		return &oauthError{Code: "unsupported_response_type", Description: "only response_type=code is supported"}
	case a.CodeChallenge == "":
		return invalidRequest("PKCE is required: send code_challenge with code_challenge_method=S256")
	case a.CodeChallengeMethod != "S256":
		// A missing method means "plain" (RFC 7636 section 4.3), which
		// gives no protection if the request is observed, so it is refused.
		return invalidRequest("code_challenge_method must be S256")
	case !s256Challenge().MatchString(a.CodeChallenge):
		return invalidRequest("code_challenge is not a base64url SHA-256 digest")
	}
	return nil
}

// redirectError returns an authorization error to the client's validated
// redirect URI, with state and iss (RFC 9207, against mix-up attacks).
func (i *Issuer) redirectError(w http.ResponseWriter, r *http.Request, a authRequest, e *oauthError) {
	i.log.Warn("devidp: authorization refused", "client_id", a.ClientID, "error", e.Code, "reason", e.Description)
	params := url.Values{"error": {e.Code}, "error_description": {e.Description}, "iss": {i.issuer}}
	if a.State != "" {
		params.Set("state", a.State)
	}
	redirectTo(w, r, a.RedirectURI, params)
}

// serveAuthorizeForm shows the login form for a valid request.
func (i *Issuer) serveAuthorizeForm(w http.ResponseWriter, r *http.Request) {
	a := readAuthRequest(r.URL.Query())
	c, problem := i.checkClient(a)
	if name := repeatedParam(r.URL.Query()); name != "" {
		c, problem = nil, "The request repeats the parameter "+name+"."
	}
	if c == nil {
		i.log.Warn("devidp: authorization request rejected", "client_id", a.ClientID, "reason", problem)
		i.renderMessage(w, http.StatusBadRequest, "Sign-in request rejected", problem)
		return
	}
	if e := checkRequest(a); e != nil {
		i.redirectError(w, r, a, e)
		return
	}
	i.renderLogin(w, r, a, r.URL.Query().Get("login_hint"), "", http.StatusOK)
}

// serveAuthorizeLogin checks a submitted login form and, on success, sends
// the browser back to the client with a code.
func (i *Issuer) serveAuthorizeLogin(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	if err := r.ParseForm(); err != nil {
		i.renderMessage(w, http.StatusBadRequest, "Sign-in request rejected", "The form could not be read.")
		return
	}
	// Only the body counts: the signed hidden fields are the request.
	a := readAuthRequest(r.PostForm)
	username := r.PostForm.Get("username")
	c, problem := i.checkClient(a)
	if name := repeatedParam(r.PostForm); name != "" {
		c, problem = nil, "The form repeats the field "+name+"."
	}
	if c == nil {
		i.renderMessage(w, http.StatusBadRequest, "Sign-in request rejected", problem)
		return
	}
	if e := checkRequest(a); e != nil {
		i.redirectError(w, r, a, e)
		return
	}
	if !i.checkLoginForm(r, a) {
		i.log.Warn("devidp: login form refused", "client_id", a.ClientID, "reason", "missing, forged, expired or reused form")
		i.renderLogin(w, r, a, username,
			"This sign-in form has expired or was already used. Please sign in again.", http.StatusBadRequest)
		return
	}
	u := i.byName[username]
	if !i.passwordOK(u, r.PostForm.Get("password")) {
		i.log.Warn("devidp: login failed", "client_id", a.ClientID, "user", username)
		i.renderLogin(w, r, a, username, "Wrong user name or password.", http.StatusBadRequest)
		return
	}

	now := i.now()
	code := i.store.newCode(codeEntry{
		session: session{
			username: u.Username,
			clientID: c.ID,
			scope:    grantScope(a.Scope),
			nonce:    a.Nonce,
			authTime: now,
			family:   randomToken(),
		},
		redirectURI: a.RedirectURI,
		challenge:   a.CodeChallenge,
		expires:     now.Add(codeTTL),
	}, now)
	i.log.Info("devidp: authorization code issued", "client_id", c.ID, "user", u.Username)
	params := url.Values{"code": {code}, "iss": {i.issuer}}
	if a.State != "" {
		params.Set("state", a.State)
	}
	redirectTo(w, r, a.RedirectURI, params)
}

// passwordOK compares in constant time so the demo issuer does not teach a
// timing side channel by example. u may be nil (unknown user).
func (i *Issuer) passwordOK(u *User, password string) bool {
	if u == nil {
		return false
	}
	return subtle.ConstantTimeCompare([]byte(u.Password), []byte(password)) == 1
}
