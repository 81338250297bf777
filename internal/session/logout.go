package session

import (
	"html/template"
	"net/http"
	"net/url"
)

// logoutPage is deliberately bare: the server owns the look of real pages,
// and this one exists only because logout must be a POST with a CSRF token
// (a GET logout could be triggered by any <img> on any site).
var logoutPage = template.Must(template.New("logout").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>Sign out of sagegate</title></head>
<body style="font-family:sans-serif;max-width:30rem;margin:4rem auto">
<h1>Sign out</h1>
<p>Signed in as <strong>{{.Username}}</strong>.</p>
<form method="post" action="{{.Action}}">
<input type="hidden" name="{{.Field}}" value="{{.Token}}">
<button type="submit">Sign out</button>
</form>
</body></html>
`))

// handleLogoutPage shows the confirm form.
func (m *Manager) handleLogoutPage(w http.ResponseWriter, r *http.Request) {
	s := m.logoutSession(w, r)
	if s == nil {
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'")
	h.Set("X-Frame-Options", "DENY")
	// Not no-referrer: under that policy browsers send "Origin: null" with
	// the form's POST, which CheckCSRF rightly refuses. same-origin still
	// sends nothing to other sites.
	h.Set("Referrer-Policy", "same-origin")
	err := logoutPage.Execute(w, map[string]string{
		"Username": s.Principal.Username,
		"Action":   LogoutPath,
		"Field":    CSRFField,
		"Token":    m.csrfToken(s),
	})
	if err != nil {
		m.log.WarnContext(r.Context(), "logout page", "err", err)
	}
}

// handleLogout ends the session and, when the provider supports
// RP-initiated logout, ends the provider session too; otherwise the next
// login would silently sign the same person straight back in.
func (m *Manager) handleLogout(w http.ResponseWriter, r *http.Request) {
	s := m.logoutSession(w, r)
	if s == nil {
		return
	}
	if err := m.CheckCSRF(r); err != nil {
		m.log.WarnContext(r.Context(), "logout refused: csrf", "username", s.Principal.Username)
		m.render(w, r, err)
		return
	}
	m.clear(w)
	m.log.InfoContext(r.Context(), "logout", "username", s.Principal.Username, "provider", s.Principal.Provider)
	http.Redirect(w, r, m.providerLogoutTarget(r, s), http.StatusSeeOther)
}

// logoutSession returns the session to end. Without one there is nothing
// to confirm or protect: a dead cookie is cleared (harmless from any
// origin), the browser goes straight to the signed-out page, and it
// returns nil.
func (m *Manager) logoutSession(w http.ResponseWriter, r *http.Request) *state {
	w.Header().Set("Cache-Control", "no-store")
	s, found := m.read(r)
	if s == nil {
		if found {
			m.clear(w)
		}
		http.Redirect(w, r, m.localLogoutTarget(), http.StatusSeeOther)
	}
	return s
}

func (m *Manager) localLogoutTarget() string {
	if m.login.PostLogoutRedirectURL != "" {
		return m.login.PostLogoutRedirectURL
	}
	return "/"
}

// providerLogoutTarget builds the end_session_endpoint URL (OpenID Connect
// RP-Initiated Logout). If the provider cannot be discovered the local
// session is still gone, which is what matters most, so the browser goes to
// the local target instead of an error page.
func (m *Manager) providerLogoutTarget(r *http.Request, s *state) string {
	ep, err := m.endpoints.get(r.Context())
	if err != nil {
		m.log.WarnContext(r.Context(), "logout: provider discovery failed; local logout only", "err", err)
		return m.localLogoutTarget()
	}
	if ep.endSession == "" {
		return m.localLogoutTarget()
	}
	u, err := url.Parse(ep.endSession)
	if err != nil {
		m.log.WarnContext(r.Context(), "logout: bad end_session_endpoint; local logout only", "err", err)
		return m.localLogoutTarget()
	}
	// Existing query parameters are kept, so a provider with its own logout
	// dialect (Cognito wants logout_uri) can be configured through LogoutURL.
	q := u.Query()
	q.Set("client_id", m.login.ClientID)
	if s.IDToken != "" {
		q.Set("id_token_hint", s.IDToken)
	}
	if m.login.PostLogoutRedirectURL != "" {
		q.Set("post_logout_redirect_uri", m.login.PostLogoutRedirectURL)
	}
	u.RawQuery = q.Encode()
	return u.String()
}
