package session

import (
	"crypto/hmac"
	"encoding/base64"
	"net/http"
	"strings"

	"github.com/sagegate/sagegate/internal/problem"
)

// Where CheckCSRF looks for the token: a header for scripts, a form field
// for plain HTML forms.
const (
	CSRFHeader = "X-CSRF-Token"
	CSRFField  = "csrf_token"
)

// CSRFToken returns the token to embed in forms of this session, or "" when
// there is no valid session. It is an HMAC of the session id, so it needs no
// server state, dies with the session, and cannot be computed by anyone
// without the cookie key.
func (m *Manager) CSRFToken(r *http.Request) string {
	s, _ := m.read(r)
	if s == nil {
		return ""
	}
	return m.csrfToken(s)
}

func (m *Manager) csrfToken(s *state) string {
	return base64.RawURLEncoding.EncodeToString(m.codec.csrfMACs(csrfMessage(s))[0])
}

func csrfMessage(s *state) string { return "csrf\x00" + s.ID }

// CheckCSRF accepts a state-changing request only if it carries this
// session's token and, when the browser says where it came from
// (Sec-Fetch-Site, Origin), it came from our own origin. Safe methods pass:
// they must not change state in the first place. Errors are
// *problem.Error with status 403 and code "csrf".
func (m *Manager) CheckCSRF(r *http.Request) error {
	switch r.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodTrace:
		return nil
	}
	if err := m.checkOrigin(r); err != nil {
		return err
	}
	s, _ := m.read(r)
	if s == nil {
		return problem.New(http.StatusForbidden, CodeCSRF, "Your session has ended. Reload the page, sign in again and retry.")
	}
	return m.checkToken(r, s)
}

// checkOrigin uses the browser's own account of where a request came from.
// Both headers are optional (old browsers, non-browser clients), so absence
// is not failure; the token check still applies.
func (m *Manager) checkOrigin(r *http.Request) error {
	// "same-site" is refused too: a sibling subdomain is not us.
	switch site := r.Header.Get("Sec-Fetch-Site"); site {
	case "", "same-origin", "none":
	default:
		return problem.New(http.StatusForbidden, CodeCSRF, "This request came from another site and was refused.")
	}
	if origin := r.Header.Get("Origin"); origin != "" && !strings.EqualFold(origin, m.cookies.origin) {
		return problem.New(http.StatusForbidden, CodeCSRF, "This request came from another site and was refused.")
	}
	return nil
}

func (m *Manager) checkToken(r *http.Request, s *state) error {
	tok := r.Header.Get(CSRFHeader)
	if tok == "" {
		tok = r.PostFormValue(CSRFField)
	}
	got, err := base64.RawURLEncoding.DecodeString(tok)
	if tok == "" || err != nil {
		return problem.New(http.StatusForbidden, CodeCSRF, "This form has expired. Reload the page and try again.")
	}
	for _, want := range m.codec.csrfMACs(csrfMessage(s)) {
		if hmac.Equal(got, want) {
			return nil
		}
	}
	return problem.New(http.StatusForbidden, CodeCSRF, "This form has expired. Reload the page and try again.")
}
