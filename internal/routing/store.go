package routing

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
)

// Reader is what the resolver needs: three point lookups. The launch path
// only ever reads, so a cache (routing/cache) can stand in front of any
// backend by implementing this interface alone.
//
// Lookups that find nothing return an error wrapping ErrNotFound; a record
// that exists but fails validation returns one wrapping ErrInvalid that
// names its key. Returned slices belong to the caller.
type Reader interface {
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

// Store holds routes. It is one interface for every backend, in the manner
// of Dex's storage: sentinel errors instead of backend error types, creates
// that fail with ErrAlreadyExists, and updates by function so that a
// read-modify-write never loses a concurrent writer's change.
//
// Implementations must be safe for concurrent use.
type Store interface {
	Reader

	// GetGroup returns the mapping of one group, or ErrNotFound.
	GetGroup(ctx context.Context, name string) (Group, error)

	// ListUsers, ListLOBs and ListGroups return one page of records. Pages
	// come in the backend's order and may hold fewer than Limit items even
	// when more follow: keep asking while Page.Next is not empty. A record
	// that fails validation is reported in Page.Invalid with its key
	// rather than failing the page.
	ListUsers(ctx context.Context, o ListOptions) (Page[User], error)
	ListLOBs(ctx context.Context, o ListOptions) (Page[LOB], error)
	ListGroups(ctx context.Context, o ListOptions) (Page[Group], error)

	// CreateUser, CreateLOB and CreateGroup add a record, failing with
	// ErrAlreadyExists when its key is taken and ErrInvalid when it does
	// not validate.
	CreateUser(ctx context.Context, u User) error
	CreateLOB(ctx context.Context, l LOB) error
	CreateGroup(ctx context.Context, g Group) error

	// UpdateUser, UpdateLOB and UpdateGroup apply fn to the current record
	// and store its result, atomically with respect to other writers: the
	// backend retries fn on a concurrent change, so fn must be free of side
	// effects. An error from fn aborts the update and is returned. The name
	// cannot change. A missing record is ErrNotFound.
	UpdateUser(ctx context.Context, name string, fn func(User) (User, error)) error
	UpdateLOB(ctx context.Context, name string, fn func(LOB) (LOB, error)) error
	UpdateGroup(ctx context.Context, name string, fn func(Group) (Group, error)) error

	// DeleteUser, DeleteLOB and DeleteGroup remove a record, or return
	// ErrNotFound.
	DeleteUser(ctx context.Context, name string) error
	DeleteLOB(ctx context.Context, name string) error
	DeleteGroup(ctx context.Context, name string) error
}

// DefaultPageSize is the page size of a listing that asks for none.
const DefaultPageSize = 100

// ListOptions select one page of a listing.
type ListOptions struct {
	// Limit is the most items the page may hold; 0 means DefaultPageSize.
	Limit int
	// Cursor is the Next of the previous page; empty starts at the top.
	Cursor string
}

// PageSize returns Limit, or DefaultPageSize when it is not positive.
func (o ListOptions) PageSize() int {
	if o.Limit <= 0 {
		return DefaultPageSize
	}
	return o.Limit
}

// Page is one page of a listing.
type Page[T any] struct {
	Items []T
	// Invalid holds the records of this page that failed validation.
	Invalid []InvalidRecord
	// Next is the cursor of the following page; empty on the last page.
	Next string
}

// InvalidRecord is a stored record that cannot be used, and why.
type InvalidRecord struct {
	Kind string // "user", "lob" or "group"
	Key  string
	Err  error
}

func (r InvalidRecord) Error() string { return fmt.Sprintf("%s %q: %v", r.Kind, r.Key, r.Err) }

// Record kinds, as InvalidRecord.Kind and in error messages.
const (
	KindUser  = "user"
	KindLOB   = "lob"
	KindGroup = "group"
)

// InvalidError wraps problems with the record kind/key into an error
// wrapping ErrInvalid, so that the person reading it knows which record
// to fix.
func InvalidError(kind, key string, errs ...error) error {
	return fmt.Errorf("%s %q: %w: %w", kind, key, ErrInvalid, joinErrs(errs))
}

// joinErrs is errors.Join with "; " between the messages, which reads
// better on one log line than errors.Join's newlines.
func joinErrs(errs []error) error {
	switch len(errs) {
	case 0:
		return nil
	case 1:
		return errs[0]
	}
	return multiError(errs)
}

type multiError []error

func (m multiError) Error() string {
	s := ""
	for i, e := range m {
		if i > 0 {
			s += "; "
		}
		s += e.Error()
	}
	return s
}

func (m multiError) Unwrap() []error { return m }

// NotFoundError is the error a backend returns for a missing record.
func NotFoundError(kind, key string) error {
	return fmt.Errorf("%s %q: %w", kind, key, ErrNotFound)
}

// CheckName reports an update function that changed a record's name.
func CheckName(kind, want, got string) error {
	if got != want {
		return InvalidError(kind, want, &FieldError{Field: "name", Msg: fmt.Sprintf("cannot be changed by an update (to %q)", got)})
	}
	return nil
}

// ErrBadCursor is returned for a ListOptions.Cursor that no listing of
// that kind handed out.
var ErrBadCursor = errors.New("routing: invalid listing cursor")

// EncodeCursor makes the cursor of a listing of kind that resumes after
// key. Binding it to the kind turns a cursor passed to the wrong listing
// into an error instead of a silently wrong page.
func EncodeCursor(kind, key string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(kind + "\x00" + key))
}

// DecodeCursor returns the key that cursor resumes after, for a listing of
// kind, or ErrBadCursor.
func DecodeCursor(kind, cursor string) (string, error) {
	raw, err := base64.RawURLEncoding.DecodeString(cursor)
	k, key, ok := strings.Cut(string(raw), "\x00")
	if err != nil || !ok || k != kind {
		return "", fmt.Errorf("%w for %s listing", ErrBadCursor, kind)
	}
	return key, nil
}
