package admin

import (
	"context"
	"errors"
	"fmt"

	"github.com/sagegate/sagegate/internal/routing"
)

// PutUser creates the user called name, or updates it, applying set to the
// record (a new one holds only the name). Unless force, every LOB the
// result names must exist, so that a typo does not route nobody anywhere.
// It reports whether the user was created.
func PutUser(ctx context.Context, s routing.Store, name string, set func(*routing.User), force bool) (bool, error) {
	check := func(u routing.User) error {
		if force {
			return nil
		}
		return lobsExist(ctx, s, u.LOBs)
	}
	return put(ctx, routing.User{Name: name}, set, check, s.CreateUser,
		func(fn func(routing.User) (routing.User, error)) error { return s.UpdateUser(ctx, name, fn) })
}

// PutLOB creates the LOB called name, or updates it, applying set to the
// record (to the stored one normalised, on update).
func PutLOB(ctx context.Context, s routing.Store, name string, set func(*routing.LOB)) (bool, error) {
	return put(ctx, routing.LOB{Name: name}, set, nil, s.CreateLOB,
		func(fn func(routing.LOB) (routing.LOB, error)) error { return s.UpdateLOB(ctx, name, fn) })
}

// PutGroup creates or replaces the mapping of group name to lobs.
func PutGroup(ctx context.Context, s routing.Store, name string, lobs []string, force bool) (bool, error) {
	if !force {
		if err := lobsExist(ctx, s, lobs); err != nil {
			return false, err
		}
	}
	set := func(g *routing.Group) { g.LOBs = nonNil(lobs) }
	return put(ctx, routing.Group{Name: name}, set, nil, s.CreateGroup,
		func(fn func(routing.Group) (routing.Group, error)) error { return s.UpdateGroup(ctx, name, fn) })
}

// put updates the record when it exists and creates it otherwise; a
// record created between the two attempts is updated after all.
func put[T any](ctx context.Context, fresh T, set func(*T), check func(T) error, create func(context.Context, T) error, update func(func(T) (T, error)) error) (bool, error) {
	apply := func(v T) (T, error) {
		set(&v)
		if check != nil {
			if err := check(v); err != nil {
				return v, err
			}
		}
		return v, nil
	}
	for range 2 {
		err := update(apply)
		if !errors.Is(err, routing.ErrNotFound) {
			return false, err
		}
		v, err := apply(fresh)
		if err != nil {
			return false, err
		}
		err = create(ctx, v)
		if !errors.Is(err, routing.ErrAlreadyExists) {
			return err == nil, err
		}
	}
	return false, fmt.Errorf("%w: the record keeps being created and deleted", routing.ErrConflict)
}

// lobsExist fails naming every LOB in names that the store does not hold.
func lobsExist(ctx context.Context, s routing.Store, names []string) error {
	var missing []string
	for _, n := range names {
		_, err := s.GetLOB(ctx, n)
		switch {
		case errors.Is(err, routing.ErrNotFound):
			missing = append(missing, n)
		case err != nil && !errors.Is(err, routing.ErrInvalid):
			return err
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("%w: no such LOB: %v (create it first, or pass --force)", routing.ErrNotFound, missing)
	}
	return nil
}
