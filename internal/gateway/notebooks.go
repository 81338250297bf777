package gateway

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/sagegate/sagegate/internal/audit"
	"github.com/sagegate/sagegate/internal/broker"
	"github.com/sagegate/sagegate/internal/config"
	"github.com/sagegate/sagegate/internal/metrics"
	"github.com/sagegate/sagegate/internal/notebooks"
	"github.com/sagegate/sagegate/internal/routing"
	"github.com/sagegate/sagegate/internal/routing/backend"
)

// newBroker is the broker of cfg: the gateway's, the notebooks CLI's and
// the events Lambda's alike.
func newBroker(cfg *config.Config, awsCfg aws.Config, now func() time.Time, log *slog.Logger, m *metrics.Metrics) *broker.Broker {
	return broker.New(awsCfg, broker.Options{
		CallTimeout:       cfg.AWS.CallTimeout.D(),
		MaxAttempts:       cfg.AWS.MaxAttempts,
		SessionDuration:   cfg.AWS.AssumeRoleDuration.D(),
		STSEndpoint:       cfg.AWS.Endpoints.STS,
		SageMakerEndpoint: cfg.AWS.Endpoints.SageMaker,
		SSMEndpoint:       cfg.AWS.Endpoints.SSM,
		Now:               now,
		Logger:            log.With("component", "broker"),
		Metrics:           m,

		MaxConcurrentPerAccount: cfg.Limits.AccountConcurrency,
		CacheSize:               cfg.Limits.CredentialSessions,
		BreakerThreshold:        cfg.Limits.BreakerThreshold,
		BreakerCooldown:         cfg.Limits.BreakerCooldown.D(),
	})
}

// newNotebooks is the notebooks.Manager of cfg over b and store.
func newNotebooks(cfg *config.Config, b *broker.Broker, store routing.Store, sink audit.Sink, userChanged func(string),
	sleep func(context.Context, time.Duration) error, now func() time.Time, log *slog.Logger) *notebooks.Manager {
	n := cfg.Notebooks
	return notebooks.New(notebooks.Options{
		Control: b, Store: store, Audit: sink, UserChanged: userChanged, Sleep: sleep,
		WaitTimeout: n.WaitTimeout.D(), PollInterval: n.PollInterval.D(),
		AdminGroups: n.AdminGroups, SSMPublish: n.SSM.Publish, SSMKeyID: n.SSM.KMSKeyID,
		Now: now, Logger: log.With("component", "notebooks"),
	})
}

// Notebooks is what works on notebooks without the HTTP gateway: the
// `sagegate notebooks` CLI and the Lambda events role.
type Notebooks struct {
	Manager *notebooks.Manager
	Store   routing.Store
	closers []io.Closer
}

// Close releases files opened for audit output.
func (n *Notebooks) Close() error { return closeAll(n.closers) }

// openStore loads the AWS configuration and opens the routes it names.
func openStore(ctx context.Context, cfg *config.Config, deps Deps) (aws.Config, routing.Store, error) {
	awsCfg, err := loadAWS(ctx, cfg, deps.AWS)
	if err != nil {
		return aws.Config{}, nil, err
	}
	store, err := backend.Open(cfg, awsCfg, backend.Serve, deps.Logger)
	return awsCfg, store, err
}

// closeAll closes every c, reporting what failed: a failed close of an
// audit file can mean records that never reached it.
func closeAll(cs []io.Closer) error {
	var errs []error
	for _, c := range cs {
		errs = append(errs, c.Close())
	}
	return errors.Join(errs...)
}

// auditSink is the configured audit sink (AuditSink) as deps decorate it.
func (d Deps) auditSink(cfg *config.Config) (audit.Sink, io.Closer, error) {
	sink, closer, err := AuditSink(cfg, d.AuditWriter)
	if err != nil {
		return nil, nil, err
	}
	if d.WrapAudit != nil {
		sink = d.WrapAudit(sink)
	}
	return sink, closer, nil
}

// withDefaults fills what deps leave out: a logger that discards, the
// real clock.
func (d Deps) withDefaults() Deps {
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	return d
}

// BuildNotebooks wires a notebooks.Manager from cfg as Build does for the
// gateway (same broker, store and audit), with no network I/O.
func BuildNotebooks(ctx context.Context, cfg *config.Config, deps Deps) (*Notebooks, error) {
	deps = deps.withDefaults()
	log, now := deps.Logger, deps.Now
	awsCfg, store, err := openStore(ctx, cfg, deps)
	if err != nil {
		return nil, err
	}
	sink, closer, err := deps.auditSink(cfg)
	if err != nil {
		return nil, err
	}
	n := &Notebooks{Store: store}
	if closer != nil {
		n.closers = append(n.closers, closer)
	}
	n.Manager = newNotebooks(cfg, newBroker(cfg, awsCfg, now, log, nil), store, sink, nil, deps.NotebookSleep, now, log)
	// First to close: its background waits write audit records.
	n.closers = append([]io.Closer{n.Manager}, n.closers...)
	return n, nil
}
