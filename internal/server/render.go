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
	if pe.Status >= 500 {
		s.log.ErrorContext(r.Context(), "request failed", "status", pe.Status, "code", pe.Code, "err", err)
	} else {
		s.log.DebugContext(r.Context(), "request refused", "status", pe.Status, "code", pe.Code, "err", err)
	}
	h := w.Header()
	h.Set("Cache-Control", "no-store")
	if pe.RetryAfter > 0 {
		secs := int((pe.RetryAfter + 999_999_999) / 1_000_000_000)
		h.Set("Retry-After", strconv.Itoa(secs))
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
		s.page(w, r, status, "error.html", errorPage{
			pageData:  s.pageData(r, http.StatusText(status)),
			Detail:    pe.Detail,
			Next:      nextStep(pe),
			Action:    s.errorAction(r, pe),
			Code:      pe.Code,
			RequestID: id,
		})
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

// nextStep tells a person what to do about an error.
func nextStep(pe *problem.Error) string {
	switch pe.Code {
	case problem.CodeNoTargets:
		return "Ask your platform team to add you to a line of business in sagegate."
	case problem.CodeForbidden:
		return "Open your own Studio instead, from the sagegate home page."
	case problem.CodeAWSThrottled, problem.CodeAWSTimeout, problem.CodeUnavailable:
		return "Wait a few seconds and try again."
	case problem.CodeAWSAccessDenied, problem.CodeAWSError, problem.CodeAWSNotFound:
		return "Send the request id below to your platform team."
	}
	if pe.Status == http.StatusUnauthorized {
		return "Sign in again."
	}
	return ""
}

type link struct{ Href, Label string }

func (s *Server) errorAction(r *http.Request, pe *problem.Error) *link {
	if pe.Status == http.StatusUnauthorized && s.opts.Sessions != nil {
		return &link{Href: s.opts.Sessions.LoginURL(r.URL.RequestURI()), Label: "Sign in"}
	}
	if pe.Status == http.StatusServiceUnavailable || pe.Status == http.StatusGatewayTimeout {
		return &link{Href: r.URL.RequestURI(), Label: "Try again"}
	}
	return nil
}

type pageData struct {
	Title string
	User  string
}

func (s *Server) pageData(r *http.Request, title string) pageData {
	pd := pageData{Title: title}
	if p, ok := principalFrom(r.Context()); ok {
		pd.User = p.Username
	}
	return pd
}

type errorPage struct {
	pageData
	Detail, Next, Code, RequestID string
	Action                        *link
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
