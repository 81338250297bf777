package server

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/sagegate/sagegate/internal/identity"
	"github.com/sagegate/sagegate/internal/problem"
	"github.com/sagegate/sagegate/internal/reqid"
	"github.com/sagegate/sagegate/internal/routing"
	"github.com/sagegate/sagegate/internal/session"
)

// wantsHTML reports whether the caller is a browser. Browsers always list
// text/html in Accept; curl's */* and API clients do not, and get JSON.
func wantsHTML(r *http.Request) bool {
	return strings.Contains(r.Header.Get("Accept"), "text/html")
}

// wantsJSON reports whether the caller explicitly asked for JSON, as
// opposed to accepting anything.
func wantsJSON(r *http.Request) bool {
	a := r.Header.Get("Accept")
	return strings.Contains(a, "application/json") && !strings.Contains(a, "text/html")
}

// problemBody is RFC 9457 problem+json with sagegate's extensions.
type problemBody struct {
	Type      string `json:"type"`
	Title     string `json:"title"`
	Status    int    `json:"status"`
	Detail    string `json:"detail"`
	Instance  string `json:"instance"`
	Code      string `json:"code"`
	RequestID string `json:"requestId"`
}

// Render is the one place an error becomes a response. It is exported for
// the session package's /auth/* pages, which must look like the rest.
func (s *Server) Render(w http.ResponseWriter, r *http.Request, err error) { s.render(w, r, err) }

func (s *Server) render(w http.ResponseWriter, r *http.Request, err error) {
	pe := problem.From(err)
	id := reqid.From(r.Context())
	switch {
	case pe.Status >= 500 && pe.RetryAfter > 0:
		// Throttled, circuit open, overloaded: expected under load and
		// already counted in metrics; a warning, not an error.
		s.log.WarnContext(r.Context(), "request refused for now", "status", pe.Status, "code", pe.Code, "err", err)
	case pe.Status >= 500:
		s.log.ErrorContext(r.Context(), "request failed", "status", pe.Status, "code", pe.Code, "err", err)
	default:
		s.log.DebugContext(r.Context(), "request refused", "status", pe.Status, "code", pe.Code, "err", err)
	}
	h := w.Header()
	h.Set("Cache-Control", "no-store")
	if pe.RetryAfter > 0 {
		h.Set("Retry-After", strconv.Itoa(retryAfterSeconds(pe.RetryAfter)))
	}
	if pe.Status == http.StatusUnauthorized {
		h.Set("WWW-Authenticate", fmt.Sprintf(`Bearer error="invalid_token", error_description=%q`, pe.Code))
		if pe.Code == identity.ReasonMissingToken {
			// RFC 6750 3.1: no error code when no credentials were sent.
			h.Set("WWW-Authenticate", `Bearer realm="sagegate"`)
		}
	}
	status := pe.Status
	if status < 400 || status > 599 {
		// 499 (client went away) and anything odd: nobody is listening
		// for a precise code, but a proxy must not see a 1xx-3xx.
		status = http.StatusBadGateway
	}

	if wantsHTML(r) {
		s.page(w, r, status, "error.html", s.errorPage(r, pe, status, id))
		return
	}
	body := problemBody{
		Type: "urn:sagegate:problem:" + pe.Code, Title: http.StatusText(status), Status: status,
		Detail: pe.Detail, Instance: r.URL.Path, Code: pe.Code, RequestID: id,
	}
	var out any = body
	if len(pe.Fields) > 0 {
		m := map[string]any{}
		b, _ := json.Marshal(body)
		_ = json.Unmarshal(b, &m)
		for k, v := range pe.Fields {
			if _, taken := m[k]; !taken {
				m[k] = v
			}
		}
		out = m
	}
	h.Set("Content-Type", "application/problem+json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(out)
}

// pageData is what the shared layout needs on every page.
type pageData struct {
	Title string
	User  string
	// SignOut is set for a browser session (a bearer token has nothing
	// to sign out of); sign-out is a POST carrying the CSRF token.
	SignOut *signOutForm
}

type signOutForm struct{ Action, Field, Token string }

func (s *Server) pageData(r *http.Request, title string) pageData {
	pd := pageData{Title: title}
	if p, ok := principalFrom(r.Context()); ok {
		pd.User = p.Username
		if s.opts.Sessions != nil && r.Header.Get("Authorization") == "" {
			if tok := s.opts.Sessions.CSRFToken(r); tok != "" {
				pd.SignOut = &signOutForm{Action: session.LogoutPath, Field: session.CSRFField, Token: tok}
			}
		}
	}
	return pd
}

type choosePage struct {
	pageData
	Targets []routing.Target
}

// page renders a template fully before writing, so a template error can
// still become a proper error response.
func (s *Server) page(w http.ResponseWriter, r *http.Request, status int, name string, data any) {
	var buf bytes.Buffer
	if err := s.pages.ExecuteTemplate(&buf, name, data); err != nil {
		s.log.ErrorContext(r.Context(), "template failed", "template", name, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	// Pages are per person and carry the sign-out form's CSRF token.
	if w.Header().Get("Cache-Control") == "" {
		w.Header().Set("Cache-Control", "no-store")
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Security-Policy", "default-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

func writeJSON(w http.ResponseWriter, status int, v any) error {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	return json.NewEncoder(w).Encode(v)
}

func notFound(r *http.Request) error {
	return problem.New(http.StatusNotFound, "not_found", fmt.Sprintf("There is nothing at %s.", r.URL.Path))
}
