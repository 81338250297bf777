package admin

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/sagegate/sagegate/internal/routing"
)

// Operations of a Change.
const (
	OpCreate = "create"
	OpUpdate = "update"
	OpDelete = "delete"
)

// Change is one write an import makes.
type Change struct {
	Op   string
	Kind string
	Key  string
	// Detail says what changes: the fields of an update, old -> new.
	Detail string

	lob   routing.LOB
	user  routing.User
	group routing.Group
}

func (c Change) String() string {
	sign := map[string]string{OpCreate: "+", OpUpdate: "~", OpDelete: "-"}[c.Op]
	s := fmt.Sprintf("%s %s %s", sign, c.Kind, c.Key)
	if c.Detail != "" {
		s += ": " + c.Detail
	}
	return s
}

// Plan returns the changes that make s hold want: records in want but not
// in s are created, records that differ are updated (an invalid record in
// s is repaired), records equal once normalised with d are left alone, so
// importing the same file twice changes nothing the second time. With
// prune, records in s but not in want are deleted.
//
// Changes come in an order that keeps references valid while they apply:
// LOBs are created before the users and groups that name them, and deleted
// after.
func Plan(ctx context.Context, s routing.Store, want Routes, d routing.Defaults, prune bool) ([]Change, error) {
	have, err := Export(ctx, s, d)
	if err != nil {
		return nil, err
	}
	invalid := map[string]bool{}
	for _, r := range have.Invalid {
		invalid[r.Kind+"/"+r.Key] = true
	}
	var changes []Change
	changes = appendPlan(changes, routing.KindLOB, want.LOBs, have.LOBs, invalid,
		func(l routing.LOB) string { return l.Name },
		func(old, next routing.LOB) string {
			old.Normalize(d)
			next.Normalize(d)
			return fieldDiff(old, next)
		},
		func(c *Change, l routing.LOB) { c.lob = l })
	changes = appendPlan(changes, routing.KindGroup, want.Groups, have.Groups, invalid,
		func(g routing.Group) string { return g.Name },
		func(old, next routing.Group) string {
			if slices.Equal(old.LOBs, next.LOBs) {
				return ""
			}
			return fmt.Sprintf("lobs %v -> %v", old.LOBs, next.LOBs)
		},
		func(c *Change, g routing.Group) { c.group = g })
	changes = appendPlan(changes, routing.KindUser, want.Users, have.Users, invalid,
		func(u routing.User) string { return u.Name },
		func(old, next routing.User) string { return fieldDiff(old, next) },
		func(c *Change, u routing.User) { c.user = u })

	if prune {
		changes = append(changes, deletions(have, want)...)
	}
	return changes, nil
}

// appendPlan appends to changes the creates and updates that make the
// records of one kind in have match those in want. diff says how two
// records differ, "" when they do not; set puts a record into a change.
func appendPlan[T any](changes []Change, kind string, want, have []T, invalid map[string]bool,
	key func(T) string, diff func(old, next T) string, set func(*Change, T)) []Change {
	haveByKey := index(have, key)
	for _, v := range want {
		c := Change{Kind: kind, Key: key(v)}
		set(&c, v)
		old, ok := haveByKey[c.Key]
		switch {
		case invalid[kind+"/"+c.Key]:
			c.Op, c.Detail = OpUpdate, "repairs an invalid record"
		case !ok:
			c.Op = OpCreate
		default:
			if c.Detail = diff(old, v); c.Detail == "" {
				continue
			}
			c.Op = OpUpdate
		}
		changes = append(changes, c)
	}
	return changes
}

// deletions are the records of have that want lacks: users and groups
// first, LOBs last, so that no record is left naming a deleted LOB.
func deletions(have, want Routes) []Change {
	out := appendDeletes(nil, routing.KindUser, have.Users, want.Users, func(u routing.User) string { return u.Name })
	out = appendDeletes(out, routing.KindGroup, have.Groups, want.Groups, func(g routing.Group) string { return g.Name })
	return appendDeletes(out, routing.KindLOB, have.LOBs, want.LOBs, func(l routing.LOB) string { return l.Name })
}

func appendDeletes[T any](out []Change, kind string, have, want []T, key func(T) string) []Change {
	wanted := index(want, key)
	for _, v := range have {
		if _, ok := wanted[key(v)]; !ok {
			out = append(out, Change{Op: OpDelete, Kind: kind, Key: key(v)})
		}
	}
	return out
}

// Apply makes the changes, in order, stopping at the first failure. Updates
// go through the store's conditional update, so a concurrent change made
// between Plan and Apply is overwritten only field by field as planned.
func Apply(ctx context.Context, s routing.Store, changes []Change) error {
	for _, c := range changes {
		if err := apply(ctx, s, c); err != nil {
			return fmt.Errorf("%s: %w", c, err)
		}
	}
	return nil
}

func apply(ctx context.Context, s routing.Store, c Change) error {
	switch c.Kind {
	case routing.KindLOB:
		return applyOp(ctx, c, c.lob, s.CreateLOB, s.UpdateLOB, s.DeleteLOB)
	case routing.KindUser:
		return applyOp(ctx, c, c.user, s.CreateUser, s.UpdateUser, s.DeleteUser)
	case routing.KindGroup:
		return applyOp(ctx, c, c.group, s.CreateGroup, s.UpdateGroup, s.DeleteGroup)
	}
	return fmt.Errorf("unknown change %s %s", c.Op, c.Kind)
}

// applyOp makes change c of one kind of record, v being the planned
// record: an update replaces the stored one with it.
func applyOp[T any](ctx context.Context, c Change, v T,
	create func(context.Context, T) error,
	update func(context.Context, string, func(T) (T, error)) error,
	del func(context.Context, string) error) error {
	switch c.Op {
	case OpCreate:
		return create(ctx, v)
	case OpUpdate:
		return update(ctx, c.Key, func(T) (T, error) { return v, nil })
	case OpDelete:
		return del(ctx, c.Key)
	}
	return fmt.Errorf("unknown change %s %s", c.Op, c.Kind)
}

func index[T any](items []T, key func(T) string) map[string]T {
	m := make(map[string]T, len(items))
	for _, it := range items {
		m[key(it)] = it
	}
	return m
}

// fieldDiff lists the JSON fields in which a and b differ, "field old ->
// new", or "" when they are equal. External ids are secrets of sorts and
// only said to change.
func fieldDiff(a, b any) string {
	ma, mb := jsonFields(a), jsonFields(b)
	keys := map[string]bool{}
	for k := range ma {
		keys[k] = true
	}
	for k := range mb {
		keys[k] = true
	}
	var diffs []string
	for _, k := range slices.Sorted(maps.Keys(keys)) {
		x, y := ma[k], mb[k]
		if x == y {
			continue
		}
		if k == "externalId" {
			diffs = append(diffs, k+" changed")
			continue
		}
		diffs = append(diffs, fmt.Sprintf("%s %s -> %s", k, orText(x, "(none)"), orText(y, "(none)")))
	}
	return strings.Join(diffs, ", ")
}

func jsonFields(v any) map[string]string {
	data, _ := json.Marshal(v)
	var m map[string]json.RawMessage
	_ = json.Unmarshal(data, &m)
	out := make(map[string]string, len(m))
	for k, raw := range m {
		out[k] = string(raw)
	}
	return out
}
