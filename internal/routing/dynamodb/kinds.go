package dynamodb

import (
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/sagegate/sagegate/internal/routing"
)

// kind describes one kind of record (user, LOB, group) to the generic
// operations in ops.go, so that reading, conditional writing and listing
// are written once.
type kind[T any] struct {
	name  string // routing.KindUser, ...
	table string
	// key is the PK of the record called name.
	key func(name string) string
	// name is the record name of a PK.
	recordName func(pk string) string
	decode     func(map[string]types.AttributeValue) (T, int64, []error)
	encode     func(T, int64) (map[string]types.AttributeValue, error)
	owned      []string
	// prepare returns the record as callers see it (a LOB normalised) and
	// its validation problems.
	prepare func(T) (T, []error)
	// stored returns what to write for next, an edited copy of raw as
	// prepare returned it.
	stored func(next, raw T) T
	nameOf func(T) string
	// filter restricts a scan of the table to this kind, if it shares it.
	filter, filterValue string
}

func (s *Store) userKind() *kind[routing.User] {
	return &kind[routing.User]{
		name: routing.KindUser, table: s.cfg.UsersTable,
		key: identity, recordName: identity,
		decode: decodeUser, encode: encodeUser, owned: userAttrs,
		prepare: func(u routing.User) (routing.User, []error) { return u, u.Validate() },
		stored:  func(next, _ routing.User) routing.User { return next },
		nameOf:  func(u routing.User) string { return u.Name },
	}
}

func (s *Store) lobKind() *kind[routing.LOB] {
	return &kind[routing.LOB]{
		name: routing.KindLOB, table: s.cfg.LOBsTable,
		key: identity, recordName: identity,
		decode: decodeLOB, encode: encodeLOB, owned: lobAttrs,
		prepare: func(l routing.LOB) (routing.LOB, []error) {
			l.Normalize(s.defaults)
			return l, l.Validate()
		},
		// Fields left at their default are written back as they were, so
		// the table keeps following the deployment's defaults.
		stored: func(next, raw routing.LOB) routing.LOB { return routing.Denormalize(next, raw, s.defaults) },
		nameOf: func(l routing.LOB) string { return l.Name },
		filter: "NOT begins_with(PK, :kind)", filterValue: groupPrefix,
	}
}

func (s *Store) groupKind() *kind[routing.Group] {
	return &kind[routing.Group]{
		name: routing.KindGroup, table: s.cfg.LOBsTable,
		key:        func(name string) string { return groupPrefix + name },
		recordName: func(pk string) string { return strings.TrimPrefix(pk, groupPrefix) },
		decode:     decodeGroup, encode: encodeGroup, owned: groupAttrs,
		prepare: func(g routing.Group) (routing.Group, []error) { return g, g.Validate() },
		stored:  func(next, _ routing.Group) routing.Group { return next },
		nameOf:  func(g routing.Group) string { return g.Name },
		filter:  "begins_with(PK, :kind)", filterValue: groupPrefix,
	}
}

func identity(s string) string { return s }
