// Package gateway assembles a running sagegate from a validated Config:
// verifier, routes, broker, browser sessions, audit and the HTTP server.
// `sagegate serve` and `sagegate dev` both build through it, so the sandbox
// exercises exactly the production wiring.
package gateway

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"

	"github.com/sagegate/sagegate/internal/audit"
	"github.com/sagegate/sagegate/internal/broker"
	"github.com/sagegate/sagegate/internal/config"
	"github.com/sagegate/sagegate/internal/identity"
	"github.com/sagegate/sagegate/internal/metrics"
	"github.com/sagegate/sagegate/internal/notebooks"
	"github.com/sagegate/sagegate/internal/ratelimit"
	"github.com/sagegate/sagegate/internal/routing"
	"github.com/sagegate/sagegate/internal/routing/backend"
	"github.com/sagegate/sagegate/internal/routing/cache"
	"github.com/sagegate/sagegate/internal/server"
	"github.com/sagegate/sagegate/internal/session"
)

// Deps are what the environment provides rather than the file.
type Deps struct {
	Logger *slog.Logger
	// AWS replaces the default credential chain (the sandbox passes the
	// simulator's static keys). Nil loads the SDK's default config.
	AWS *aws.Config
	// AuditWriter replaces the configured audit output (tests).
	AuditWriter io.Writer
	Now         func() time.Time
	// WrapAudit decorates the audit sink (Lambda adds CloudWatch metrics).
	WrapAudit func(audit.Sink) audit.Sink
	// TrustedPrincipal becomes server.Options.TrustedPrincipal: only Lambda
	// mode sets it, and only when the configuration says so.
	TrustedPrincipal func(*http.Request) (*identity.Principal, bool)
	// NoMetrics leaves Prometheus out (Lambda reports through EMF).
	NoMetrics bool
	// NotebookSleep replaces the wait between two polls of a starting
	// notebook (tests move a fake clock instead).
	NotebookSleep func(ctx context.Context, d time.Duration) error
}

// Gateway is a built sagegate.
type Gateway struct {
	Handler  http.Handler
	Verifier *identity.MultiVerifier
	Broker   *broker.Broker
	// Metrics is nil when metrics are disabled.
	Metrics *metrics.Metrics
	// Notebooks runs notebook instance targets (starts, waits, vending).
	Notebooks *notebooks.Manager
	closers   []io.Closer
}

// Close releases files opened for audit output.
func (g *Gateway) Close() error { return closeAll(g.closers) }

// Build wires everything. It does no network I/O: signing keys are
// fetched on first use, so it may run before an in-process issuer listens.
func Build(ctx context.Context, cfg *config.Config, deps Deps) (_ *Gateway, err error) {
	deps = deps.withDefaults()
	log, now := deps.Logger, deps.Now
	g := &Gateway{}
	// A failure after the audit file was opened must not leave it open.
	defer func() {
		if err != nil {
			_ = g.Close()
		}
	}()
	if !cfg.Metrics.Disabled && !deps.NoMetrics {
		g.Metrics = metrics.New()
	}

	verifier, err := NewVerifier(ctx, cfg, log, now, g.Metrics.JWKSRefresh)
	if err != nil {
		return nil, err
	}
	g.Verifier = verifier

	awsCfg, store, err := openStore(ctx, cfg, deps)
	if err != nil {
		return nil, err
	}
	// A remote store gets a cache, so that a launch in steady state reads
	// nothing from it.
	reader := backend.Reader(cfg, store, now, log, g.Metrics)
	resolver := routing.NewResolver(reader, log.With("component", "routing"))
	g.Broker = newBroker(cfg, awsCfg, now, log, g.Metrics)

	sink, closer, err := deps.auditSink(cfg)
	if err != nil {
		return nil, err
	}
	if closer != nil {
		g.closers = append(g.closers, closer)
	}
	var userChanged func(string)
	if c, ok := reader.(*cache.Cache); ok {
		userChanged = c.ForgetUser
	}
	g.Notebooks = newNotebooks(cfg, g.Broker, store, sink, userChanged, deps.NotebookSleep, now, log)
	// First to close: its background waits write audit records.
	g.closers = append([]io.Closer{g.Notebooks}, g.closers...)

	// The session manager renders its errors through the server, which is
	// built after it; the indirection breaks the cycle.
	var srv *server.Server
	render := func(w http.ResponseWriter, r *http.Request, err error) { srv.Render(w, r, err) }
	// Each launch presents the same token again: verify it once per
	// token and bound how long a withdrawn key keeps working.
	tokens := identity.NewCache(verifier, 50_000, tokenCacheTTL, now)
	tokens.OnLookup = func(hit bool) {
		if hit {
			g.Metrics.Cache("token", "hit")
		} else {
			g.Metrics.Cache("token", "miss")
		}
	}
	opts := server.Options{
		Verifier: tokens,
		Resolver: resolver,
		Launcher: g.Broker,
		Audit:    sink,
		Logger:   log.With("component", "http"),
		Now:      now,
		Ready: []server.Check{
			{Name: "identity", Func: verifier.Ready},
			{Name: "aws", Func: g.Broker.Health, Degraded: true},
		},

		TrustedPrincipal: deps.TrustedPrincipal,

		LaunchLimiter: ratelimit.New(cfg.Limits.LaunchesPerMinute/60, cfg.Limits.LaunchBurst, 100_000, now),
		MaxInFlight:   cfg.Limits.MaxInFlight,
		Metrics:       g.Metrics,
		Notebooks:     g.Notebooks,
	}
	if cfg.Metrics.Addr != "" {
		opts.MetricsPath = "-" // served by RunMetrics on its own listener
	}
	if cfg.Login != nil {
		sessions, err := newSessions(cfg, verifier, render, now, log)
		if err != nil {
			return nil, err
		}
		opts.Sessions = sessions
	}
	srv, err = server.New(opts)
	if err != nil {
		return nil, err
	}
	g.Handler = srv
	return g, nil
}

// tokenCacheTTL bounds how long a verified token is trusted without a
// signature check, and so how long it outlives its signing key's removal.
const tokenCacheTTL = 5 * time.Minute

// Run does the gateway's background work until ctx ends: keeping the
// credentials of active people fresh so no launch waits on STS.
func (g *Gateway) Run(ctx context.Context) { g.Broker.Run(ctx) }

// NewVerifier builds the token verifier of cfg; the Lambda authorizer
// needs it without the rest of the gateway.
func NewVerifier(ctx context.Context, cfg *config.Config, log *slog.Logger, now func() time.Time, onKeyFetch func(string, error)) (*identity.MultiVerifier, error) {
	return identity.NewVerifier(ctx, cfg.Identity.Providers, identity.Options{
		Algorithms:      cfg.Identity.Algorithms,
		Leeway:          cfg.Identity.Leeway.D(),
		RefreshCooldown: cfg.Identity.JWKSRefreshCooldown.D(),
		HTTPClient:      &http.Client{Timeout: fetchTimeout(cfg)},
		Now:             now,
		Logger:          log.With("component", "identity"),
		OnKeyFetch:      onKeyFetch,
	})
}

func fetchTimeout(cfg *config.Config) time.Duration {
	if t := cfg.Identity.FetchTimeout.D(); t > 0 {
		return t
	}
	return 5 * time.Second
}

func loadAWS(ctx context.Context, cfg *config.Config, override *aws.Config) (aws.Config, error) {
	if override != nil {
		c := override.Copy()
		if c.Region == "" {
			c.Region = cfg.AWS.Region
		}
		return c, nil
	}
	c, err := awsconfig.LoadDefaultConfig(ctx, awsconfig.WithRegion(cfg.AWS.Region))
	if err != nil {
		return aws.Config{}, fmt.Errorf("loading AWS configuration: %w", err)
	}
	return c, nil
}

// AuditSink opens the configured audit output, or w when not nil. The
// closer, when not nil, must be closed when done.
func AuditSink(cfg *config.Config, w io.Writer) (audit.Sink, io.Closer, error) {
	if w != nil {
		return audit.NewLogger(w), nil, nil
	}
	switch cfg.Audit.Output {
	case "stdout":
		return audit.NewLogger(os.Stdout), nil, nil
	case "stderr":
		return audit.NewLogger(os.Stderr), nil, nil
	}
	f, err := os.OpenFile(cfg.Audit.Output, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		return nil, nil, fmt.Errorf("audit.output: %w", err)
	}
	return audit.NewLogger(f), f, nil
}

func newSessions(cfg *config.Config, v identity.Verifier, render func(http.ResponseWriter, *http.Request, error), now func() time.Time, log *slog.Logger) (*session.Manager, error) {
	l := cfg.Login
	keys := make([][]byte, 0, len(l.CookieKeys))
	for _, k := range l.CookieKeys {
		b, err := session.KeyFromString(k)
		if err != nil {
			return nil, fmt.Errorf("login.cookieKeys: %w", err)
		}
		keys = append(keys, b)
	}
	codec, err := session.NewCodec(keys)
	if err != nil {
		return nil, err
	}
	issuer := l.Issuer
	if issuer == "" {
		for _, p := range cfg.Identity.Providers {
			if p.Name == l.Provider {
				issuer = p.WithDefaults().Issuer
			}
		}
	}
	return session.New(session.Options{
		Codec: codec,
		Login: session.LoginConfig{
			Issuer: issuer, ClientID: l.ClientID, ClientSecret: l.ClientSecret, Scopes: l.Scopes,
			AuthURL: l.AuthURL, TokenURL: l.TokenURL, LogoutURL: l.LogoutURL, VerifyToken: l.VerifyToken,
			PostLogoutRedirectURL: cfg.Server.PublicURL + "/",
		},
		Verifier:    v,
		PublicURL:   cfg.Server.PublicURL,
		IdleTTL:     l.IdleTTL.D(),
		AbsoluteTTL: l.AbsoluteTTL.D(),
		Now:         now,
		Logger:      log.With("component", "session"),
		Render:      render,
	})
}
