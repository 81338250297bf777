// Package awssim simulates the slice of the AWS control plane that sagegate
// talks to: STS (AssumeRole, GetCallerIdentity), SageMaker (presigned
// Studio URLs, domains, user profiles, notebook instances and their
// lifecycle) and SSM Parameter Store, plus the Studio web app and the
// notebook pages that presigned URLs open.
//
// The simulator speaks the real wire protocols (AWS Query with XML for STS,
// AWS JSON 1.1 for SageMaker, SigV4 on every request) so that the unmodified
// AWS SDK for Go v2 and the AWS CLI work against it through an endpoint
// override. That is the point: `sagegate dev` and the integration tests then
// exercise the same client code that runs against AWS, including signing,
// error decoding and credential expiry.
//
// Both services share one endpoint. Requests are told apart by protocol: an
// X-Amz-Target header means AWS JSON (SageMaker), anything else is AWS Query
// (STS). The request path is never used for dispatch, so the handler can be
// mounted under any prefix.
//
// Wiring, as `sagegate dev` would do it:
//
//	sim := awssim.New(awssim.Options{Logger: log, StudioBaseURL: "http://127.0.0.1:8080/dev/studio"})
//	sim.AddCaller(awssim.Caller{AccessKeyID: "AKIA...", SecretAccessKey: "...", AccountID: "000000000000"})
//	sim.AddAccount(awssim.Account{ID: "111111111111", Roles: ..., Domains: ...})
//	mux.Handle("/dev/aws", sim.APIHandler())
//	mux.Handle("/dev/aws/", sim.APIHandler()) // in case a client adds a slash
//	mux.Handle("/dev/studio/", sim.StudioHandler())
//	mux.Handle("/dev/calls", sim.CallsHandler())
//
// and both clients get the same endpoint, which the SDK keeps path and all:
//
//	sts.NewFromConfig(cfg, func(o *sts.Options) { o.BaseEndpoint = aws.String("http://127.0.0.1:8080/dev/aws") })
//	sagemaker.NewFromConfig(cfg, func(o *sagemaker.Options) { o.BaseEndpoint = aws.String("http://127.0.0.1:8080/dev/aws") })
//
// (or AWS_ENDPOINT_URL=http://127.0.0.1:8080/dev/aws with config.LoadDefaultConfig,
// or `aws --endpoint-url http://127.0.0.1:8080/dev/aws ...`).
//
// The SDK signs with the real clock. The simulator sends its own clock in
// every response's Date header, from which the SDK learns the offset, so a
// test clock that runs ahead of real time costs at most one failed call
// per client (none with the SDK's default retryer).
package awssim

import (
	"log/slog"
	"net/url"
	"strings"
	"sync"
	"time"
)

// Options configures a Simulator.
type Options struct {
	// Now is the clock for credential expiry, presigned URL expiry, Studio
	// sessions and the SigV4 clock-skew check. Default time.Now.
	Now func() time.Time
	// Logger receives one line per API call and per Studio sign-in. It never
	// sees secrets. Default: discard.
	Logger *slog.Logger
	// StudioBaseURL is the external URL under which StudioHandler is served,
	// e.g. "http://127.0.0.1:8080/dev/studio". Presigned URLs point below it.
	// Default "http://127.0.0.1/studio".
	StudioBaseURL string
	// NotebookBaseURL is where NotebookHandler is served, e.g.
	// "http://127.0.0.1:8080/dev/notebooks"; presigned notebook URLs point
	// below it. Default "http://127.0.0.1/notebooks".
	NotebookBaseURL string
}

// Caller is a long-term identity (an IAM user's access key) that may call
// the simulated APIs directly; in sagegate it is the gateway's own identity.
type Caller struct {
	AccessKeyID     string
	SecretAccessKey string
	AccountID       string
	// ARN of the identity, e.g. "arn:aws:iam::000000000000:user/sagegate".
	// Default: an IAM user named "sagegate" in AccountID.
	ARN string
}

// Role is an IAM role that callers may assume.
type Role struct {
	// Name is the role name, optionally preceded by its IAM path
	// ("teams/ds/access"); role ARNs must match it exactly.
	Name string
	// ExternalID, when set, must be passed by every AssumeRole call.
	ExternalID string
	// TrustedAccounts are the account ids whose principals may assume the
	// role. Empty means any caller known to the simulator.
	TrustedAccounts []string
	// MaxSessionDuration caps DurationSeconds. Zero means one hour, which is
	// IAM's default, so a client asking for longer sessions fails here just
	// as it would against a freshly created role.
	MaxSessionDuration time.Duration
}

// Domain is a SageMaker Studio domain.
type Domain struct {
	ID     string
	Name   string
	Region string // default "us-east-1"
	// AuthMode is "IAM" (default) or "SSO". Presigned URLs need IAM.
	AuthMode string
	// Status is "InService" (default), "Pending", "Failed", ...
	Status       string
	UserProfiles []string
	Spaces       []Space
}

// Space is a Studio space. An empty OwnerProfile makes it a shared space;
// otherwise it is private to that user profile.
type Space struct {
	Name         string
	OwnerProfile string
}

// Account is one simulated AWS account with its roles and Studio domains.
type Account struct {
	ID      string
	Roles   []Role
	Domains []Domain
}

const (
	defaultRegion     = "us-east-1"
	defaultStudioBase = "http://127.0.0.1/studio"
	// defaultNotebookBase is where presigned notebook URLs point by default.
	defaultNotebookBase = "http://127.0.0.1/notebooks"
	// maxClockSkew is how far a request's signing time may be from the
	// simulator's clock, as on AWS.
	maxClockSkew = 5 * time.Minute
)

// Simulator is a simulated STS + SageMaker control plane. It is safe for
// concurrent use.
type Simulator struct {
	now    func() time.Time
	log    *slog.Logger
	studio studioBase

	smOps  map[string]smHandler
	ssmOps map[string]smHandler

	mu             sync.Mutex
	callers        map[string]Caller       // by access key id
	accounts       map[string]*account     // by account id
	sessions       map[string]*session     // temporary credentials, by access key id
	tokens         map[string]*studioToken // presigned URL tokens
	studioSessions map[string]*studioSession
	lastPrune      time.Time

	calls   callRecorder
	faults  faultSet
	created createdResources // user profiles and spaces made through the API

	// Notebook instances (notebooks.go), their presigned URLs and
	// sessions (notebookpage.go, under mu), and SSM parameters (ssm.go).
	notebookBase     studioBase
	nb               notebookState
	notebookTokens   map[string]*notebookToken
	notebookSessions map[string]*notebookSession
	ssm              ssmState
}

// studioBase is StudioBaseURL taken apart once.
type studioBase struct {
	url    string // without trailing slash
	path   string // decoded path part, without trailing slash ("" for root)
	secure bool
}

// New returns an empty Simulator; add callers and accounts before use.
func New(opts Options) *Simulator {
	s := &Simulator{
		now:            opts.Now,
		log:            opts.Logger,
		callers:        make(map[string]Caller),
		accounts:       make(map[string]*account),
		sessions:       make(map[string]*session),
		tokens:         make(map[string]*studioToken),
		studioSessions: make(map[string]*studioSession),

		notebookTokens:   make(map[string]*notebookToken),
		notebookSessions: make(map[string]*notebookSession),
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	s.studio = parseStudioBase(opts.StudioBaseURL)
	if opts.NotebookBaseURL == "" {
		opts.NotebookBaseURL = defaultNotebookBase
	}
	s.notebookBase = parseStudioBase(opts.NotebookBaseURL)
	s.smOps = s.sageMakerOperations()
	s.ssmOps = s.ssmOperations()
	return s
}

func parseStudioBase(raw string) studioBase {
	if raw == "" {
		raw = defaultStudioBase
	}
	raw = strings.TrimRight(raw, "/")
	b := studioBase{url: raw}
	if u, err := url.Parse(raw); err == nil {
		b.path = strings.TrimRight(u.Path, "/")
		b.secure = u.Scheme == "https"
	}
	return b
}

// AddCaller registers (or replaces) a long-term access key.
func (s *Simulator) AddCaller(c Caller) {
	if c.ARN == "" {
		c.ARN = "arn:aws:iam::" + c.AccountID + ":user/sagegate"
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.callers[c.AccessKeyID] = c
}

// AddAccount registers an account, replacing any account with the same id
// (its roles and domains; credentials already issued stay valid, as they
// would on AWS).
func (s *Simulator) AddAccount(a Account) {
	acct := newAccount(a, s.now())
	s.mu.Lock()
	defer s.mu.Unlock()
	s.accounts[a.ID] = acct
}
