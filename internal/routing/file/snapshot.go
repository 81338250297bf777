package file

import (
	"fmt"
	"maps"
	"slices"

	"github.com/sagegate/sagegate/internal/routing"
)

// snapshot is one immutable state of the routes: readers load it without
// locking, writers build a new one and swap it in.
type snapshot struct {
	lobs  map[string]routing.LOB
	users map[string]routing.User
	// groups holds every valid group, with its LOBs as listed (an empty
	// group too: it exists, granting nothing).
	groups map[string][]string
	// bad holds the records that fail their own validation, by kind and
	// key; they are in no other map.
	bad map[recordKey]error
	// Sorted keys, bad records included, for listings.
	lobKeys, userKeys, groupKeys []string
}

type recordKey struct{ kind, key string }

// problem is one thing wrong with the routes. Record problems make their
// record unusable; integrity problems (a reference to a LOB that does not
// exist) only make the document as a whole invalid.
type problem struct {
	rec       recordKey
	err       error
	integrity bool
}

// build normalises and checks r, returning the store's contents and every
// problem found, in a stable order: kinds in turn, keys sorted, each
// record's own problems before its references. Everything is copied: the
// store must not change when the caller later changes its Config. The
// snapshot is the only copy the store keeps: writes re-read the file.
func (r routes) build(d routing.Defaults) (*snapshot, []problem) {
	var probs []problem
	s := &snapshot{
		lobs:      make(map[string]routing.LOB, len(r.LOBs)),
		users:     make(map[string]routing.User, len(r.Users)),
		groups:    make(map[string][]string, len(r.Groups)),
		bad:       map[recordKey]error{},
		lobKeys:   sortedKeys(r.LOBs),
		userKeys:  sortedKeys(r.Users),
		groupKeys: sortedKeys(r.Groups),
	}
	// record files the problems of one record and keeps it when it has none.
	record := func(kind, key, path string, errs []error, keep func()) {
		rk := recordKey{kind, key}
		errs = routing.Prefix(path, errs)
		for _, e := range errs {
			probs = append(probs, problem{rec: rk, err: e})
		}
		if len(errs) > 0 {
			s.bad[rk] = routing.InvalidError(kind, key, errs...)
			return
		}
		keep()
	}

	for _, key := range s.lobKeys {
		l := r.LOBs[key].Clone()
		errs := nameMatchesKey(l.Name, key)
		l.Name = key
		l.Normalize(d)
		record(routing.KindLOB, key, "lobs."+key, append(errs, l.Validate()...), func() { s.lobs[key] = l })
	}

	for _, key := range s.userKeys {
		u := r.Users[key]
		errs := nameMatchesKey(u.Name, key)
		u.Name = key
		u = u.Clone()
		path := "users." + key
		record(routing.KindUser, key, path, append(errs, u.Validate()...), func() { s.users[key] = u })
		probs = append(probs, s.unknownLOBs(recordKey{routing.KindUser, key}, path+".lobs", u.LOBs)...)
	}

	for _, key := range s.groupKeys {
		g := routing.Group{Name: key, LOBs: slices.Clone(r.Groups[key])}
		path := "groups." + key
		if key == "" {
			// Group.Validate would say "groups..name: required".
			probs = append(probs, problem{rec: recordKey{routing.KindGroup, key}, err: &routing.FieldError{Field: "groups", Msg: "empty group name"}})
			s.bad[recordKey{routing.KindGroup, key}] = routing.InvalidError(routing.KindGroup, key, &routing.FieldError{Field: "name", Msg: "required"})
			continue
		}
		record(routing.KindGroup, key, path, g.Validate(), func() { s.groups[key] = g.LOBs })
		probs = append(probs, s.unknownLOBs(recordKey{routing.KindGroup, key}, path, g.LOBs)...)
	}
	return s, probs
}

func nameMatchesKey(name, key string) []error {
	if name != "" && name != key {
		return []error{&routing.FieldError{Field: "name", Msg: fmt.Sprintf("%q does not match its key", name)}}
	}
	return nil
}

// unknownLOBs reports each name in names that the routes have no LOB for
// (valid or not: a LOB with a bad account id is still the LOB meant). It
// runs once every LOB is in s.lobs or s.bad.
func (s *snapshot) unknownLOBs(rec recordKey, path string, names []string) []problem {
	var probs []problem
	for i, name := range names {
		if _, ok := slices.BinarySearch(s.lobKeys, name); !ok && name != "" {
			probs = append(probs, problem{rec: rec, integrity: true,
				err: &routing.FieldError{Field: fmt.Sprintf("%s[%d]", path, i), Msg: fmt.Sprintf("unknown LOB %q", name)}})
		}
	}
	return probs
}

func errorsOf(probs []problem) []error {
	errs := make([]error, len(probs))
	for i, p := range probs {
		errs[i] = p.err
	}
	return errs
}

// allocMaps gives r empty maps where it has none, for records to be added.
func (r *routes) allocMaps() {
	if r.LOBs == nil {
		r.LOBs = map[string]routing.LOB{}
	}
	if r.Users == nil {
		r.Users = map[string]routing.User{}
	}
	if r.Groups == nil {
		r.Groups = map[string][]string{}
	}
}

func sortedKeys[V any](m map[string]V) []string {
	return slices.Sorted(maps.Keys(m))
}
