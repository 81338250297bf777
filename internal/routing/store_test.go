package routing

import (
	"context"
	"errors"
	"log/slog"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/sagegate/sagegate/internal/identity"
)

func TestCursor(t *testing.T) {
	c := EncodeCursor(KindUser, "bob@example.com")
	if key, err := DecodeCursor(KindUser, c); err != nil || key != "bob@example.com" {
		t.Errorf("DecodeCursor = %q, %v", key, err)
	}
	for _, bad := range []string{"!!", EncodeCursor(KindLOB, "x"), "Zm9v"} {
		if _, err := DecodeCursor(KindUser, bad); !errors.Is(err, ErrBadCursor) {
			t.Errorf("DecodeCursor(%q) = %v, want ErrBadCursor", bad, err)
		}
	}
}

func TestInvalidError(t *testing.T) {
	err := InvalidError(KindLOB, "lob-x", &FieldError{Field: "accountId", Msg: "required"}, &FieldError{Field: "region", Msg: "required"})
	if !errors.Is(err, ErrInvalid) || err.Error() != `lob "lob-x": routing: invalid record: accountId: required; region: required` {
		t.Errorf("InvalidError = %v", err)
	}
	var fe *FieldError
	if !errors.As(err, &fe) || fe.Field != "accountId" {
		t.Errorf("the field errors are not reachable: %v", err)
	}
}

func TestDefaultRoleAndDenormalize(t *testing.T) {
	d := Defaults{Region: "eu-west-1", RoleName: "sagegate-access"}
	raw := LOB{Name: "lob-a", AccountID: "111122223333"}
	l := raw
	l.Normalize(d)
	if l.RoleARN != "arn:aws:iam::111122223333:role/sagegate-access" || l.Region != "eu-west-1" {
		t.Fatalf("Normalize = %+v", l)
	}
	if errs := l.Validate(); len(errs) != 0 {
		t.Fatalf("a LOB of the sample's shape does not validate: %v", errs)
	}
	// An edit that leaves the defaults alone writes none of them back.
	edited := l
	edited.Label = "A"
	if got := Denormalize(edited, raw, d); !reflect.DeepEqual(got, LOB{Name: "lob-a", AccountID: "111122223333", Label: "A"}) {
		t.Errorf("Denormalize = %+v", got)
	}
	// A changed field is kept even when it was defaulted before.
	edited.Region, edited.URLLifetime = "us-east-1", Duration(time.Minute)
	if got := Denormalize(edited, raw, d); got.Region != "us-east-1" || got.URLLifetime != Duration(time.Minute) || got.RoleARN != "" {
		t.Errorf("Denormalize = %+v", got)
	}
}

func TestResolverSkipsInvalidLOB(t *testing.T) {
	s := newFakeStore()
	s.invalid = map[string]bool{"lob-c": true}
	var logs strings.Builder
	r := NewResolver(s, slog.New(slog.NewJSONHandler(&logs, nil)))
	got, err := r.Targets(context.Background(), &identity.Principal{Username: "carol"})
	if err != nil || len(got) != 1 || got[0].ID != "lob-a" {
		t.Fatalf("Targets = %+v, %v; want lob-a alone", got, err)
	}
	if !strings.Contains(logs.String(), "invalid") || !strings.Contains(logs.String(), "lob-c") {
		t.Errorf("log = %s", logs.String())
	}
}

func TestPrivateSpaceTarget(t *testing.T) {
	l := testLOB("lob-p", ProfileRuleSanitized)
	l.PrivateSpace, l.JITProfiles = true, true
	l.ExecutionRole = "arn:aws:iam::123456789012:role/exec"
	tg, err := TargetFor(l, "", "dave@example.com")
	if err != nil {
		t.Fatal(err)
	}
	if tg.Space != tg.UserProfile || !tg.PrivateSpace || !tg.JITProfiles || tg.ExecutionRole != l.ExecutionRole {
		t.Errorf("target = %+v", tg)
	}
}

// invalidGroupStore answers one group with an invalid record.
type invalidGroupStore struct{ *fakeStore }

func (s invalidGroupStore) GroupLOBs(ctx context.Context, g string) ([]string, error) {
	if g == "broken" {
		return nil, InvalidError(KindGroup, g, &FieldError{Field: "LOBS", Msg: "must be a list"})
	}
	return s.fakeStore.GroupLOBs(ctx, g)
}

func TestResolverSkipsInvalidGroup(t *testing.T) {
	var logs strings.Builder
	r := NewResolver(invalidGroupStore{newFakeStore()}, slog.New(slog.NewJSONHandler(&logs, nil)))
	got, err := r.Targets(context.Background(), &identity.Principal{Username: "zed", Groups: []string{"broken", "fin"}})
	if err != nil || len(got) != 1 || got[0].ID != "lob-b" {
		t.Fatalf("Targets = %+v, %v; want lob-b through fin", got, err)
	}
	if !strings.Contains(logs.String(), `"group":"broken"`) {
		t.Errorf("log = %s", logs.String())
	}
}
