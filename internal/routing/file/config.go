// Package file is the routing backend that keeps routes in the configuration
// file, or in a YAML file of their own, and serves them from memory.
package file

import (
	"fmt"
	"os"
	"slices"

	"sigs.k8s.io/yaml"

	"github.com/sagegate/sagegate/internal/routing"
)

// Config holds routes inline, or names a YAML file that holds them.
//
// Map keys are names: a LOB's key is its Name and a user's key is its Name
// (the username), so neither needs repeating in the body; a body that does
// repeat it must agree.
type Config struct {
	// Path, when set, is a YAML file with top-level lobs, users and groups,
	// read instead of the inline fields, which must then be empty.
	Path   string                  `json:"path,omitempty"`
	LOBs   map[string]routing.LOB  `json:"lobs,omitempty"`
	Users  map[string]routing.User `json:"users,omitempty"`
	Groups map[string][]string     `json:"groups,omitempty"`
}

// routes is the content of a routes file. It is Config without Path, so a
// routes file that tries to point elsewhere fails as an unknown field.
type routes struct {
	LOBs   map[string]routing.LOB  `json:"lobs,omitempty"`
	Users  map[string]routing.User `json:"users,omitempty"`
	Groups map[string][]string     `json:"groups,omitempty"`
}

// load returns the routes c describes, reading Path if it is set.
func (c Config) load() (routes, error) {
	if c.Path == "" {
		return routes{LOBs: c.LOBs, Users: c.Users, Groups: c.Groups}, nil
	}
	if len(c.LOBs) > 0 || len(c.Users) > 0 || len(c.Groups) > 0 {
		return routes{}, &routing.FieldError{Field: "path", Msg: "cannot be combined with inline lobs, users or groups"}
	}
	data, err := os.ReadFile(c.Path)
	if err != nil {
		return routes{}, &routing.FieldError{Field: "path", Msg: err.Error()}
	}
	var r routes
	// Strict: a misspelt key would otherwise silently drop a setting,
	// and a duplicated key would silently pick one of two.
	if err := yaml.UnmarshalStrict(data, &r); err != nil {
		return routes{}, fmt.Errorf("%s: %w", c.Path, err)
	}
	return r, nil
}

// Validate reports every problem with c at once, each naming its place
// (`lobs.lob-a.accountId: must be 12 digits ...`,
// `users.bob.lobs[1]: unknown LOB "x"`). LOBs are checked as New would store
// them, that is after routing.LOB.Normalize with d. When c.Path is set the
// file is read, and the problems found in it are prefixed with its name.
func (c Config) Validate(d routing.Defaults) []error {
	r, err := c.load()
	if err != nil {
		return []error{err}
	}
	_, errs := r.build(d)
	if c.Path != "" {
		for i, e := range errs {
			errs[i] = fmt.Errorf("%s: %w", c.Path, e)
		}
	}
	return errs
}

// build normalises and checks r, returning the store's contents and every
// problem found. Keys are visited in sorted order so the report is stable.
// Everything is copied: the store must not change when the caller later
// changes its Config.
func (r routes) build(d routing.Defaults) (*Store, []error) {
	var errs []error
	s := &Store{
		lobs:   make(map[string]routing.LOB, len(r.LOBs)),
		users:  make(map[string]routing.User, len(r.Users)),
		groups: make(map[string][]string, len(r.Groups)),
	}

	for _, key := range sortedKeys(r.LOBs) {
		l := r.LOBs[key]
		path := "lobs." + key
		if l.Name != "" && l.Name != key {
			errs = append(errs, &routing.FieldError{Field: path + ".name", Msg: fmt.Sprintf("%q does not match its key", l.Name)})
		}
		l.Name = key
		l.Normalize(d)
		errs = append(errs, routing.Prefix(path, l.Validate())...)
		s.lobs[key] = l
	}

	for _, key := range sortedKeys(r.Users) {
		u := r.Users[key]
		path := "users." + key
		if u.Name != "" && u.Name != key {
			errs = append(errs, &routing.FieldError{Field: path + ".name", Msg: fmt.Sprintf("%q does not match its key", u.Name)})
		}
		u.Name = key
		errs = append(errs, routing.Prefix(path, u.Validate())...)
		errs = append(errs, s.unknownLOBs(path+".lobs", u.LOBs)...)
		u.LOBs = slices.Clone(u.LOBs)
		s.users[key] = u
	}

	for _, key := range sortedKeys(r.Groups) {
		path := "groups." + key
		if key == "" {
			errs = append(errs, &routing.FieldError{Field: "groups", Msg: "empty group name"})
		}
		errs = append(errs, s.unknownLOBs(path, r.Groups[key])...)
		if lobs := r.Groups[key]; len(lobs) > 0 {
			s.groups[key] = slices.Clone(lobs)
		}
	}
	return s, errs
}

// unknownLOBs reports each name in names that s has no LOB for.
func (s *Store) unknownLOBs(path string, names []string) []error {
	var errs []error
	for i, name := range names {
		if _, ok := s.lobs[name]; !ok && name != "" {
			errs = append(errs, &routing.FieldError{Field: fmt.Sprintf("%s[%d]", path, i), Msg: fmt.Sprintf("unknown LOB %q", name)})
		}
	}
	return errs
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
