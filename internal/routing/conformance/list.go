package conformance

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/sagegate/sagegate/internal/routing"
)

// collect pages through a listing with limit, checking each page's size,
// and returns every item's key and every invalid record.
func collect[T any](t *testing.T, limit int, list func(context.Context, routing.ListOptions) (routing.Page[T], error), key func(T) string) ([]string, []routing.InvalidRecord) {
	t.Helper()
	var keys []string
	var invalid []routing.InvalidRecord
	o := routing.ListOptions{Limit: limit}
	// A backend may return short (even empty) pages, but not forever.
	for range 200 {
		page, err := list(context.Background(), o)
		if err != nil {
			t.Fatalf("list (cursor %q): %v", o.Cursor, err)
		}
		if n := len(page.Items) + len(page.Invalid); n > limit {
			t.Errorf("page holds %d records, more than the limit %d", n, limit)
		}
		for _, it := range page.Items {
			keys = append(keys, key(it))
		}
		invalid = append(invalid, page.Invalid...)
		if page.Next == "" {
			return keys, invalid
		}
		o.Cursor = page.Next
	}
	t.Fatal("listing did not end after 200 pages")
	return nil, nil
}

// checkKeys reports keys that are missing, extra or repeated.
func checkKeys(t *testing.T, what string, got, want []string) {
	t.Helper()
	g, w := slices.Sorted(slices.Values(got)), slices.Sorted(slices.Values(want))
	if !slices.Equal(g, w) {
		t.Errorf("%s listed %q, want each of %q once", what, g, w)
	}
}

func testListUsers(t *testing.T, s routing.Store) {
	ctx := context.Background()
	want := []string{"alice", "bob@example.com"}
	for i := range 23 {
		u := routing.User{Name: fmt.Sprintf("user-%02d", i), LOBs: []string{"lob-a"}}
		if err := s.CreateUser(ctx, u); err != nil {
			t.Fatal(err)
		}
		want = append(want, u.Name)
	}
	for _, limit := range []int{1, 4, 100} {
		got, invalid := collect(t, limit, s.ListUsers, func(u routing.User) string { return u.Name })
		checkKeys(t, fmt.Sprintf("ListUsers (limit %d)", limit), got, want)
		if len(invalid) > 0 {
			t.Errorf("invalid users: %v", invalid)
		}
	}
	page, err := s.ListUsers(ctx, routing.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range page.Items {
		if u.Name == "alice" && !equalUser(u, seed().Users[0]) {
			t.Errorf("listed alice = %+v, want %+v", u, seed().Users[0])
		}
	}
}

func testListLOBs(t *testing.T, s routing.Store) {
	ctx := context.Background()
	want := []string{"lob-a", "lob-b"}
	for i := range 9 {
		l := lobC()
		l.Name = fmt.Sprintf("lob-x%d", i)
		if err := s.CreateLOB(ctx, l); err != nil {
			t.Fatal(err)
		}
		want = append(want, l.Name)
	}
	for _, limit := range []int{1, 3, 100} {
		got, invalid := collect(t, limit, s.ListLOBs, func(l routing.LOB) string { return l.Name })
		checkKeys(t, fmt.Sprintf("ListLOBs (limit %d)", limit), got, want)
		var bad []string
		for _, r := range invalid {
			bad = append(bad, r.Key)
			if r.Kind != routing.KindLOB || !errors.Is(r.Err, routing.ErrInvalid) {
				t.Errorf("invalid record %+v: want kind lob and an error wrapping ErrInvalid", r)
			}
			field := map[string]string{"lob-no-account": "accountId", "lob-bad-domain": "domainId"}[r.Key]
			if field == "" || !strings.Contains(r.Err.Error(), field) {
				t.Errorf("invalid record %s: %v does not name the field %q", r.Key, r.Err, field)
			}
		}
		checkKeys(t, "invalid LOBs", bad, []string{"lob-no-account", "lob-bad-domain"})
	}
}

func testListGroups(t *testing.T, s routing.Store) {
	ctx := context.Background()
	want := []string{"data-science"}
	for i := range 6 {
		g := routing.Group{Name: fmt.Sprintf("group %d", i), LOBs: []string{"lob-b"}}
		if err := s.CreateGroup(ctx, g); err != nil {
			t.Fatal(err)
		}
		want = append(want, g.Name)
	}
	for _, limit := range []int{1, 5, 100} {
		got, invalid := collect(t, limit, s.ListGroups, func(g routing.Group) string { return g.Name })
		checkKeys(t, fmt.Sprintf("ListGroups (limit %d)", limit), got, want)
		if len(invalid) > 0 {
			t.Errorf("invalid groups: %v", invalid)
		}
	}
}

func testListBadCursor(t *testing.T, s routing.Store) {
	ctx := context.Background()
	if _, err := s.ListUsers(ctx, routing.ListOptions{Cursor: "not a cursor!"}); !errors.Is(err, routing.ErrBadCursor) {
		t.Errorf("ListUsers with garbage cursor = %v, want ErrBadCursor", err)
	}
	page, err := s.ListUsers(ctx, routing.ListOptions{Limit: 1})
	if err != nil || page.Next == "" {
		t.Fatalf("ListUsers(limit 1) = %+v, %v", page, err)
	}
	if _, err := s.ListLOBs(ctx, routing.ListOptions{Cursor: page.Next}); !errors.Is(err, routing.ErrBadCursor) {
		t.Errorf("ListLOBs with a users cursor = %v, want ErrBadCursor", err)
	}
}
