package dynamodb

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	ddb "github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/sagegate/sagegate/internal/routing"
)

// API is the slice of DynamoDB the store calls.
type API interface {
	GetItem(ctx context.Context, in *ddb.GetItemInput, optFns ...func(*ddb.Options)) (*ddb.GetItemOutput, error)
	PutItem(ctx context.Context, in *ddb.PutItemInput, optFns ...func(*ddb.Options)) (*ddb.PutItemOutput, error)
	DeleteItem(ctx context.Context, in *ddb.DeleteItemInput, optFns ...func(*ddb.Options)) (*ddb.DeleteItemOutput, error)
	Scan(ctx context.Context, in *ddb.ScanInput, optFns ...func(*ddb.Options)) (*ddb.ScanOutput, error)
}

// Options tune the store. Zero values get the documented defaults.
type Options struct {
	// CallTimeout bounds each DynamoDB call, retries included. Default 5s.
	CallTimeout time.Duration
	// MaxAttempts bounds the read-modify-write rounds of one update that
	// keeps losing to concurrent writers. Default 50: conflicts come from
	// admins, who are few, and a round costs two small requests.
	MaxAttempts int
	Logger      *slog.Logger
	// API replaces the client built from the AWS configuration.
	API API
}

// Store is a routing.Store over the two DynamoDB tables.
type Store struct {
	cfg      Config
	defaults routing.Defaults
	opts     Options
	api      API
	region   string

	users  *kind[routing.User]
	lobs   *kind[routing.LOB]
	groups *kind[routing.Group]
}

var _ routing.Store = (*Store)(nil)

// New returns a store over the tables c names, reached with awsCfg (its
// credentials; c.Region and c.Endpoint override its region and endpoint).
// LOBs read are normalised with d. It makes no call: a missing table shows
// on first use, and `sagegate routes check` reports it.
func New(awsCfg aws.Config, c Config, d routing.Defaults, opts Options) *Store {
	c = c.WithDefaults()
	if opts.CallTimeout <= 0 {
		opts.CallTimeout = 5 * time.Second
	}
	if opts.MaxAttempts <= 0 {
		opts.MaxAttempts = 50
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	region := c.Region
	if region == "" {
		region = awsCfg.Region
	}
	s := &Store{cfg: c, defaults: d, opts: opts, api: opts.API, region: region}
	if s.api == nil {
		s.api = ddb.NewFromConfig(awsCfg, func(o *ddb.Options) {
			o.Region = region
			if c.Endpoint != "" {
				o.BaseEndpoint = aws.String(c.Endpoint)
			}
		})
	}
	s.users, s.lobs, s.groups = s.userKind(), s.lobKind(), s.groupKind()
	return s
}

// GetUser implements routing.Store.
func (s *Store) GetUser(ctx context.Context, name string) (routing.User, error) {
	return get(ctx, s, s.users, name)
}

// GetLOB implements routing.Store.
func (s *Store) GetLOB(ctx context.Context, name string) (routing.LOB, error) {
	if isGroupKey(name) {
		return routing.LOB{}, routing.NotFoundError(routing.KindLOB, name)
	}
	return get(ctx, s, s.lobs, name)
}

// isGroupKey tells a LOB name that is really a group item's key: a group
// shares the LOBs table, and must not be read or changed as a LOB.
func isGroupKey(name string) bool { return strings.HasPrefix(name, groupPrefix) }

// GetGroup implements routing.Store.
func (s *Store) GetGroup(ctx context.Context, name string) (routing.Group, error) {
	return get(ctx, s, s.groups, name)
}

// GroupLOBs implements routing.Store.
func (s *Store) GroupLOBs(ctx context.Context, group string) ([]string, error) {
	g, err := s.GetGroup(ctx, group)
	if errors.Is(err, routing.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if len(g.LOBs) == 0 {
		return nil, nil
	}
	return g.LOBs, nil
}

// ListUsers implements routing.Store; pages come in the table's order.
func (s *Store) ListUsers(ctx context.Context, o routing.ListOptions) (routing.Page[routing.User], error) {
	return list(ctx, s, s.users, o)
}

// ListLOBs implements routing.Store; pages come in the table's order.
func (s *Store) ListLOBs(ctx context.Context, o routing.ListOptions) (routing.Page[routing.LOB], error) {
	return list(ctx, s, s.lobs, o)
}

// ListGroups implements routing.Store; pages come in the table's order.
func (s *Store) ListGroups(ctx context.Context, o routing.ListOptions) (routing.Page[routing.Group], error) {
	return list(ctx, s, s.groups, o)
}

// CreateUser implements routing.Store.
func (s *Store) CreateUser(ctx context.Context, u routing.User) error {
	return create(ctx, s, s.users, u)
}

// CreateLOB implements routing.Store. l is stored as given: fields it
// leaves empty keep following the deployment's defaults.
func (s *Store) CreateLOB(ctx context.Context, l routing.LOB) error {
	return create(ctx, s, s.lobs, l)
}

// CreateGroup implements routing.Store.
func (s *Store) CreateGroup(ctx context.Context, g routing.Group) error {
	return create(ctx, s, s.groups, g)
}

// UpdateUser implements routing.Store.
func (s *Store) UpdateUser(ctx context.Context, name string, fn func(routing.User) (routing.User, error)) error {
	return update(ctx, s, s.users, name, fn)
}

// UpdateLOB implements routing.Store. fn sees the LOB normalised; fields
// it leaves at their normalised value are written back as they were.
func (s *Store) UpdateLOB(ctx context.Context, name string, fn func(routing.LOB) (routing.LOB, error)) error {
	if isGroupKey(name) {
		return routing.NotFoundError(routing.KindLOB, name)
	}
	return update(ctx, s, s.lobs, name, fn)
}

// UpdateGroup implements routing.Store.
func (s *Store) UpdateGroup(ctx context.Context, name string, fn func(routing.Group) (routing.Group, error)) error {
	return update(ctx, s, s.groups, name, fn)
}

// DeleteUser implements routing.Store.
func (s *Store) DeleteUser(ctx context.Context, name string) error {
	return remove(ctx, s, s.users, name)
}

// DeleteLOB implements routing.Store. Users and groups that name the LOB
// are left alone: the resolver skips a missing LOB, and `sagegate routes
// check` reports the references.
func (s *Store) DeleteLOB(ctx context.Context, name string) error {
	if isGroupKey(name) {
		return routing.NotFoundError(routing.KindLOB, name)
	}
	return remove(ctx, s, s.lobs, name)
}

// DeleteGroup implements routing.Store.
func (s *Store) DeleteGroup(ctx context.Context, name string) error {
	return remove(ctx, s, s.groups, name)
}
