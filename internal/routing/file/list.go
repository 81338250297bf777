package file

import (
	"context"
	"slices"
	"sort"

	"github.com/sagegate/sagegate/internal/routing"
)

// ListUsers implements routing.Store, in username order.
func (s *Store) ListUsers(_ context.Context, o routing.ListOptions) (routing.Page[routing.User], error) {
	snap := s.snap.Load()
	return listPage(routing.KindUser, snap.userKeys, o, func(k string) (routing.User, error) {
		u, ok := snap.users[k]
		if !ok {
			return routing.User{}, snap.missing(routing.KindUser, k)
		}
		u.LOBs = slices.Clone(u.LOBs)
		return u, nil
	})
}

// ListLOBs implements routing.Store, in name order.
func (s *Store) ListLOBs(_ context.Context, o routing.ListOptions) (routing.Page[routing.LOB], error) {
	snap := s.snap.Load()
	return listPage(routing.KindLOB, snap.lobKeys, o, func(k string) (routing.LOB, error) {
		l, ok := snap.lobs[k]
		if !ok {
			return routing.LOB{}, snap.missing(routing.KindLOB, k)
		}
		return l, nil
	})
}

// ListGroups implements routing.Store, in name order.
func (s *Store) ListGroups(_ context.Context, o routing.ListOptions) (routing.Page[routing.Group], error) {
	snap := s.snap.Load()
	return listPage(routing.KindGroup, snap.groupKeys, o, func(k string) (routing.Group, error) {
		if err := snap.bad[recordKey{routing.KindGroup, k}]; err != nil {
			return routing.Group{}, err
		}
		return routing.Group{Name: k, LOBs: slices.Clone(snap.groups[k])}, nil
	})
}

// listPage returns the page of keys (sorted) that o selects, reading each
// through get. Keys are read from the snapshot the listing started with,
// so a page is consistent in itself; a cursor is a key, so a record
// created or deleted between pages does not shift the others.
func listPage[T any](kind string, keys []string, o routing.ListOptions, get func(string) (T, error)) (routing.Page[T], error) {
	var page routing.Page[T]
	start := 0
	if o.Cursor != "" {
		after, err := routing.DecodeCursor(kind, o.Cursor)
		if err != nil {
			return page, err
		}
		start = sort.SearchStrings(keys, after)
		if start < len(keys) && keys[start] == after {
			start++
		}
	}
	end := min(start+o.PageSize(), len(keys))
	page.Items = make([]T, 0, end-start)
	for _, k := range keys[start:end] {
		v, err := get(k)
		if err != nil {
			page.Invalid = append(page.Invalid, routing.InvalidRecord{Kind: kind, Key: k, Err: err})
			continue
		}
		page.Items = append(page.Items, v)
	}
	if end < len(keys) {
		page.Next = routing.EncodeCursor(kind, keys[end-1])
	}
	return page, nil
}
