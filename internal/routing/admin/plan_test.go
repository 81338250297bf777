package admin

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/sagegate/sagegate/internal/routing"
	"github.com/sagegate/sagegate/internal/routing/file"
)

var planDefaults = routing.Defaults{Region: "eu-west-1", RoleName: "sagegate-access"}

// openRoutes is a file store over a routes file holding doc, opened as the
// admin CLI opens it (bad records included).
func openRoutes(t *testing.T, doc string) *file.Store {
	t.Helper()
	path := filepath.Join(t.TempDir(), "routes.yaml")
	if err := os.WriteFile(path, []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
	s, err := file.Open(file.Config{Path: path}, planDefaults)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func changeStrings(cs []Change) []string {
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = c.String()
	}
	return out
}

// planAndApply plans want over s without pruning, applies the plan, and
// returns its changes.
func planAndApply(t *testing.T, s routing.Store, want Routes) []string {
	t.Helper()
	changes, err := Plan(context.Background(), s, want, planDefaults, false)
	if err != nil {
		t.Fatal(err)
	}
	if err := Apply(context.Background(), s, changes); err != nil {
		t.Fatal(err)
	}
	return changeStrings(changes)
}

func TestPlanApplyPrune(t *testing.T) {
	ctx := context.Background()
	s := openRoutes(t, `
lobs:
  lob-old: {accountId: "111122223333", domainId: d-oooooooooooo}
  lob-bad: {accountId: "12", domainId: d-bbbbbbbbbbbb}
users:
  carol: {lobs: [lob-old]}
groups:
  old-group: [lob-old]
`)
	want := Routes{
		LOBs: []routing.LOB{
			{Name: "lob-bad", AccountID: "444455556666", DomainID: "d-bbbbbbbbbbbb"},
			{Name: "lob-new", AccountID: "777788889999", DomainID: "d-nnnnnnnnnnnn"},
		},
		Users:  []routing.User{{Name: "alice", LOBs: []string{"lob-new"}}},
		Groups: []routing.Group{{Name: "team", LOBs: []string{"lob-new", "lob-bad"}}},
	}
	changes, err := Plan(ctx, s, want, planDefaults, true)
	if err != nil {
		t.Fatal(err)
	}
	// LOBs first, so the user and group that name lob-new can be created;
	// deletions last, the LOB after what names it.
	wantChanges := []string{
		"~ lob lob-bad: repairs an invalid record",
		"+ lob lob-new",
		"+ group team",
		"+ user alice",
		"- user carol",
		"- group old-group",
		"- lob lob-old",
	}
	if got := changeStrings(changes); !slices.Equal(got, wantChanges) {
		t.Fatalf("plan =\n%q\nwant\n%q", got, wantChanges)
	}
	if err := Apply(ctx, s, changes); err != nil {
		t.Fatalf("apply: %v", err)
	}
	// Importing the same routes again changes nothing.
	again, err := Plan(ctx, s, want, planDefaults, true)
	if err != nil {
		t.Fatal(err)
	}
	if len(again) != 0 {
		t.Errorf("second plan = %q, want nothing", changeStrings(again))
	}
	l, err := s.GetLOB(ctx, "lob-bad")
	if err != nil || l.AccountID != "444455556666" {
		t.Errorf("lob-bad after apply = %+v, %v", l, err)
	}
}

func TestPlanUpdatesOnlyWhatDiffers(t *testing.T) {
	ctx := context.Background()
	s := openRoutes(t, `
lobs:
  lob-a: {accountId: "111122223333", domainId: d-aaaaaaaaaaaa, region: eu-west-1}
users:
  bob: {lobs: [lob-a]}
  dave: {lobs: [lob-a], disabled: true}
`)
	want := Routes{
		// region as the default: equal once normalised, so not an update.
		LOBs:  []routing.LOB{{Name: "lob-a", AccountID: "111122223333", DomainID: "d-aaaaaaaaaaaa"}},
		Users: []routing.User{{Name: "bob", LOBs: []string{"lob-a"}}, {Name: "dave", LOBs: []string{"lob-a"}}},
	}
	if got := planAndApply(t, s, want); len(got) != 1 || got[0] != "~ user dave: disabled true -> (none)" {
		t.Errorf("plan = %q, want dave's disabled flag only", got)
	}
	if u, err := s.GetUser(ctx, "dave"); err != nil || u.Disabled {
		t.Errorf("dave after apply = %+v, %v; want enabled", u, err)
	}
}

func TestApplyStopsAtTheFirstFailure(t *testing.T) {
	ctx := context.Background()
	s := openRoutes(t, "lobs:\n  lob-a: {accountId: \"111122223333\", domainId: d-aaaaaaaaaaaa}\n")
	changes := []Change{
		{Op: OpDelete, Kind: routing.KindUser, Key: "nobody"},
		{Op: OpCreate, Kind: routing.KindGroup, Key: "g", group: routing.Group{Name: "g", LOBs: []string{"lob-a"}}},
	}
	err := Apply(ctx, s, changes)
	if err == nil {
		t.Fatal("apply succeeded, want the delete of a missing user to fail")
	}
	if _, err := s.GetGroup(ctx, "g"); err == nil {
		t.Error("the change after the failure was applied")
	}
}

func TestApplyUpdatesGroupAndRefusesUnknownChange(t *testing.T) {
	ctx := context.Background()
	s := openRoutes(t, `
lobs:
  lob-a: {accountId: "111122223333", domainId: d-aaaaaaaaaaaa}
  lob-b: {accountId: "444455556666", domainId: d-bbbbbbbbbbbb}
groups:
  team: [lob-a]
`)
	want := Routes{
		LOBs:   []routing.LOB{{Name: "lob-a", AccountID: "111122223333", DomainID: "d-aaaaaaaaaaaa"}, {Name: "lob-b", AccountID: "444455556666", DomainID: "d-bbbbbbbbbbbb"}},
		Groups: []routing.Group{{Name: "team", LOBs: []string{"lob-a", "lob-b"}}},
	}
	if got := planAndApply(t, s, want); len(got) != 1 || got[0] != "~ group team: lobs [lob-a] -> [lob-a lob-b]" {
		t.Errorf("plan = %q, want team's lobs only", got)
	}
	if g, err := s.GetGroup(ctx, "team"); err != nil || !slices.Equal(g.LOBs, []string{"lob-a", "lob-b"}) {
		t.Errorf("team after apply = %+v, %v", g, err)
	}
	for _, c := range []Change{{Op: "rename", Kind: routing.KindUser, Key: "bob"}, {Op: OpDelete, Kind: "space", Key: "s"}} {
		if err := Apply(ctx, s, []Change{c}); err == nil {
			t.Errorf("%+v applied, want an unknown change refused", c)
		}
	}
}
