package conformance

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/sagegate/sagegate/internal/routing"
)

func lobC() routing.LOB {
	l := lobA()
	l.Name, l.AccountID, l.DomainID = "lob-c", "777788889999", "d-cccccccccccc"
	l.RoleARN = "arn:aws:iam::777788889999:role/sagegate-access"
	l.ExternalID, l.Label = "", ""
	l.JITProfiles, l.PrivateSpace = true, true
	l.ExecutionRole = "arn:aws:iam::777788889999:role/service-role/exec"
	return l
}

func testGetGroup(t *testing.T, s routing.Store) {
	g, err := s.GetGroup(context.Background(), "data-science")
	if err != nil || g.Name != "data-science" || !slices.Equal(g.LOBs, []string{"lob-b", "lob-a"}) {
		t.Errorf("GetGroup = %+v, %v", g, err)
	}
	_, err = s.GetGroup(context.Background(), "unmapped")
	checkNotFound(t, "GetGroup", "unmapped", err)
}

func testBadRecordGet(t *testing.T, s routing.Store) {
	for name, field := range map[string]string{"lob-no-account": "accountId", "lob-bad-domain": "domainId"} {
		_, err := s.GetLOB(context.Background(), name)
		checkInvalid(t, "GetLOB", name, field, err)
	}
}

func testCreateUser(t *testing.T, s routing.Store) {
	ctx := context.Background()
	carol := routing.User{Name: "carol", LOBs: []string{"lob-a", "lob-b"}, Profile: "carol-x"}
	if err := s.CreateUser(ctx, carol); err != nil {
		t.Fatalf("CreateUser: %v", err)
	}
	if got, err := s.GetUser(ctx, "carol"); err != nil || !equalUser(got, carol) {
		t.Errorf("GetUser after create = %+v, %v; want %+v", got, err, carol)
	}
	for _, u := range []routing.User{carol, {Name: "alice", LOBs: []string{"lob-b"}}} {
		if err := s.CreateUser(ctx, u); !errors.Is(err, routing.ErrAlreadyExists) {
			t.Errorf("CreateUser(%q) again = %v, want ErrAlreadyExists", u.Name, err)
		}
	}
	if got, _ := s.GetUser(ctx, "alice"); got.Profile != "alice-override" {
		t.Errorf("a failed create changed alice: %+v", got)
	}
	err := s.CreateUser(ctx, routing.User{Name: "dan", Profile: "not.valid"})
	checkInvalid(t, "CreateUser", "dan", "profile", err)
	_, err = s.GetUser(ctx, "dan")
	checkNotFound(t, "GetUser", "dan", err)
}

func testCreateLOB(t *testing.T, s routing.Store) {
	ctx := context.Background()
	c := lobC()
	if err := s.CreateLOB(ctx, c); err != nil {
		t.Fatalf("CreateLOB: %v", err)
	}
	if got, err := s.GetLOB(ctx, "lob-c"); err != nil || !reflect.DeepEqual(got, c) {
		t.Errorf("GetLOB after create =\n%+v, %v\nwant\n%+v", got, err, c)
	}
	if err := s.CreateLOB(ctx, c); !errors.Is(err, routing.ErrAlreadyExists) {
		t.Errorf("CreateLOB again = %v, want ErrAlreadyExists", err)
	}
	bad := lobC()
	bad.Name, bad.AccountID = "lob-d", "12"
	checkInvalid(t, "CreateLOB", "lob-d", "accountId", s.CreateLOB(ctx, bad))
	_, err := s.GetLOB(ctx, "lob-d")
	checkNotFound(t, "GetLOB", "lob-d", err)
}

func testCreateGroup(t *testing.T, s routing.Store) {
	ctx := context.Background()
	if err := s.CreateGroup(ctx, routing.Group{Name: "finance", LOBs: []string{"lob-b", "lob-a"}}); err != nil {
		t.Fatalf("CreateGroup: %v", err)
	}
	if got, err := s.GroupLOBs(ctx, "finance"); err != nil || !slices.Equal(got, []string{"lob-b", "lob-a"}) {
		t.Errorf("GroupLOBs after create = %q, %v", got, err)
	}
	if err := s.CreateGroup(ctx, routing.Group{Name: "data-science", LOBs: []string{"lob-a"}}); !errors.Is(err, routing.ErrAlreadyExists) {
		t.Errorf("CreateGroup(data-science) = %v, want ErrAlreadyExists", err)
	}
	checkInvalid(t, "CreateGroup", "ops", "lobs[0]", s.CreateGroup(ctx, routing.Group{Name: "ops", LOBs: []string{""}}))
}

func testUpdateUser(t *testing.T, s routing.Store) {
	ctx := context.Background()
	err := s.UpdateUser(ctx, "alice", func(u routing.User) (routing.User, error) {
		if u.Name != "alice" || u.Profile != "alice-override" {
			return u, fmt.Errorf("fn got %+v", u)
		}
		u.LOBs = []string{"lob-b"}
		u.Disabled = true
		return u, nil
	})
	if err != nil {
		t.Fatalf("UpdateUser: %v", err)
	}
	want := routing.User{Name: "alice", LOBs: []string{"lob-b"}, Profile: "alice-override", Disabled: true}
	if got, err := s.GetUser(ctx, "alice"); err != nil || !equalUser(got, want) {
		t.Errorf("after update = %+v, %v; want %+v", got, err, want)
	}

	err = s.UpdateUser(ctx, "mallory", func(u routing.User) (routing.User, error) { return u, nil })
	checkNotFound(t, "UpdateUser", "mallory", err)

	boom := errors.New("changed my mind")
	if err := s.UpdateUser(ctx, "alice", func(u routing.User) (routing.User, error) {
		u.LOBs = nil
		return u, boom
	}); !errors.Is(err, boom) {
		t.Errorf("UpdateUser with failing fn = %v, want %v", err, boom)
	}
	err = s.UpdateUser(ctx, "alice", func(u routing.User) (routing.User, error) {
		u.Name = "alicia"
		return u, nil
	})
	checkInvalid(t, "UpdateUser (rename)", "alice", "name", err)
	err = s.UpdateUser(ctx, "alice", func(u routing.User) (routing.User, error) {
		u.Profile = "no.dots"
		return u, nil
	})
	checkInvalid(t, "UpdateUser (bad profile)", "alice", "profile", err)
	if got, _ := s.GetUser(ctx, "alice"); !equalUser(got, want) {
		t.Errorf("failed updates changed alice: %+v", got)
	}
}

func testUpdateLOB(t *testing.T, s routing.Store) {
	ctx := context.Background()
	err := s.UpdateLOB(ctx, "lob-a", func(l routing.LOB) (routing.LOB, error) {
		if !reflect.DeepEqual(l, lobA()) {
			return l, fmt.Errorf("fn got\n%+v\nwant\n%+v", l, lobA())
		}
		l.Label = "Renamed"
		l.JITProfiles = true
		return l, nil
	})
	if err != nil {
		t.Fatalf("UpdateLOB: %v", err)
	}
	want := lobA()
	want.Label, want.JITProfiles = "Renamed", true
	if got, err := s.GetLOB(ctx, "lob-a"); err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("after update =\n%+v, %v\nwant\n%+v", got, err, want)
	}
	err = s.UpdateLOB(ctx, "lob-zz", func(l routing.LOB) (routing.LOB, error) { return l, nil })
	checkNotFound(t, "UpdateLOB", "lob-zz", err)
	err = s.UpdateLOB(ctx, "lob-a", func(l routing.LOB) (routing.LOB, error) {
		l.Region = "mars"
		return l, nil
	})
	checkInvalid(t, "UpdateLOB (bad region)", "lob-a", "region", err)
}

func testUpdateGroup(t *testing.T, s routing.Store) {
	ctx := context.Background()
	err := s.UpdateGroup(ctx, "data-science", func(g routing.Group) (routing.Group, error) {
		g.LOBs = append(g.LOBs[:0], "lob-a")
		return g, nil
	})
	if err != nil {
		t.Fatalf("UpdateGroup: %v", err)
	}
	if got, _ := s.GroupLOBs(ctx, "data-science"); !slices.Equal(got, []string{"lob-a"}) {
		t.Errorf("after update GroupLOBs = %q", got)
	}
	err = s.UpdateGroup(ctx, "nope", func(g routing.Group) (routing.Group, error) { return g, nil })
	checkNotFound(t, "UpdateGroup", "nope", err)
}

func testUpdateRepairsBadRecord(t *testing.T, s routing.Store) {
	ctx := context.Background()
	err := s.UpdateLOB(ctx, "lob-no-account", func(l routing.LOB) (routing.LOB, error) {
		l.AccountID = "111122223333"
		return l, nil
	})
	if err != nil {
		t.Fatalf("UpdateLOB of a bad record: %v", err)
	}
	want := badNoAccount()
	want.AccountID = "111122223333"
	if got, err := s.GetLOB(ctx, "lob-no-account"); err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("repaired LOB =\n%+v, %v\nwant\n%+v", got, err, want)
	}
}

func testDelete(t *testing.T, s routing.Store) {
	ctx := context.Background()
	if err := s.CreateLOB(ctx, lobC()); err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		kind, name string
		del        func(context.Context, string) error
		get        func(context.Context, string) error
	}{
		{"user", "alice", s.DeleteUser, func(ctx context.Context, n string) error { _, err := s.GetUser(ctx, n); return err }},
		{"group", "data-science", s.DeleteGroup, func(ctx context.Context, n string) error { _, err := s.GetGroup(ctx, n); return err }},
		{"lob", "lob-c", s.DeleteLOB, func(ctx context.Context, n string) error { _, err := s.GetLOB(ctx, n); return err }},
		{"bad lob", "lob-bad-domain", s.DeleteLOB, func(ctx context.Context, n string) error { _, err := s.GetLOB(ctx, n); return err }},
	}
	for _, st := range steps {
		if err := st.del(ctx, st.name); err != nil {
			t.Errorf("delete %s %q: %v", st.kind, st.name, err)
		}
		checkNotFound(t, "get after delete "+st.kind, st.name, st.get(ctx, st.name))
		checkNotFound(t, "delete again "+st.kind, st.name, st.del(ctx, st.name))
	}
	if g, err := s.GroupLOBs(ctx, "data-science"); g != nil || err != nil {
		t.Errorf("GroupLOBs of a deleted group = %q, %v", g, err)
	}
	if _, err := s.GetUser(ctx, "bob@example.com"); err != nil {
		t.Errorf("deleting alice touched bob: %v", err)
	}
}

// testConcurrentUpdates has writers append to one record at once. Each
// token must survive: an update by function that lost a race must run again
// on the record the winner wrote, not overwrite it.
func testConcurrentUpdates(t *testing.T, s routing.Store) {
	const writers, each = 4, 5
	ctx := context.Background()
	var wg sync.WaitGroup
	errs := make(chan error, writers*each)
	for w := range writers {
		wg.Go(func() {
			for i := range each {
				errs <- s.UpdateLOB(ctx, "lob-a", func(l routing.LOB) (routing.LOB, error) {
					l.Label += fmt.Sprintf(" w%d.%d", w, i)
					return l, nil
				})
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("UpdateLOB: %v", err)
		}
	}
	got, err := s.GetLOB(ctx, "lob-a")
	if err != nil {
		t.Fatal(err)
	}
	for w := range writers {
		for i := range each {
			// With single-digit indices no token is a prefix of another.
			if tok := fmt.Sprintf(" w%d.%d", w, i); strings.Count(got.Label, tok) != 1 {
				t.Errorf("label %q holds %q %d times, want once (a lost update)", got.Label, tok, strings.Count(got.Label, tok))
			}
		}
	}
}

func checkInvalid(t *testing.T, op, key, field string, err error) {
	t.Helper()
	if !errors.Is(err, routing.ErrInvalid) {
		t.Errorf("%s(%q) error = %v, want one wrapping routing.ErrInvalid", op, key, err)
		return
	}
	if !strings.Contains(err.Error(), key) || !strings.Contains(err.Error(), field) {
		t.Errorf("%s(%q) error %q does not name the record %q and the field %q", op, key, err, key, field)
	}
}
