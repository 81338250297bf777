package devidp

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
)

// oauthError is an RFC 6749 section 5.2 error. Description is shown to the
// client, so it never holds a token, code or password.
type oauthError struct {
	Code        string `json:"error"`
	Description string `json:"error_description,omitempty"`
	status      int
}

func invalidRequest(desc string) *oauthError {
	return &oauthError{Code: "invalid_request", Description: desc, status: http.StatusBadRequest}
}

func invalidGrant(desc string) *oauthError {
	return &oauthError{Code: "invalid_grant", Description: desc, status: http.StatusBadRequest}
}

func invalidClient(desc string) *oauthError {
	return &oauthError{Code: "invalid_client", Description: desc, status: http.StatusUnauthorized}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// writeTokenJSON answers from the token endpoint: never cacheable, because
// both success and error bodies concern credentials (RFC 6749 section 5.1).
func writeTokenJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Pragma", "no-cache")
	writeJSON(w, status, v)
}

func writeOAuthError(w http.ResponseWriter, e *oauthError) {
	if e.status == http.StatusUnauthorized {
		// RFC 9110 requires a challenge on every 401.
		w.Header().Set("WWW-Authenticate", `Basic realm="devidp"`)
	}
	writeTokenJSON(w, e.status, e)
}

// redirectTo sends the browser to a validated URI with extra query
// parameters merged into the URI's own.
func redirectTo(w http.ResponseWriter, r *http.Request, uri string, params url.Values) {
	u, err := url.Parse(uri)
	if err != nil {
		// Callers only pass URIs that already parsed during validation.
		http.Error(w, "invalid redirect URI", http.StatusInternalServerError)
		return
	}
	q := u.Query()
	for k, vs := range params {
		q[k] = vs
	}
	u.RawQuery = q.Encode()
	// The authorize URL carries state and PKCE values; keep them out of the
	// Referer the client's page would see.
	w.Header().Set("Referrer-Policy", "no-referrer")
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, u.String(), http.StatusFound)
}

// single returns the one value of a form parameter. RFC 6749 section 3.1
// forbids repeating a parameter; silently taking the first of two would hide
// client bugs.
func single(form url.Values, name string) (string, *oauthError) {
	vs := form[name]
	switch len(vs) {
	case 0:
		return "", nil
	case 1:
		return vs[0], nil
	}
	return "", invalidRequest("parameter " + name + " is repeated")
}

// bearerToken returns the token of an "Authorization: Bearer" header.
func bearerToken(r *http.Request) string {
	scheme, token, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return ""
	}
	return strings.TrimSpace(token)
}
