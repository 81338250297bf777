package file

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/sagegate/sagegate/internal/routing"
)

// errInvalid starts the error New returns for routes it cannot load.
var errInvalid = errors.New("routing/file: invalid routes")

// Store is an in-memory routing.Store over routes held in the configuration
// or in a routes file. Reads load an immutable snapshot and cost a map
// lookup, with no lock: they sit on the launch path.
//
// Writes are for the admin CLI. With Config.Path set they rewrite the routes
// file atomically (a temporary file renamed over it; comments are not
// kept), re-reading it first so that edits made since are not lost; inline
// routes are read-only (routing.ErrReadOnly), because rewriting the main
// configuration file would lose its comments and ${ENV} references. Writers
// in one process are serialised; run one writer process at a time.
type Store struct {
	// path is the routes file, "" for routes inline in the configuration
	// (read-only). The inline routes themselves are not kept: the snapshot
	// holds its own copy.
	path     string
	defaults routing.Defaults

	snap atomic.Pointer[snapshot]
	mu   sync.Mutex // serialises writers
}

var _ routing.Store = (*Store)(nil)

// New validates c (see Config.Validate) and builds a Store from it, with
// every LOB normalised with d. It fails with every problem found, joined:
// a gateway must not start on routes that are partly wrong.
func New(c Config, d routing.Defaults) (*Store, error) {
	s, probs, err := open(c, d)
	if err != nil {
		return nil, err
	}
	if len(probs) > 0 {
		errs := errorsOf(probs)
		if c.Path != "" {
			return nil, fmt.Errorf("%w in %s:\n%w", errInvalid, c.Path, errors.Join(errs...))
		}
		return nil, fmt.Errorf("%w:\n%w", errInvalid, errors.Join(errs...))
	}
	return s, nil
}

// Open builds a Store like New but keeps going past invalid records, which
// its reads and listings then report with their keys (routing.ErrInvalid).
// It is what the admin CLI uses, so that a routes file with one bad record
// can be listed and repaired. Only an unreadable file fails.
func Open(c Config, d routing.Defaults) (*Store, error) {
	s, _, err := open(c, d)
	return s, err
}

func open(c Config, d routing.Defaults) (*Store, []problem, error) {
	r, err := c.load()
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %w", errInvalid, err)
	}
	snap, probs := r.build(d)
	s := &Store{path: c.Path, defaults: d}
	s.snap.Store(snap)
	return s, probs, nil
}

// GetUser implements routing.Store.
func (s *Store) GetUser(_ context.Context, name string) (routing.User, error) {
	snap := s.snap.Load()
	u, ok := snap.users[name]
	if !ok {
		return routing.User{}, snap.missing(routing.KindUser, name)
	}
	// The caller owns what it gets; the store must stay as built.
	return u.Clone(), nil
}

// GetLOB implements routing.Store.
func (s *Store) GetLOB(_ context.Context, name string) (routing.LOB, error) {
	snap := s.snap.Load()
	l, ok := snap.lobs[name]
	if !ok {
		return routing.LOB{}, snap.missing(routing.KindLOB, name)
	}
	return l.Clone(), nil
}

// GroupLOBs implements routing.Store.
func (s *Store) GroupLOBs(_ context.Context, group string) ([]string, error) {
	snap := s.snap.Load()
	if err, bad := snap.bad[recordKey{routing.KindGroup, group}]; bad {
		return nil, err
	}
	lobs := snap.groups[group]
	if len(lobs) == 0 {
		return nil, nil
	}
	return slices.Clone(lobs), nil
}

// GetGroup implements routing.Store.
func (s *Store) GetGroup(_ context.Context, name string) (routing.Group, error) {
	snap := s.snap.Load()
	lobs, ok := snap.groups[name]
	if !ok {
		return routing.Group{}, snap.missing(routing.KindGroup, name)
	}
	// A group listed with no LOBs exists, granting nothing: [], not null.
	return routing.Group{Name: name, LOBs: storedLOBs(lobs)}, nil
}

// missing is the error for a key that is not among the valid records: the
// record's validation error if it is a bad one, else not-found.
func (snap *snapshot) missing(kind, key string) error {
	if err, bad := snap.bad[recordKey{kind, key}]; bad {
		return err
	}
	return routing.NotFoundError(kind, key)
}
