// Package notebooks is the lifecycle of SageMaker notebook instance
// targets: opening one (starting it when it is stopped, waiting while it is
// busy, with one shared wait per instance however many people click),
// vending people their own instances from per-LOB templates, recording
// instances provisioned through Service Catalog, publishing presigned URLs
// to SSM for the AWS sample's tools, and stopping instances nobody uses.
//
// Every AWS call goes through a Control (the broker), so it runs with the
// person's assumed-role session in the target's account, under the same
// concurrency caps and circuit breakers as a Studio launch.
package notebooks

import (
	"context"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/sagegate/sagegate/internal/audit"
	"github.com/sagegate/sagegate/internal/broker"
	"github.com/sagegate/sagegate/internal/identity"
	"github.com/sagegate/sagegate/internal/routing"
)

// Control is the AWS side of notebooks; *broker.Broker implements it.
type Control interface {
	DescribeNotebook(ctx context.Context, p *identity.Principal, t routing.Target) (broker.NotebookInstance, error)
	StartNotebook(ctx context.Context, p *identity.Principal, t routing.Target) error
	StopNotebook(ctx context.Context, p *identity.Principal, t routing.Target) error
	DeleteNotebook(ctx context.Context, p *identity.Principal, t routing.Target) error
	CreateNotebook(ctx context.Context, p *identity.Principal, t routing.Target, spec broker.NotebookSpec) error
	ListNotebooks(ctx context.Context, p *identity.Principal, t routing.Target, f broker.NotebookFilter) ([]broker.NotebookInstance, error)
	NotebookTags(ctx context.Context, p *identity.Principal, t routing.Target, arn string) (map[string]string, error)
	TagNotebook(ctx context.Context, p *identity.Principal, t routing.Target, arn string, tags map[string]string) error
	PresignNotebook(ctx context.Context, p *identity.Principal, t routing.Target) (broker.Result, error)
	PutSecureParameter(ctx context.Context, p *identity.Principal, t routing.Target, name, value, kmsKeyID string) error
}

var _ Control = (*broker.Broker)(nil)

// Tags sagegate puts on (and reads from) notebook instances.
const (
	TagUser     = broker.TagUser
	TagLOB      = broker.TagLOB
	TagTemplate = "sagegate:template"
	// TagLastLaunch holds when the instance was last opened through
	// sagegate (RFC 3339, UTC); the reaper reads it.
	TagLastLaunch = "sagegate:last-launch"
)

// Notebook instance statuses, as DescribeNotebookInstance says them, and
// the one sagegate adds for an instance that does not exist yet.
const (
	StatePending   = "Pending"
	StateInService = "InService"
	StateStopping  = "Stopping"
	StateStopped   = "Stopped"
	StateFailed    = "Failed"
	StateDeleting  = "Deleting"
	StateUpdating  = "Updating"
	// StateNotCreated is a template target whose instance does not exist
	// yet (it is created on first open), or a Service Catalog one that is
	// still being provisioned.
	StateNotCreated = "Not created"
)

// Options are the Manager's dependencies and tuning. Zero values get the
// documented defaults.
type Options struct {
	Control Control
	// Store is where vended and provisioned notebooks are recorded (the
	// routing store). Nil, or a read-only store, only allows vending each
	// person's first notebook per template, which needs no record.
	Store routing.Store
	// UserChanged, when set, is told of every user record the Manager
	// writes (a routing cache drops its copy).
	UserChanged func(user string)
	Audit       audit.Sink
	// WaitTimeout bounds one wait for an instance to be InService. Default 15m.
	WaitTimeout time.Duration
	// PollInterval is the time between two describes while waiting. Default 5s.
	PollInterval time.Duration
	// Sleep waits between polls; tests replace it to move a fake clock.
	// Default: a timer that ctx can cut short.
	Sleep func(ctx context.Context, d time.Duration) error
	// AdminGroups are IdP groups whose members may act on anyone's notebook.
	AdminGroups []string
	// SSMPublish and SSMKeyID: POST /refreshurl also writes the URL to
	// SSM Parameter Store (publish.go).
	SSMPublish bool
	SSMKeyID   string
	// StateTTL is how long the launcher page trusts a described state.
	// Default 5s.
	StateTTL time.Duration
	// LaunchTagEvery is how often one instance's last-launch tag is
	// rewritten at most. Default 5m: ample for idle times of hours.
	LaunchTagEvery time.Duration
	Now            func() time.Time
	Logger         *slog.Logger
}

// Manager runs notebook lifecycles. It is safe for concurrent use.
type Manager struct {
	opts  Options
	ctl   Control
	log   *slog.Logger
	audit audit.Sink
	now   func() time.Time

	mu      sync.Mutex
	flights map[string]*Flight
	// states caches described states for the launcher page.
	states map[string]cachedState
	// tagged remembers when each instance's last-launch tag was written.
	tagged map[string]time.Time

	// closing ends the background waits (Close); waits counts them.
	closing  context.Context
	endWaits context.CancelFunc
	waits    sync.WaitGroup
}

type cachedState struct {
	state string
	at    time.Time
}

// New returns a Manager.
func New(opts Options) *Manager {
	if opts.WaitTimeout <= 0 {
		opts.WaitTimeout = 15 * time.Minute
	}
	if opts.PollInterval <= 0 {
		opts.PollInterval = 5 * time.Second
	}
	if opts.Sleep == nil {
		opts.Sleep = broker.Sleep
	}
	if opts.StateTTL <= 0 {
		opts.StateTTL = 5 * time.Second
	}
	if opts.LaunchTagEvery <= 0 {
		opts.LaunchTagEvery = 5 * time.Minute
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Audit == nil {
		opts.Audit = audit.Discard{}
	}
	closing, endWaits := context.WithCancel(context.Background())
	return &Manager{
		opts: opts, ctl: opts.Control, log: opts.Logger, audit: opts.Audit, now: opts.Now,
		flights: map[string]*Flight{}, states: map[string]cachedState{}, tagged: map[string]time.Time{},
		closing: closing, endWaits: endWaits,
	}
}

// Close ends the waits still going on in the background and returns when
// they have: a gateway shutting down must not leave them polling AWS, or
// writing audit records after its audit file is closed. Their flights end
// with a 503 that says so (the instances go on starting in AWS), and a
// flight asked for after Close ends at once, without an AWS call.
func (m *Manager) Close() error {
	m.mu.Lock()
	m.endWaits()
	m.mu.Unlock()
	m.waits.Wait()
	return nil
}

// IsAdmin reports whether p is in one of the notebook admin groups.
func (m *Manager) IsAdmin(p *identity.Principal) bool {
	for _, g := range p.Groups {
		if slices.Contains(m.opts.AdminGroups, g) {
			return true
		}
	}
	return false
}

// MayManage reports whether p may stop (or otherwise act on) t: their own
// notebook, or anyone's for an admin. A LOB's shared notebook is the
// admins' alone.
func (m *Manager) MayManage(p *identity.Principal, t routing.Target) bool {
	return t.Owner != "" && t.Owner == p.Username || m.IsAdmin(p)
}

// instanceKey names an instance across accounts and regions.
func instanceKey(t routing.Target) string {
	return t.AccountID + "/" + t.Region + "/" + t.NotebookInstance
}
