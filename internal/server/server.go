// Package server is sagegate's HTTP surface: routes, authentication of each
// request, and one place where errors become responses.
package server

import (
	"context"
	"html/template"
	"log/slog"
	"net/http"
	"time"

	"github.com/sagegate/sagegate/internal/audit"
	"github.com/sagegate/sagegate/internal/broker"
	"github.com/sagegate/sagegate/internal/identity"
	"github.com/sagegate/sagegate/internal/metrics"
	"github.com/sagegate/sagegate/internal/notebooks"
	"github.com/sagegate/sagegate/internal/routing"
	"github.com/sagegate/sagegate/internal/session"
	"github.com/sagegate/sagegate/web"
)

// Launcher mints presigned URLs (the broker).
type Launcher interface {
	Launch(ctx context.Context, p *identity.Principal, t routing.Target) (broker.Result, error)
}

// Sessions is browser sign-in (package session). Optional: without it only
// bearer tokens authenticate.
type Sessions interface {
	Routes(mux *http.ServeMux)
	Principal(r *http.Request) (*identity.Principal, bool)
	Touch(w http.ResponseWriter, r *http.Request)
	LoginURL(returnTo string) string
	CheckCSRF(r *http.Request) error
	// CSRFToken is the token for forms of r's session ("" without one).
	CSRFToken(r *http.Request) string
	// CLIClient is what `sagegate open` needs to sign in on its own.
	CLIClient() session.CLIClient
}

// Check is a readiness probe of one dependency.
type Check struct {
	Name string
	Func func(ctx context.Context) error
	// Degraded checks are reported but do not make the gateway unready:
	// one AWS account in trouble must not take every instance out of its
	// load balancer while launches into other accounts work.
	Degraded bool
}

// Options are the server's dependencies.
type Options struct {
	Verifier identity.Verifier
	Sessions Sessions
	Resolver routing.Resolver
	Launcher Launcher
	Audit    audit.Sink
	Ready    []Check
	Logger   *slog.Logger
	Now      func() time.Time
	// TrustedPrincipal, when set, is asked first for the identity that a
	// trusted front (an API Gateway authorizer) already verified; when it
	// answers false, the bearer token or session is checked as usual.
	// Left nil, nothing but a token or session ever authenticates.
	TrustedPrincipal func(r *http.Request) (*identity.Principal, bool)
	// LaunchLimiter, when set, is asked for one token per launch by
	// username; a refusal is a 429 with Retry-After.
	LaunchLimiter Limiter
	// MaxInFlight caps concurrent requests; past it the server answers 503
	// at once instead of queueing without bound. Default 1024.
	MaxInFlight int
	// Metrics, when set, is updated and served at /metrics (unless
	// MetricsPath is "-", for a separate metrics listener).
	Metrics     *metrics.Metrics
	MetricsPath string
	// Notebooks, when set, opens notebook instance targets (starting them
	// when stopped) and serves the notebook endpoints (notebooks.go).
	Notebooks *notebooks.Manager
}

// Limiter hands out per-key tokens (package ratelimit).
type Limiter interface {
	Allow(key string) (bool, time.Duration)
}

// Server is the gateway's http.Handler.
type Server struct {
	opts    Options
	log     *slog.Logger
	audit   audit.Sink
	now     func() time.Time
	pages   *template.Template
	handler http.Handler
	// inFlight holds one token per request being served.
	inFlight chan struct{}
}

// New builds the handler and its routes.
func New(opts Options) (*Server, error) {
	pages, err := web.Templates()
	if err != nil {
		return nil, err
	}
	if opts.MaxInFlight <= 0 {
		opts.MaxInFlight = 1024
	}
	s := &Server{opts: opts, log: opts.Logger, audit: opts.Audit, now: opts.Now, pages: pages, inFlight: make(chan struct{}, opts.MaxInFlight)}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.audit == nil {
		s.audit = audit.Discard{}
	}
	if s.now == nil {
		s.now = time.Now
	}

	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = w.Write([]byte("ok\n"))
	})
	mux.Handle("GET /readyz", s.handle(s.readyz))
	mux.Handle("GET /static/", http.StripPrefix("/static/", http.FileServerFS(web.Static())))
	if opts.Metrics != nil && opts.MetricsPath != "-" {
		path := opts.MetricsPath
		if path == "" {
			path = "/metrics"
		}
		mux.Handle("GET "+path, opts.Metrics.Handler())
	}

	mux.Handle("GET /studio", s.authed(s.studio))
	mux.Handle("GET /studio/{user}", s.authed(s.studioForUser))
	mux.Handle("GET /launch/{id}", s.authed(s.launchRedirect))
	mux.Handle("GET /api/v1/targets", s.authed(s.listTargets))
	mux.Handle("POST /api/v1/targets/{id}/launch", s.authed(s.launchJSON))
	if opts.Sessions != nil {
		opts.Sessions.Routes(mux)
	}
	s.launcherRoutes(mux)
	s.notebookRoutes(mux)
	mux.Handle("/", s.handle(func(w http.ResponseWriter, r *http.Request) error {
		return notFound(r)
	}))
	s.handler = s.middleware(mux)
	return s, nil
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.handler.ServeHTTP(w, r) }

func (s *Server) readyz(w http.ResponseWriter, r *http.Request) error {
	ctx, cancel := context.WithTimeout(r.Context(), 3*time.Second)
	defer cancel()
	failed, degraded := map[string]string{}, map[string]string{}
	for _, c := range s.opts.Ready {
		if err := c.Func(ctx); err != nil {
			if c.Degraded {
				degraded[c.Name] = err.Error()
			} else {
				failed[c.Name] = err.Error()
			}
		}
	}
	w.Header().Set("Cache-Control", "no-store")
	body := map[string]any{"status": "ready"}
	if len(degraded) > 0 {
		body["status"], body["degraded"] = "degraded", degraded
	}
	if len(failed) > 0 {
		s.log.WarnContext(r.Context(), "not ready", "failed", failed)
		body["status"], body["failed"] = "unavailable", failed
		return writeJSON(w, http.StatusServiceUnavailable, body)
	}
	return writeJSON(w, http.StatusOK, body)
}
