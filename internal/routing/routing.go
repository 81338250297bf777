// Package routing decides what a Principal may open: it turns users, lines of
// business (LOBs) and IdP group mappings into Targets.
//
// The data model is compatible with the AWS multi-account sample (a users
// table user -> LOB and a LOBs table LOB -> account id) and extends it with
// everything a launch needs: region, domain, role, external id, profile-name
// rule, space, landing URI and label.
//
// Routes live in a Store; backends are sub-packages (file, dynamodb) that
// pass one conformance suite (routing/conformance), and all of them share
// the validation and normalisation in this package, so a LOB means the same
// thing whichever backend holds it. routing/cache puts a TTL cache in front
// of a remote backend so that a launch in steady state reads nothing.
package routing

import (
	"context"
	"errors"
	"time"

	"github.com/sagegate/sagegate/internal/identity"
)

// Sentinel errors every Store returns (wrapped or not) so callers can map
// them without knowing the backend.
var (
	ErrNotFound      = errors.New("routing: not found")
	ErrAlreadyExists = errors.New("routing: already exists")
	// ErrInvalid marks a record that fails validation: one being written,
	// or one found in the store (a LOB without an account id, a domain id
	// of the wrong shape). Errors wrapping it name the record's key.
	ErrInvalid = errors.New("routing: invalid record")
	// ErrConflict is returned by an update that lost the race against
	// other writers more times than the backend is willing to retry.
	ErrConflict = errors.New("routing: too many concurrent updates")
	// ErrReadOnly is returned by writes to a backend that cannot change,
	// such as routes written inline in the configuration file.
	ErrReadOnly = errors.New("routing: routes are read-only")
)

// ErrUserDisabled is returned by the resolver for a user whose record is
// disabled. It is distinct from "no targets" so the HTTP layer can answer 403
// rather than 404, and so the audit record says why.
var ErrUserDisabled = errors.New("routing: user disabled")

// Kinds of target.
const (
	KindStudio = "studio"
	// KindNotebook is a SageMaker notebook instance (notebook.go).
	KindNotebook = "notebook"
)

// LOB is one line of business: an AWS account and the Studio domain its
// people open.
type LOB struct {
	// Name is the key of the record; files and tables hold it as the key,
	// so it is omitted from the body when empty.
	Name      string `json:"name,omitempty"`
	AccountID string `json:"accountId"`
	Region    string `json:"region,omitempty"`
	// DomainID may be empty: the broker then discovers the account's one
	// InService domain in Region (the AWS sample's tables carry no domain).
	DomainID string `json:"domainId,omitempty"`
	// RoleARN is the access role sagegate assumes in the account. A bare
	// role name is expanded with the account id by Normalize; empty means
	// Defaults.RoleName.
	RoleARN    string `json:"roleArn,omitempty"`
	ExternalID string `json:"externalId,omitempty"`
	// ProfileRule says how a username becomes a Studio user-profile name;
	// see ProfileName.
	ProfileRule string `json:"profileRule,omitempty"`
	// SessionDuration is the Studio session length (1800..43200 s).
	SessionDuration Duration `json:"sessionDuration,omitempty"`
	// URLLifetime is how long the presigned URL stays usable (5..300 s).
	URLLifetime Duration `json:"urlLifetime,omitempty"`
	Space       string   `json:"space,omitempty"`
	LandingURI  string   `json:"landingUri,omitempty"`
	Label       string   `json:"label,omitempty"`

	// PrivateSpace launches each person into their own private space,
	// named like their user profile, instead of the shared Space.
	PrivateSpace bool `json:"privateSpace,omitempty"`
	// JITProfiles lets sagegate create a person's missing user profile
	// (and private space) on their first launch, tagged sagegate:user and
	// sagegate:lob, instead of answering "ask your platform team".
	JITProfiles bool `json:"jitProfiles,omitempty"`
	// ExecutionRole is the execution role of profiles created just in
	// time; empty means the domain's default.
	ExecutionRole string `json:"executionRole,omitempty"`

	// Notebooks are notebook instances in the LOB's account that every
	// member of the LOB may open (notebook.go).
	Notebooks []NotebookRef `json:"notebooks,omitempty"`
	// NotebookTemplates are what members may vend notebooks from: each
	// gives every member a notebook target of their own, created on first
	// open (notebook.go).
	NotebookTemplates []NotebookTemplate `json:"notebookTemplates,omitempty"`
}

// User is a person's routing record.
type User struct {
	Name string   `json:"name,omitempty"`
	LOBs []string `json:"lobs,omitempty"`
	// Profile overrides the user-profile name derived by the LOB's rule.
	Profile  string `json:"profile,omitempty"`
	Disabled bool   `json:"disabled,omitempty"`
	// Notebooks are the person's own notebook instances, each in the
	// account of the LOB it names (vended, or provisioned through Service
	// Catalog).
	Notebooks []NotebookRef `json:"notebooks,omitempty"`
}

// Group maps an IdP group (a value of the groups claim) to LOBs.
type Group struct {
	Name string   `json:"name"`
	LOBs []string `json:"lobs"`
}

// Target is one thing a person may open, fully resolved for a launch.
type Target struct {
	ID          string `json:"id"`
	Kind        string `json:"kind"`
	Label       string `json:"label"`
	LOB         string `json:"lob"`
	AccountID   string `json:"account"`
	Region      string `json:"region"`
	DomainID    string `json:"domainId"`
	UserProfile string `json:"userProfile"`
	Space       string `json:"space,omitempty"`
	LandingURI  string `json:"landingUri,omitempty"`
	// NotebookInstance is the instance a notebook target opens; Owner is
	// the person it belongs to (empty for a LOB's shared notebook), and
	// Template the LOB template it is vended from, if any.
	NotebookInstance string `json:"notebookInstance,omitempty"`
	Owner            string `json:"owner,omitempty"`
	Template         string `json:"template,omitempty"`

	// Launch parameters; not part of the public JSON.
	RoleARN         string        `json:"-"`
	ExternalID      string        `json:"-"`
	SessionDuration time.Duration `json:"-"`
	URLLifetime     time.Duration `json:"-"`
	// PrivateSpace says Space is the person's own private space.
	PrivateSpace  bool   `json:"-"`
	JITProfiles   bool   `json:"-"`
	ExecutionRole string `json:"-"`
	// NotebookTemplate is the template of a vended notebook, so that the
	// first open can create it.
	NotebookTemplate *NotebookTemplate `json:"-"`
	// ProvisionedProduct is the Service Catalog product that creates the
	// notebook, which a launch then waits for while it does not exist.
	ProvisionedProduct string `json:"-"`
}

// Resolver answers which targets a principal may open.
type Resolver interface {
	Targets(ctx context.Context, p *identity.Principal) ([]Target, error)
}
