package file

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/sagegate/sagegate/internal/routing"
)

// errInvalid starts the error New returns for routes it cannot load.
var errInvalid = errors.New("routing/file: invalid routes")

// Store is an immutable in-memory routing.Store. It is built once by New and
// only read afterwards, so it needs no locks, and a read costs a map lookup:
// it sits on the launch path.
type Store struct {
	lobs   map[string]routing.LOB
	users  map[string]routing.User
	groups map[string][]string
}

var _ routing.Store = (*Store)(nil)

// New validates c (see Config.Validate) and builds a Store from it, with
// every LOB normalised with d. It fails with every problem found, joined.
func New(c Config, d routing.Defaults) (*Store, error) {
	r, err := c.load()
	if err != nil {
		return nil, fmt.Errorf("%w: %w", errInvalid, err)
	}
	s, errs := r.build(d)
	if len(errs) > 0 {
		if c.Path != "" {
			return nil, fmt.Errorf("%w in %s:\n%w", errInvalid, c.Path, errors.Join(errs...))
		}
		return nil, fmt.Errorf("%w:\n%w", errInvalid, errors.Join(errs...))
	}
	return s, nil
}

// GetUser implements routing.Store.
func (s *Store) GetUser(_ context.Context, name string) (routing.User, error) {
	u, ok := s.users[name]
	if !ok {
		return routing.User{}, fmt.Errorf("user %q: %w", name, routing.ErrNotFound)
	}
	// The caller owns what it gets; the store must stay as built.
	u.LOBs = slices.Clone(u.LOBs)
	return u, nil
}

// GetLOB implements routing.Store.
func (s *Store) GetLOB(_ context.Context, name string) (routing.LOB, error) {
	l, ok := s.lobs[name]
	if !ok {
		return routing.LOB{}, fmt.Errorf("LOB %q: %w", name, routing.ErrNotFound)
	}
	return l, nil
}

// GroupLOBs implements routing.Store.
func (s *Store) GroupLOBs(_ context.Context, group string) ([]string, error) {
	lobs, ok := s.groups[group]
	if !ok {
		return nil, nil
	}
	return slices.Clone(lobs), nil
}
