package routing

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sagegate/sagegate/internal/identity"
)

// fakeStore is a map-backed Store whose methods can be made to fail.
type fakeStore struct {
	users  map[string]User
	lobs   map[string]LOB
	groups map[string][]string
	fail   error // returned by every method when set
	// invalid LOBs are answered with ErrInvalid, as a backend does for a
	// record that fails validation.
	invalid map[string]bool
}

func (f *fakeStore) GetUser(_ context.Context, name string) (User, error) {
	if f.fail != nil {
		return User{}, f.fail
	}
	u, ok := f.users[name]
	if !ok {
		return User{}, fmt.Errorf("user %q: %w", name, ErrNotFound)
	}
	return u, nil
}

func (f *fakeStore) GetLOB(_ context.Context, name string) (LOB, error) {
	if f.fail != nil {
		return LOB{}, f.fail
	}
	if f.invalid[name] {
		return LOB{}, InvalidError(KindLOB, name, &FieldError{Field: "accountId", Msg: "required"})
	}
	l, ok := f.lobs[name]
	if !ok {
		return LOB{}, fmt.Errorf("LOB %q: %w", name, ErrNotFound)
	}
	return l, nil
}

func (f *fakeStore) GroupLOBs(_ context.Context, group string) ([]string, error) {
	if f.fail != nil {
		return nil, f.fail
	}
	return f.groups[group], nil
}

func testLOB(name, rule string) LOB {
	l := LOB{
		Name:        name,
		AccountID:   "123456789012",
		Region:      "us-east-1",
		DomainID:    "d-" + strings.ReplaceAll(name, "-", ""),
		RoleARN:     "access",
		ProfileRule: rule,
	}
	l.Normalize(Defaults{})
	return l
}

func newFakeStore() *fakeStore {
	a := testLOB("lob-a", ProfileRuleSanitized)
	a.Label = "Team A"
	a.ExternalID = "ext-a"
	a.Space = "shared"
	a.LandingURI = "app:JupyterLab:lab"
	b := testLOB("lob-b", ProfileRuleEmailLocal)
	c := testLOB("lob-c", ProfileRuleUsername)
	return &fakeStore{
		lobs: map[string]LOB{"lob-a": a, "lob-b": b, "lob-c": c},
		users: map[string]User{
			"alice@example.com": {Name: "alice@example.com", LOBs: []string{"lob-b", "lob-a", "lob-b"}},
			"carol":             {Name: "carol", LOBs: []string{"lob-a", "lob-c"}, Profile: "carol-custom"},
			"dave":              {Name: "dave", LOBs: []string{"lob-a"}, Disabled: true},
			"erin":              {Name: "erin", LOBs: []string{"lob-gone", "lob-a", "lob-also-gone"}},
			"frank.x":           {Name: "frank.x", LOBs: []string{"lob-c", "lob-a"}},
			"gina":              {Name: "gina", LOBs: []string{"lob-a"}, Profile: "bad.override"},
			"nolobs":            {Name: "nolobs"},
			"hank":              {Name: "hank", LOBs: []string{"lob-b"}},
		},
		groups: map[string][]string{
			"ds":    {"lob-c", "lob-a"},
			"fin":   {"lob-b"},
			"stale": {"lob-gone"},
		},
	}
}

func TestResolverTargets(t *testing.T) {
	tests := []struct {
		name        string
		principal   identity.Principal
		wantIDs     []string
		wantProfile []string
		wantLog     []string // substrings the log must hold
	}{
		{
			name:        "direct LOBs in record order, deduplicated",
			principal:   identity.Principal{Username: "alice@example.com"},
			wantIDs:     []string{"lob-b", "lob-a"},
			wantProfile: []string{"alice", "alice-example-com-" + hash8("alice@example.com")},
		},
		{
			name:        "direct first, then groups in group order",
			principal:   identity.Principal{Username: "hank", Groups: []string{"unmapped", "ds", "fin"}},
			wantIDs:     []string{"lob-b", "lob-c", "lob-a"},
			wantProfile: []string{"hank", "hank", "hank"},
		},
		{
			name:        "group LOB skipped when the username rule refuses the name",
			principal:   identity.Principal{Username: "alice@example.com", Groups: []string{"unmapped", "ds", "fin"}},
			wantIDs:     []string{"lob-b", "lob-a"},
			wantProfile: []string{"alice", "alice-example-com-" + hash8("alice@example.com")},
			wantLog:     []string{`"lob":"lob-c"`, "no user-profile name"},
		},
		{
			name:        "groups only, no user record",
			principal:   identity.Principal{Username: "zed", Groups: []string{"fin", "ds"}},
			wantIDs:     []string{"lob-b", "lob-c", "lob-a"},
			wantProfile: []string{"zed", "zed", "zed"},
		},
		{
			name:        "override wins over every rule",
			principal:   identity.Principal{Username: "carol"},
			wantIDs:     []string{"lob-a", "lob-c"},
			wantProfile: []string{"carol-custom", "carol-custom"},
		},
		{
			name:        "missing LOBs skipped and logged once",
			principal:   identity.Principal{Username: "erin", Groups: []string{"stale"}},
			wantIDs:     []string{"lob-a"},
			wantProfile: []string{"erin"},
			wantLog:     []string{"lob-gone", "lob-also-gone"},
		},
		{
			name:        "unmappable username skips only that target",
			principal:   identity.Principal{Username: "frank.x"},
			wantIDs:     []string{"lob-a"},
			wantProfile: []string{"frank-x-" + hash8("frank.x")},
			wantLog:     []string{`"lob":"lob-c"`},
		},
		{
			name:      "invalid override skips every target",
			principal: identity.Principal{Username: "gina"},
			wantLog:   []string{"bad.override"},
		},
		{
			name:      "no record and no groups",
			principal: identity.Principal{Username: "stranger", Groups: []string{"unmapped"}},
		},
		{
			name:      "record without LOBs",
			principal: identity.Principal{Username: "nolobs"},
		},
		{
			name:      "every LOB missing",
			principal: identity.Principal{Username: "stranger", Groups: []string{"stale"}},
			wantLog:   []string{"lob-gone"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var logs bytes.Buffer
			r := NewResolver(newFakeStore(), slog.New(slog.NewJSONHandler(&logs, nil)))
			got, err := r.Targets(context.Background(), &tc.principal)
			if err != nil {
				t.Fatalf("Targets: %v", err)
			}
			if len(tc.wantIDs) == 0 {
				if got != nil {
					t.Errorf("Targets = %+v, want nil", got)
				}
			}
			var ids []string
			for _, tg := range got {
				ids = append(ids, tg.ID)
			}
			if !slices.Equal(ids, tc.wantIDs) {
				t.Errorf("target ids = %q, want %q", ids, tc.wantIDs)
			}
			for i, tg := range got {
				if i < len(tc.wantProfile) && tc.wantProfile[i] != "" && tg.UserProfile != tc.wantProfile[i] {
					t.Errorf("target %s profile = %q, want %q", tg.ID, tg.UserProfile, tc.wantProfile[i])
				}
			}
			for _, s := range tc.wantLog {
				if !strings.Contains(logs.String(), s) {
					t.Errorf("log %q does not mention %q", logs.String(), s)
				}
			}
			if len(tc.wantLog) == 0 && logs.Len() > 0 {
				t.Errorf("unexpected log: %s", logs.String())
			}
			if n := strings.Count(logs.String(), "do not exist"); n > 1 {
				t.Errorf("missing LOBs logged %d times, want once per call", n)
			}
		})
	}
}

func TestResolverTargetFields(t *testing.T) {
	s := newFakeStore()
	got, err := NewResolver(s, nil).Targets(context.Background(), &identity.Principal{Username: "carol"})
	if err != nil {
		t.Fatal(err)
	}
	want := Target{
		ID:              "lob-a",
		Kind:            KindStudio,
		Label:           "Team A",
		LOB:             "lob-a",
		AccountID:       "123456789012",
		Region:          "us-east-1",
		DomainID:        "d-loba",
		UserProfile:     "carol-custom",
		Space:           "shared",
		LandingURI:      "app:JupyterLab:lab",
		RoleARN:         "arn:aws:iam::123456789012:role/access",
		ExternalID:      "ext-a",
		SessionDuration: 12 * time.Hour,
		URLLifetime:     5 * time.Second,
	}
	if len(got) != 2 || got[0] != want {
		t.Fatalf("Targets()[0] =\n%+v\nwant\n%+v", got, want)
	}
	if got[1].Label != "lob-c" {
		t.Errorf("label without LOB.Label = %q, want the LOB name", got[1].Label)
	}
}

func TestResolverErrors(t *testing.T) {
	boom := errors.New("store down")
	tests := []struct {
		name    string
		store   func() *fakeStore
		p       *identity.Principal
		wantErr error
	}{
		{name: "disabled user", store: newFakeStore, p: &identity.Principal{Username: "dave", Groups: []string{"ds"}}, wantErr: ErrUserDisabled},
		{name: "store failure", store: func() *fakeStore { s := newFakeStore(); s.fail = boom; return s }, p: &identity.Principal{Username: "alice@example.com"}, wantErr: boom},
		{name: "nil principal", store: newFakeStore, p: nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := NewResolver(tc.store(), nil).Targets(context.Background(), tc.p)
			if err == nil || got != nil {
				t.Fatalf("Targets = %+v, %v; want nil and an error", got, err)
			}
			if tc.wantErr != nil && !errors.Is(err, tc.wantErr) {
				t.Errorf("error %v, want one wrapping %v", err, tc.wantErr)
			}
			if errors.Is(err, ErrNotFound) {
				t.Errorf("error %v must not look like not-found", err)
			}
		})
	}
}

// groupFailStore fails only group lookups, to show that a failing group
// mapping is an error rather than a silently shorter list.
type groupFailStore struct{ *fakeStore }

func (groupFailStore) GroupLOBs(context.Context, string) ([]string, error) {
	return nil, errors.New("group table down")
}

func TestResolverGroupFailure(t *testing.T) {
	r := NewResolver(groupFailStore{newFakeStore()}, nil)
	got, err := r.Targets(context.Background(), &identity.Principal{Username: "alice@example.com", Groups: []string{"ds"}})
	if err == nil || got != nil {
		t.Fatalf("Targets = %+v, %v; want an error", got, err)
	}
}

func TestFindTarget(t *testing.T) {
	targets := []Target{{ID: "a", Label: "A"}, {ID: "b", Label: "B"}}
	if got, ok := FindTarget(targets, "b"); !ok || got.Label != "B" {
		t.Errorf("FindTarget(b) = %+v, %v", got, ok)
	}
	if got, ok := FindTarget(targets, "c"); ok || got != (Target{}) {
		t.Errorf("FindTarget(c) = %+v, %v; want zero, false", got, ok)
	}
	if _, ok := FindTarget(nil, "a"); ok {
		t.Error("FindTarget(nil) found something")
	}
}

func BenchmarkResolverTargets(b *testing.B) {
	r := NewResolver(newFakeStore(), nil)
	p := &identity.Principal{Username: "alice@example.com", Groups: []string{"unmapped", "fin", "other"}}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := r.Targets(ctx, p); err != nil {
			b.Fatal(err)
		}
	}
}
