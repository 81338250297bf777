// Package file is the routing backend that keeps routes in the configuration
// file, or in a YAML file of their own, and serves them from memory.
package file

import (
	"fmt"
	"os"

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

// Document is the content of a routes file. It is Config without Path, so
// a routes file that tries to point elsewhere fails as an unknown field.
// Map keys are names, as in Config. `sagegate routes export` writes it.
type Document struct {
	LOBs   map[string]routing.LOB  `json:"lobs,omitempty"`
	Users  map[string]routing.User `json:"users,omitempty"`
	Groups map[string][]string     `json:"groups,omitempty"`
}

// routes is the name the package uses for a Document it holds.
type routes = Document

// ParseDocument reads a routes file strictly: a misspelt key would
// otherwise silently drop a setting, and a duplicated key would silently
// pick one of two.
func ParseDocument(data []byte) (Document, error) {
	var d Document
	err := yaml.UnmarshalStrict(data, &d)
	return d, err
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
	r, err := ParseDocument(data)
	if err != nil {
		return routes{}, fmt.Errorf("%s: %w", c.Path, err)
	}
	return r, nil
}

// ValidateSource reports only what stops c's routes from being read at
// all: an unreadable or malformed routes file, or a path next to inline
// routes. Records are not checked.
func (c Config) ValidateSource() []error {
	if _, err := c.load(); err != nil {
		return []error{err}
	}
	return nil
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
	_, probs := r.build(d)
	errs := errorsOf(probs)
	if c.Path != "" {
		for i, e := range errs {
			errs[i] = fmt.Errorf("%s: %w", c.Path, e)
		}
	}
	return errs
}
