// Package conformance is the test suite every routing.Store backend passes,
// so that backends agree on behaviour (sentinel errors, nil for an unmapped
// group, ownership of returned slices) and not only on method signatures.
//
// A backend runs it from its own tests in a few lines:
//
//	func TestConformance(t *testing.T) {
//		conformance.Run(t, func(t *testing.T, s conformance.Seed) routing.Store {
//			return newStoreHolding(t, s)
//		})
//	}
package conformance

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/sagegate/sagegate/internal/routing"
)

// Seed is the data a backend must hold before a test runs. Its LOBs and
// users are valid and normalised, so a backend may store them as they are;
// BadLOBs are not, and the backend must store them all the same, bypassing
// its own validation (as a person editing the table by hand would), so that
// the suite can check that one bad record does not break the rest.
type Seed struct {
	LOBs    []routing.LOB
	Users   []routing.User
	Groups  map[string][]string
	BadLOBs []routing.LOB
}

// NewStore returns a backend holding exactly s. It is called once per test,
// and may use t for cleanup and to fail.
type NewStore func(t *testing.T, s Seed) routing.Store

// Run runs every conformance test against stores made by newStore.
func Run(t *testing.T, newStore NewStore) {
	tests := []struct {
		name string
		run  func(t *testing.T, s routing.Store)
	}{
		{"GetLOB", testGetLOB},
		{"GetLOBNotFound", testGetLOBNotFound},
		{"GetUser", testGetUser},
		{"GetUserNotFound", testGetUserNotFound},
		{"GroupLOBs", testGroupLOBs},
		{"GroupLOBsUnmapped", testGroupLOBsUnmapped},
		{"GetGroup", testGetGroup},
		{"CallerOwnsSlices", testCallerOwnsSlices},
		{"ConcurrentReads", testConcurrentReads},
		{"BadRecordGet", testBadRecordGet},
		{"CreateUser", testCreateUser},
		{"CreateLOB", testCreateLOB},
		{"CreateGroup", testCreateGroup},
		{"UpdateUser", testUpdateUser},
		{"UpdateLOB", testUpdateLOB},
		{"UpdateGroup", testUpdateGroup},
		{"UpdateRepairsBadRecord", testUpdateRepairsBadRecord},
		{"Delete", testDelete},
		{"ConcurrentUpdates", testConcurrentUpdates},
		{"ListUsersPaginated", testListUsers},
		{"ListLOBsReportsBadRecords", testListLOBs},
		{"ListGroupsPaginated", testListGroups},
		{"ListBadCursor", testListBadCursor},
		{"Notebooks", testNotebooks},
		{"NotebooksCallerOwns", testNotebooksCallerOwns},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.run(t, newStore(t, seed()))
		})
	}
}

// seed returns a fresh Seed on every call, so a backend that keeps the
// slices it is given cannot be disturbed by another test.
func seed() Seed {
	return Seed{
		LOBs: []routing.LOB{lobA(), lobB()},
		Users: []routing.User{
			{Name: "alice", LOBs: []string{"lob-a", "lob-b"}, Profile: "alice-override"},
			{Name: "bob@example.com", LOBs: []string{"lob-b"}, Disabled: true},
		},
		Groups: map[string][]string{
			"data-science": {"lob-b", "lob-a"},
		},
		BadLOBs: []routing.LOB{badNoAccount(), badDomain()},
	}
}

// badNoAccount is a LOB whose account id is missing.
func badNoAccount() routing.LOB {
	l := lobA()
	l.Name, l.AccountID = "lob-no-account", ""
	l.RoleARN = "arn:aws:iam::111122223333:role/sagegate-access"
	return l
}

// badDomain is a LOB whose domain id has the wrong shape.
func badDomain() routing.LOB {
	l := lobA()
	l.Name, l.DomainID = "lob-bad-domain", "D_NOT_A_DOMAIN"
	return l
}

func lobA() routing.LOB {
	return routing.LOB{
		Name:            "lob-a",
		AccountID:       "111122223333",
		Region:          "eu-west-1",
		DomainID:        "d-aaaaaaaaaaaa",
		RoleARN:         "arn:aws:iam::111122223333:role/sagegate-access",
		ExternalID:      "ext-a",
		ProfileRule:     routing.ProfileRuleSanitized,
		SessionDuration: routing.Duration(12 * time.Hour),
		URLLifetime:     routing.Duration(5 * time.Second),
		Label:           "LOB A",
	}
}

func lobB() routing.LOB {
	return routing.LOB{
		Name:            "lob-b",
		AccountID:       "444455556666",
		Region:          "cn-north-1",
		DomainID:        "d-bbbbbbbbbbbb",
		RoleARN:         "arn:aws-cn:iam::444455556666:role/team/sagegate",
		ProfileRule:     routing.ProfileRuleEmailLocal,
		SessionDuration: routing.Duration(time.Hour),
		URLLifetime:     routing.Duration(time.Minute),
		Space:           "shared",
		LandingURI:      "app:JupyterLab:lab/tree",
	}
}

func testGetLOB(t *testing.T, s routing.Store) {
	for _, want := range []routing.LOB{lobA(), lobB()} {
		got, err := s.GetLOB(context.Background(), want.Name)
		if err != nil {
			t.Fatalf("GetLOB(%q): %v", want.Name, err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("GetLOB(%q) =\n%+v\nwant\n%+v", want.Name, got, want)
		}
	}
}

func testGetLOBNotFound(t *testing.T, s routing.Store) {
	_, err := s.GetLOB(context.Background(), "no-such-lob")
	checkNotFound(t, "GetLOB", "no-such-lob", err)
}

func testGetUser(t *testing.T, s routing.Store) {
	for _, want := range seed().Users {
		got, err := s.GetUser(context.Background(), want.Name)
		if err != nil {
			t.Fatalf("GetUser(%q): %v", want.Name, err)
		}
		if !equalUser(got, want) {
			t.Errorf("GetUser(%q) = %+v, want %+v", want.Name, got, want)
		}
	}
}

func testGetUserNotFound(t *testing.T, s routing.Store) {
	_, err := s.GetUser(context.Background(), "mallory")
	checkNotFound(t, "GetUser", "mallory", err)
	// Usernames are exact: a case variant is somebody else.
	_, err = s.GetUser(context.Background(), "Alice")
	checkNotFound(t, "GetUser", "Alice", err)
}

func testGroupLOBs(t *testing.T, s routing.Store) {
	got, err := s.GroupLOBs(context.Background(), "data-science")
	if err != nil {
		t.Fatalf("GroupLOBs: %v", err)
	}
	if want := []string{"lob-b", "lob-a"}; !slices.Equal(got, want) {
		t.Errorf("GroupLOBs = %q, want %q (order matters)", got, want)
	}
}

func testGroupLOBsUnmapped(t *testing.T, s routing.Store) {
	got, err := s.GroupLOBs(context.Background(), "unmapped")
	if got != nil || err != nil {
		t.Errorf("GroupLOBs(unmapped) = %q, %v; want nil, nil", got, err)
	}
}

func testCallerOwnsSlices(t *testing.T, s routing.Store) {
	ctx := context.Background()
	u, err := s.GetUser(ctx, "alice")
	if err != nil {
		t.Fatal(err)
	}
	u.LOBs[0] = "changed"
	g, err := s.GroupLOBs(ctx, "data-science")
	if err != nil {
		t.Fatal(err)
	}
	g[0] = "changed"

	u, _ = s.GetUser(ctx, "alice")
	if u.LOBs[0] != "lob-a" {
		t.Errorf("changing a returned user changed the store: LOBs = %q", u.LOBs)
	}
	g, _ = s.GroupLOBs(ctx, "data-science")
	if g[0] != "lob-b" {
		t.Errorf("changing returned group LOBs changed the store: %q", g)
	}
}

func testConcurrentReads(t *testing.T, s routing.Store) {
	ctx := context.Background()
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for i := range 8 {
		wg.Go(func() {
			for range 50 {
				if _, err := s.GetLOB(ctx, "lob-a"); err != nil {
					errs <- err
					return
				}
				u, err := s.GetUser(ctx, "alice")
				if err != nil {
					errs <- err
					return
				}
				u.LOBs[0] = fmt.Sprint(i)
				if _, err := s.GroupLOBs(ctx, "data-science"); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func checkNotFound(t *testing.T, op, name string, err error) {
	t.Helper()
	if !errors.Is(err, routing.ErrNotFound) {
		t.Errorf("%s(%q) error = %v, want one wrapping routing.ErrNotFound", op, name, err)
	}
}

func equalUser(a, b routing.User) bool {
	return a.Name == b.Name && a.Profile == b.Profile && a.Disabled == b.Disabled && slices.Equal(a.LOBs, b.LOBs)
}
