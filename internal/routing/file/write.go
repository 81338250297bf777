package file

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"

	"sigs.k8s.io/yaml"

	"github.com/sagegate/sagegate/internal/routing"
)

// fileHeader starts every routes file the store writes.
const fileHeader = "# sagegate routes, written by `sagegate routes` (comments are not kept).\n"

// CreateUser implements routing.Store.
func (s *Store) CreateUser(ctx context.Context, u routing.User) error {
	if errs := u.Validate(); len(errs) > 0 {
		return routing.InvalidError(routing.KindUser, u.Name, errs...)
	}
	return s.write(ctx, func(r *routes) error { return createIn(r.Users, routing.KindUser, u.Name, storedUser(u)) })
}

// UpdateUser implements routing.Store. fn sees the record as stored, even
// an invalid one, so that an update can repair it.
func (s *Store) UpdateUser(ctx context.Context, name string, fn func(routing.User) (routing.User, error)) error {
	return s.write(ctx, func(r *routes) error {
		cur, ok := r.Users[name]
		if !ok {
			return routing.NotFoundError(routing.KindUser, name)
		}
		cur.Name = name
		cur = cur.Clone()
		next, err := fn(cur)
		if err != nil {
			return err
		}
		if err := routing.CheckName(routing.KindUser, name, next.Name); err != nil {
			return err
		}
		if errs := next.Validate(); len(errs) > 0 {
			return routing.InvalidError(routing.KindUser, name, errs...)
		}
		r.Users[name] = storedUser(next)
		return nil
	})
}

// DeleteUser implements routing.Store.
func (s *Store) DeleteUser(ctx context.Context, name string) error {
	return s.write(ctx, func(r *routes) error { return deleteFrom(r.Users, routing.KindUser, name) })
}

// CreateLOB implements routing.Store. l is stored as given; fields it
// leaves empty keep following the deployment's defaults.
func (s *Store) CreateLOB(ctx context.Context, l routing.LOB) error {
	if err := s.validLOB(l); err != nil {
		return err
	}
	key := l.Name
	l.Name = ""
	return s.write(ctx, func(r *routes) error { return createIn(r.LOBs, routing.KindLOB, key, l) })
}

// UpdateLOB implements routing.Store. fn sees the LOB normalised; the
// fields it leaves at their normalised value are written back as they
// were, so defaults do not get frozen into the file.
func (s *Store) UpdateLOB(ctx context.Context, name string, fn func(routing.LOB) (routing.LOB, error)) error {
	return s.write(ctx, func(r *routes) error {
		raw, ok := r.LOBs[name]
		if !ok {
			return routing.NotFoundError(routing.KindLOB, name)
		}
		raw.Name = name
		cur := raw
		cur.Normalize(s.defaults)
		next, err := fn(cur)
		if err != nil {
			return err
		}
		if err := routing.CheckName(routing.KindLOB, name, next.Name); err != nil {
			return err
		}
		// Validated as it will be read back: a LOB whose account changed
		// gets the default role in its new account, not the old one.
		next = routing.Denormalize(next, raw, s.defaults)
		if err := s.validLOB(next); err != nil {
			return err
		}
		next.Name = ""
		r.LOBs[name] = next
		return nil
	})
}

// DeleteLOB implements routing.Store. A LOB that users or groups still
// name cannot go: the gateway would refuse to start on the file.
func (s *Store) DeleteLOB(ctx context.Context, name string) error {
	return s.write(ctx, func(r *routes) error { return deleteFrom(r.LOBs, routing.KindLOB, name) })
}

// CreateGroup implements routing.Store.
func (s *Store) CreateGroup(ctx context.Context, g routing.Group) error {
	if errs := g.Validate(); len(errs) > 0 {
		return routing.InvalidError(routing.KindGroup, g.Name, errs...)
	}
	return s.write(ctx, func(r *routes) error { return createIn(r.Groups, routing.KindGroup, g.Name, storedLOBs(g.LOBs)) })
}

// UpdateGroup implements routing.Store.
func (s *Store) UpdateGroup(ctx context.Context, name string, fn func(routing.Group) (routing.Group, error)) error {
	return s.write(ctx, func(r *routes) error {
		lobs, ok := r.Groups[name]
		if !ok {
			return routing.NotFoundError(routing.KindGroup, name)
		}
		next, err := fn(routing.Group{Name: name, LOBs: slices.Clone(lobs)})
		if err != nil {
			return err
		}
		if err := routing.CheckName(routing.KindGroup, name, next.Name); err != nil {
			return err
		}
		if errs := next.Validate(); len(errs) > 0 {
			return routing.InvalidError(routing.KindGroup, name, errs...)
		}
		r.Groups[name] = storedLOBs(next.LOBs)
		return nil
	})
}

// DeleteGroup implements routing.Store.
func (s *Store) DeleteGroup(ctx context.Context, name string) error {
	return s.write(ctx, func(r *routes) error { return deleteFrom(r.Groups, routing.KindGroup, name) })
}

func (s *Store) validLOB(l routing.LOB) error {
	n := l
	n.Normalize(s.defaults)
	if errs := n.Validate(); len(errs) > 0 {
		return routing.InvalidError(routing.KindLOB, l.Name, errs...)
	}
	return nil
}

// createIn adds v to m under name, unless name is taken.
func createIn[V any](m map[string]V, kind, name string, v V) error {
	if _, ok := m[name]; ok {
		return fmt.Errorf("%s %q: %w", kind, name, routing.ErrAlreadyExists)
	}
	m[name] = v
	return nil
}

// deleteFrom removes name from m, or says it is not there.
func deleteFrom[V any](m map[string]V, kind, name string) error {
	if _, ok := m[name]; !ok {
		return routing.NotFoundError(kind, name)
	}
	delete(m, name)
	return nil
}

// storedUser is u as the file holds it: keyed by name, so without one.
func storedUser(u routing.User) routing.User {
	u.Name = ""
	return u.Clone()
}

// storedLOBs keeps an empty list empty rather than null, so that a group
// mapped to nothing stays in the file as "[]".
func storedLOBs(lobs []string) []string {
	if lobs == nil {
		return []string{}
	}
	return slices.Clone(lobs)
}

// write applies change to the routes as they are in the file now and
// stores the result, unless it adds problems: the file must stay one the
// gateway starts on (a user naming a LOB that is gone would stop it).
// Problems that were already there do not block an unrelated change.
func (s *Store) write(ctx context.Context, change func(r *routes) error) error {
	if s.path == "" {
		return fmt.Errorf("%w: the routes are inline in the configuration file; move them to a routes file (routing.file.path) to change them with `sagegate routes`", routing.ErrReadOnly)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	// Re-read: someone may have edited the file since it was opened.
	r, err := Config{Path: s.path}.load()
	if err != nil {
		return err
	}
	_, before := r.build(s.defaults)
	// change edits r itself: it was read for this write alone, and the
	// snapshot built below copies what it keeps.
	r.allocMaps()
	if err := change(&r); err != nil {
		return err
	}
	snap, after := r.build(s.defaults)
	if added := newProblems(before, after); len(added) > 0 {
		return fmt.Errorf("%w: the change would leave %s with:\n%w", routing.ErrInvalid, s.path, errors.Join(added...))
	}
	if err := writeRoutes(s.path, r); err != nil {
		return err
	}
	s.snap.Store(snap)
	return nil
}

// newProblems returns the problems in after that before did not have.
func newProblems(before, after []problem) []error {
	seen := make(map[string]int, len(before))
	for _, p := range before {
		seen[p.err.Error()]++
	}
	var added []error
	for _, p := range after {
		msg := p.err.Error()
		if seen[msg] > 0 {
			seen[msg]--
			continue
		}
		added = append(added, p.err)
	}
	return added
}

// writeRoutes replaces the file at path with r atomically: readers (a
// gateway starting) see the old file or the new one, never half of it.
func writeRoutes(path string, r routes) error {
	data, err := yaml.Marshal(r)
	if err != nil {
		return fmt.Errorf("encoding routes: %w", err)
	}
	mode := os.FileMode(0o600)
	if st, err := os.Stat(path); err == nil {
		mode = st.Mode().Perm()
	}
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return fmt.Errorf("writing routes: %w", err)
	}
	tmp := f.Name()
	ok := false
	defer func() {
		if !ok {
			_ = f.Close()
			_ = os.Remove(tmp)
		}
	}()
	if err := f.Chmod(mode); err != nil {
		return fmt.Errorf("writing routes: %w", err)
	}
	if _, err := f.Write(append([]byte(fileHeader), data...)); err != nil {
		return fmt.Errorf("writing routes: %w", err)
	}
	// Flushed before the rename, or a crash could leave an empty file
	// under the old name.
	if err := f.Sync(); err != nil {
		return fmt.Errorf("writing routes: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("writing routes: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("writing routes: %w", err)
	}
	ok = true
	return nil
}
