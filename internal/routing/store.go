package routing

import "context"

// Store holds routes. It is one interface for every backend, in the manner of
// Dex's storage: lookups that find nothing return an error wrapping
// ErrNotFound, writes that collide wrap ErrAlreadyExists, so callers never
// depend on a backend's own error types.
//
// Only the reads the resolver needs exist today. Writes (create, update by
// function, delete) and listings join this interface when a backend that can
// change at run time arrives; the file backend will then answer them with an
// error, being read-only by design.
//
// Implementations must be safe for concurrent use. Returned slices belong to
// the caller, which may modify them without affecting the store.
type Store interface {
	// GetUser returns the record of the user with that name.
	GetUser(ctx context.Context, name string) (User, error)
	// GetLOB returns the LOB with that name, normalised.
	GetLOB(ctx context.Context, name string) (LOB, error)
	// GroupLOBs returns the names of the LOBs an IdP group grants, in their
	// configured order. A group without a mapping is not an error: it
	// returns nil, nil, because most of a person's groups mean nothing to
	// sagegate.
	GroupLOBs(ctx context.Context, group string) ([]string, error)
}
