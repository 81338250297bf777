// Package lambda runs sagegate as an AWS Lambda function (the `bootstrap`
// of a provided.al2023 function, arm64 or x86_64). One binary plays one of
// three roles, chosen by SAGEGATE_LAMBDA_ROLE:
//
//   - http: the gateway's HTTP handler behind API Gateway or an ALB
//     (package apigw);
//   - authorizer: an API Gateway Lambda authorizer (package authorizer);
//   - events: an EventBridge handler (package events).
//
// Lambda stays at the edge: each role adapts events to the same code that
// `sagegate serve` runs, built from the same configuration file.
package lambda

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	awslambda "github.com/aws/aws-lambda-go/lambda"

	"github.com/sagegate/sagegate/internal/audit"
	"github.com/sagegate/sagegate/internal/config"
	"github.com/sagegate/sagegate/internal/gateway"
	"github.com/sagegate/sagegate/internal/lambda/apigw"
	"github.com/sagegate/sagegate/internal/lambda/authorizer"
	"github.com/sagegate/sagegate/internal/lambda/emf"
	"github.com/sagegate/sagegate/internal/lambda/events"
	"github.com/sagegate/sagegate/internal/notebooks"
)

// Role is what the function does.
type Role string

// Roles.
const (
	RoleHTTP       Role = "http"
	RoleAuthorizer Role = "authorizer"
	RoleEvents     Role = "events"
)

// Environment variables.
const (
	EnvRuntimeAPI = "AWS_LAMBDA_RUNTIME_API" // set by Lambda: we are in a function
	EnvRole       = "SAGEGATE_LAMBDA_ROLE"
	EnvConfig     = "SAGEGATE_CONFIG"
	envTaskRoot   = "LAMBDA_TASK_ROOT" // where the deployment package is unpacked
)

// ConfigFile is the name of the configuration file in the deployment
// package, the default when SAGEGATE_CONFIG is not set.
const ConfigFile = "sagegate.yaml"

// Env is os.LookupEnv's shape.
type Env func(string) (string, bool)

// RoleFrom reads SAGEGATE_LAMBDA_ROLE.
func RoleFrom(env Env) (Role, error) {
	v, _ := env(EnvRole)
	switch r := Role(v); r {
	case RoleHTTP, RoleAuthorizer, RoleEvents:
		return r, nil
	case "":
		return "", fmt.Errorf("%s is not set (want http, authorizer or events)", EnvRole)
	default:
		return "", fmt.Errorf("%s=%q: want http, authorizer or events", EnvRole, v)
	}
}

// ConfigPath is SAGEGATE_CONFIG, else sagegate.yaml in the deployment
// package ($LAMBDA_TASK_ROOT, /var/task).
func ConfigPath(env Env) string {
	if p, ok := env(EnvConfig); ok && p != "" {
		return p
	}
	root, ok := env(envTaskRoot)
	if !ok || root == "" {
		root = "/var/task"
	}
	return filepath.Join(root, ConfigFile)
}

// Deps are what the environment provides.
type Deps struct {
	Logger *slog.Logger
	// Stdout receives the embedded-metric-format lines. Default os.Stdout.
	Stdout io.Writer
	// Provision handles ProvisionProduct events (role events). Nil records
	// provisioned notebooks in the routes (notebooks.Provisioner) and stops
	// idle notebooks on scheduled events.
	Provision events.ProvisionHandler
	Now       func() time.Time
}

// Function is a built Lambda function.
type Function struct {
	Handler awslambda.Handler
	closers []io.Closer
}

// Close releases what the function opened (audit files).
func (f *Function) Close() error {
	for _, c := range f.closers {
		_ = c.Close()
	}
	return nil
}

// New builds the handler of role from cfg. Like gateway.Build it does no
// network I/O, which keeps the cold start short: signing keys are fetched
// by the first invocation that needs them.
func New(ctx context.Context, role Role, cfg *config.Config, deps Deps) (*Function, error) {
	log := deps.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	out := deps.Stdout
	if out == nil {
		out = os.Stdout
	}
	withMetrics := func(s audit.Sink) audit.Sink { return emf.NewSink(s, out, cfg.Lambda.MetricsNamespace) }
	log = log.With("role", string(role))

	switch role {
	case RoleHTTP:
		gw, err := gateway.Build(ctx, cfg, gateway.Deps{
			Logger:    log,
			Now:       deps.Now,
			WrapAudit: withMetrics,
			// Metrics go out as EMF lines; nothing would scrape Prometheus.
			// Nor does anything run in the background: Lambda freezes the
			// process between invocations.
			NoMetrics:        true,
			TrustedPrincipal: apigw.Trust(cfg.Lambda.TrustAuthorizerContext, cfg.Identity.Providers, log.With("component", "apigw")),
		})
		if err != nil {
			return nil, err
		}
		return &Function{Handler: apigw.Handler(gw.Handler, apigw.Options{BasePath: cfg.Lambda.BasePath}), closers: []io.Closer{gw}}, nil

	case RoleAuthorizer:
		now := deps.Now
		if now == nil {
			now = time.Now
		}
		v, err := gateway.NewVerifier(ctx, cfg, log, now, nil)
		if err != nil {
			return nil, err
		}
		sink, closer, err := gateway.AuditSink(cfg, nil)
		if err != nil {
			return nil, err
		}
		f := &Function{Handler: authorizer.New(authorizer.Options{
			Verifier:        v,
			Audit:           withMetrics(sink),
			HTTPAPIResponse: cfg.Lambda.HTTPAPIAuthorizerResponse,
			Logger:          log.With("component", "authorizer"),
			Now:             now,
		})}
		if closer != nil {
			f.closers = append(f.closers, closer)
		}
		return f, nil

	case RoleEvents:
		opts := events.Options{Provision: deps.Provision, Logger: log.With("component", "events")}
		f := &Function{}
		if opts.Provision == nil {
			// Provisioned notebooks are recorded in the routes, and idle
			// ones stopped on a schedule (package notebooks).
			nb, err := gateway.BuildNotebooks(ctx, cfg, gateway.Deps{Logger: log, Now: deps.Now, WrapAudit: withMetrics})
			if err != nil {
				return nil, err
			}
			f.closers = append(f.closers, nb)
			opts.Provision = nb.Manager.Provisioner(notebooks.ProvisionOptions{})
			opts.Schedule = nb.Manager.ScheduledReaper(notebooks.ReapOptions{Idle: cfg.Notebooks.Reaper.Idle.D(), Apply: cfg.Notebooks.Reaper.Apply})
		}
		f.Handler = events.New(opts)
		return f, nil
	}
	return nil, fmt.Errorf("unknown Lambda role %q", role)
}

// Start runs the Lambda Runtime API loop with h and never returns: when the
// loop fails, aws-lambda-go ends the process, and Lambda starts another.
func Start(ctx context.Context, h awslambda.Handler) {
	awslambda.StartWithOptions(h, awslambda.WithContext(ctx))
}
