// Package admin is what `sagegate routes` does, apart from parsing flags:
// reading every route out of a store, writing and reading them as YAML or
// CSV, planning and applying an import, and checking each LOB against AWS.
// It works on any routing.Store, so the CLI behaves the same whichever
// backend the configuration names.
package admin

import (
	"cmp"
	"context"
	"slices"

	"github.com/sagegate/sagegate/internal/routing"
)

// Routes is a complete set of routes: what export writes and import reads.
type Routes struct {
	LOBs   []routing.LOB
	Users  []routing.User
	Groups []routing.Group
	// Invalid holds the records of the store that could not be read, with
	// why; export reports them rather than dropping them silently.
	Invalid []routing.InvalidRecord
}

// Export reads every record of s, page by page, each kind sorted by name.
// LOB fields that hold the deployment's default (d) are left empty, so an
// exported LOB keeps following the defaults when it is imported again.
func Export(ctx context.Context, s routing.Store, d routing.Defaults) (Routes, error) {
	r, err := ReadAll(ctx, s)
	if err != nil {
		return Routes{}, err
	}
	for i, l := range r.LOBs {
		r.LOBs[i] = routing.Denormalize(l, routing.LOB{Name: l.Name, AccountID: l.AccountID}, d)
	}
	return r, nil
}

// ReadAll reads every record of s as the store returns them (LOBs
// normalised, as a launch sees them), each kind sorted by name.
func ReadAll(ctx context.Context, s routing.Store) (Routes, error) {
	var r Routes
	var err error
	if r.LOBs, r.Invalid, err = all(ctx, s.ListLOBs, r.Invalid); err != nil {
		return Routes{}, err
	}
	if r.Users, r.Invalid, err = all(ctx, s.ListUsers, r.Invalid); err != nil {
		return Routes{}, err
	}
	if r.Groups, r.Invalid, err = all(ctx, s.ListGroups, r.Invalid); err != nil {
		return Routes{}, err
	}
	r.sort()
	return r, nil
}

func all[T any](ctx context.Context, list func(context.Context, routing.ListOptions) (routing.Page[T], error), invalid []routing.InvalidRecord) ([]T, []routing.InvalidRecord, error) {
	var items []T
	o := routing.ListOptions{}
	for {
		page, err := list(ctx, o)
		if err != nil {
			return nil, nil, err
		}
		items = append(items, page.Items...)
		invalid = append(invalid, page.Invalid...)
		if page.Next == "" {
			return items, invalid, nil
		}
		o.Cursor = page.Next
	}
}

func (r *Routes) sort() {
	slices.SortFunc(r.LOBs, func(a, b routing.LOB) int { return cmp.Compare(a.Name, b.Name) })
	slices.SortFunc(r.Users, func(a, b routing.User) int { return cmp.Compare(a.Name, b.Name) })
	slices.SortFunc(r.Groups, func(a, b routing.Group) int { return cmp.Compare(a.Name, b.Name) })
	slices.SortFunc(r.Invalid, func(a, b routing.InvalidRecord) int {
		return cmp.Or(cmp.Compare(a.Kind, b.Kind), cmp.Compare(a.Key, b.Key))
	})
}
