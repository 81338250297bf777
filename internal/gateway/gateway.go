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
	"github.com/sagegate/sagegate/internal/routing"
	"github.com/sagegate/sagegate/internal/routing/file"
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
}

// Gateway is a built sagegate.
type Gateway struct {
	Handler  http.Handler
	Verifier *identity.MultiVerifier
	Broker   *broker.Broker
	closers  []io.Closer
}

// Close releases files opened for audit output.
func (g *Gateway) Close() error {
	for _, c := range g.closers {
		_ = c.Close()
	}
	return nil
}

// Build wires everything. It does no network I/O: signing keys are
// fetched on first use, so it may run before an in-process issuer listens.
func Build(ctx context.Context, cfg *config.Config, deps Deps) (*Gateway, error) {
	log := deps.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	now := deps.Now
	if now == nil {
		now = time.Now
	}
	g := &Gateway{}

	verifier, err := identity.NewVerifier(ctx, cfg.Identity.Providers, identity.Options{
		Algorithms:      cfg.Identity.Algorithms,
		Leeway:          cfg.Identity.Leeway.D(),
		RefreshCooldown: cfg.Identity.JWKSRefreshCooldown.D(),
		HTTPClient:      &http.Client{Timeout: fetchTimeout(cfg)},
		Now:             now,
		Logger:          log.With("component", "identity"),
	})
	if err != nil {
		return nil, err
	}
	g.Verifier = verifier

	store, err := newStore(cfg)
	if err != nil {
		return nil, err
	}
	resolver := routing.NewResolver(store, log.With("component", "routing"))

	awsCfg, err := loadAWS(ctx, cfg, deps.AWS)
	if err != nil {
		return nil, err
	}
	g.Broker = broker.New(awsCfg, broker.Options{
		CallTimeout:       cfg.AWS.CallTimeout.D(),
		MaxAttempts:       cfg.AWS.MaxAttempts,
		SessionDuration:   cfg.AWS.AssumeRoleDuration.D(),
		STSEndpoint:       cfg.AWS.Endpoints.STS,
		SageMakerEndpoint: cfg.AWS.Endpoints.SageMaker,
		Now:               now,
		Logger:            log.With("component", "broker"),
	})

	sink, closer, err := auditSink(cfg, deps.AuditWriter)
	if err != nil {
		return nil, err
	}
	if closer != nil {
		g.closers = append(g.closers, closer)
	}

	// The session manager renders its errors through the server, which is
	// built after it; the indirection breaks the cycle.
	var srv *server.Server
	render := func(w http.ResponseWriter, r *http.Request, err error) { srv.Render(w, r, err) }
	opts := server.Options{
		Verifier: verifier,
		Resolver: resolver,
		Launcher: g.Broker,
		Audit:    sink,
		Logger:   log.With("component", "http"),
		Now:      now,
		Ready:    []server.Check{{Name: "identity", Func: verifier.Ready}},
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

func fetchTimeout(cfg *config.Config) time.Duration {
	if t := cfg.Identity.FetchTimeout.D(); t > 0 {
		return t
	}
	return 5 * time.Second
}

func newStore(cfg *config.Config) (routing.Store, error) {
	switch cfg.Routing.Type {
	case "file":
		return file.New(*cfg.Routing.File, cfg.RoutingDefaults())
	}
	return nil, fmt.Errorf("routing.type: unknown backend %q", cfg.Routing.Type)
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

func auditSink(cfg *config.Config, w io.Writer) (audit.Sink, io.Closer, error) {
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
