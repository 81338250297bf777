package devidp

import (
	"net/http"
	"net/url"
	"strconv"
)

// discovery is the OpenID Provider Metadata (OIDC Discovery section 3).
type discovery struct {
	Issuer                  string   `json:"issuer"`
	AuthorizationEndpoint   string   `json:"authorization_endpoint"`
	TokenEndpoint           string   `json:"token_endpoint"`
	JWKSURI                 string   `json:"jwks_uri"`
	UserinfoEndpoint        string   `json:"userinfo_endpoint"`
	EndSessionEndpoint      string   `json:"end_session_endpoint"`
	ResponseTypes           []string `json:"response_types_supported"`
	ResponseModes           []string `json:"response_modes_supported"`
	GrantTypes              []string `json:"grant_types_supported"`
	SubjectTypes            []string `json:"subject_types_supported"`
	IDTokenAlgs             []string `json:"id_token_signing_alg_values_supported"`
	Scopes                  []string `json:"scopes_supported"`
	Claims                  []string `json:"claims_supported"`
	TokenEndpointAuth       []string `json:"token_endpoint_auth_methods_supported"`
	CodeChallengeMethods    []string `json:"code_challenge_methods_supported"`
	AuthorizationResponseIs bool     `json:"authorization_response_iss_parameter_supported"`
}

func (i *Issuer) serveDiscovery(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, discovery{
		Issuer:                i.issuer,
		AuthorizationEndpoint: i.endpoint("/authorize"),
		TokenEndpoint:         i.endpoint("/token"),
		JWKSURI:               i.endpoint("/jwks"),
		UserinfoEndpoint:      i.endpoint("/userinfo"),
		EndSessionEndpoint:    i.endpoint("/logout"),
		ResponseTypes:         []string{"code"},
		ResponseModes:         []string{"query"},
		GrantTypes:            []string{"authorization_code", "refresh_token", "password"},
		SubjectTypes:          []string{"public"},
		IDTokenAlgs:           []string{string(i.key.alg)},
		Scopes:                supportedScopes,
		Claims: []string{"iss", "sub", "aud", "exp", "iat", "nbf", "auth_time", "nonce", "jti",
			"client_id", "scope", "token_use", "preferred_username", "name", "email", "email_verified", "groups"},
		TokenEndpointAuth:       []string{"none"},
		CodeChallengeMethods:    []string{"S256"},
		AuthorizationResponseIs: true,
	})
}

type userinfo struct {
	Subject       string   `json:"sub"`
	Username      string   `json:"preferred_username"`
	Name          string   `json:"name,omitempty"`
	Email         string   `json:"email,omitempty"`
	EmailVerified bool     `json:"email_verified,omitempty"`
	Groups        []string `json:"groups,omitempty"`
}

// serveUserinfo answers with the claims of the access token's user (OIDC
// Core section 5.3). Only the Authorization header is read: a token in a
// query string would end up in logs.
func (i *Issuer) serveUserinfo(w http.ResponseWriter, r *http.Request) {
	raw := bearerToken(r)
	if raw == "" {
		// RFC 6750 section 3.1: no error code when no token was sent.
		w.Header().Set("WWW-Authenticate", `Bearer realm="devidp"`)
		writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "invalid_request",
			"error_description": "send the access token as Authorization: Bearer"})
		return
	}
	u, err := i.verifyAccess(raw)
	if err != nil {
		w.Header().Set("WWW-Authenticate",
			`Bearer realm="devidp", error="invalid_token", error_description=`+strconv.Quote(err.Error()))
		writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "invalid_token",
			"error_description": err.Error()})
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, userinfo{
		Subject:       SubjectFor(u.Username),
		Username:      u.Username,
		Name:          u.Name,
		Email:         u.Email,
		EmailVerified: u.Email != "",
		Groups:        u.Groups,
	})
}

// serveLogout is RP-initiated logout. The issuer keeps no sign-in session
// (every authorization shows the form), so ending the session means
// forgetting the browser's login-form cookie and, if the client and its
// return address check out, sending the browser back.
func (i *Issuer) serveLogout(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	if err := r.ParseForm(); err != nil {
		i.renderMessage(w, http.StatusBadRequest, "Sign-out request rejected", "The request could not be read.")
		return
	}
	http.SetCookie(w, &http.Cookie{
		Name: loginCookie, Value: "", Path: i.browserPath("/authorize"), MaxAge: -1,
		HttpOnly: true, Secure: i.secure, SameSite: http.SameSiteLaxMode,
	})

	target := r.Form.Get("post_logout_redirect_uri")
	c := i.logoutClient(r.Form.Get("client_id"), r.Form.Get("id_token_hint"))
	switch {
	case target != "" && c != nil && c.allowsPostLogout(target):
		i.log.Info("devidp: signed out", "client_id", c.ID)
		params := url.Values{}
		if state := r.Form.Get("state"); state != "" {
			params.Set("state", state)
		}
		redirectTo(w, r, target, params)
	case target != "":
		// Never redirect to an address that is not registered for a known
		// client: that would be an open redirector.
		i.log.Warn("devidp: post-logout redirect refused", "client_id", r.Form.Get("client_id"))
		i.renderMessage(w, http.StatusOK, "Signed out",
			"You are signed out. The application's return address is not registered, so you were not sent back.")
	default:
		i.renderMessage(w, http.StatusOK, "Signed out", "You are signed out. You can close this page.")
	}
}

// logoutClient identifies the client asking for logout: client_id if sent,
// else the audience of id_token_hint. The hint's signature must verify, but
// it may have expired: people sign out long after their token lapsed.
func (i *Issuer) logoutClient(clientID, hint string) *Client {
	if hint != "" {
		var c struct {
			idClaims
			TokenUse string `json:"token_use"`
		}
		// An access token is not an ID token hint, even though it verifies.
		if err := i.key.verify(hint, &c); err != nil || c.Issuer != i.issuer || c.TokenUse != "" {
			return nil
		}
		if clientID != "" && clientID != c.Audience {
			return nil
		}
		clientID = c.Audience
	}
	return i.clients[clientID]
}
