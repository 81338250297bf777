package server

import (
	"context"
	"errors"
	"net/http"

	"github.com/sagegate/sagegate/internal/identity"
	"github.com/sagegate/sagegate/internal/problem"
)

type principalKey struct{}

func principalFrom(ctx context.Context) (*identity.Principal, bool) {
	p, ok := ctx.Value(principalKey{}).(*identity.Principal)
	return p, ok
}

// handle adapts an error-returning handler.
func (s *Server) handle(h func(http.ResponseWriter, *http.Request) error) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := h(w, r); err != nil {
			s.render(w, r, err)
		}
	})
}

// authed runs h with the request's Principal. A bearer token, when sent,
// is the only credential considered (an invalid token is never rescued by
// a cookie); otherwise the browser session. Without either, a browser is
// sent to sign in and anything else gets 401. Nothing past this point runs
// for an unauthenticated request, so no AWS call can happen for one.
func (s *Server) authed(h func(http.ResponseWriter, *http.Request, *identity.Principal) error) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, err := s.authenticate(w, r)
		if err != nil {
			s.auditRefused(r, err)
			if r.Method == http.MethodGet && wantsHTML(r) && s.opts.Sessions != nil && identity.ReasonOf(err) == identity.ReasonMissingToken {
				http.Redirect(w, r, s.opts.Sessions.LoginURL(r.URL.RequestURI()), http.StatusFound)
				return
			}
			s.render(w, r, err)
			return
		}
		// Errors are rendered with the Principal in the context, so error
		// pages still show who is signed in and offer Sign out.
		r = r.WithContext(context.WithValue(r.Context(), principalKey{}, p))
		if err := h(w, r, p); err != nil {
			s.render(w, r, err)
		}
	})
}

func (s *Server) authenticate(w http.ResponseWriter, r *http.Request) (*identity.Principal, error) {
	if s.opts.TrustedPrincipal != nil {
		if p, ok := s.opts.TrustedPrincipal(r); ok {
			return p, nil
		}
	}
	if r.Header.Get("Authorization") != "" || s.opts.Sessions == nil {
		raw, err := identity.BearerToken(r.Header)
		if err == nil {
			var p *identity.Principal
			if p, err = s.opts.Verifier.Verify(r.Context(), raw); err == nil {
				return p, nil
			}
		}
		return nil, unauthenticated(err)
	}
	if p, ok := s.opts.Sessions.Principal(r); ok {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			if err := s.opts.Sessions.CheckCSRF(r); err != nil {
				return nil, problem.Wrap(err, http.StatusForbidden, "csrf", "This request did not come from a sagegate page. Reload the page and try again.")
			}
		}
		s.opts.Sessions.Touch(w, r)
		return p, nil
	}
	return nil, unauthenticated(&identity.Error{Reason: identity.ReasonMissingToken, Detail: "Sign in, or send an access token in the Authorization header."})
}

// unauthenticated maps a verification failure to a 401 whose code is the
// verifier's reason. A failure without a reason (it should not happen) is
// still a 401, never a 500: the person is simply not authenticated.
func unauthenticated(err error) error {
	var ie *identity.Error
	if errors.As(err, &ie) {
		if ie.Reason == identity.ReasonKeysUnavailable {
			pe := problem.Wrap(err, http.StatusServiceUnavailable, problem.CodeUnavailable, "The identity provider's signing keys cannot be fetched right now.")
			pe.RetryAfter = 5e9
			return pe
		}
		return problem.Wrap(err, http.StatusUnauthorized, ie.Reason, ie.Detail)
	}
	return problem.Wrap(err, http.StatusUnauthorized, problem.CodeUnauthenticated, "The access token could not be verified.")
}
