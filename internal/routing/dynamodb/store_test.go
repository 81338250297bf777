package dynamodb_test

import (
	"context"
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	ddb "github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/sagegate/sagegate/internal/routing"
	"github.com/sagegate/sagegate/internal/routing/dynamodb"
	"github.com/sagegate/sagegate/internal/routing/dynamodb/dynamodbtest"
)

var defaults = routing.Defaults{Region: "eu-west-1", RoleName: "sagegate-access"}

func s(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }
func n(v string) types.AttributeValue { return &types.AttributeValueMemberN{Value: v} }

// TestSampleTables reads items exactly as the AWS sample writes them: the
// LOB carries nothing but its account, so region and role come from the
// defaults and the domain is left to discovery.
func TestSampleTables(t *testing.T) {
	db := dynamodbtest.Start(t)
	c := db.Tables(t)
	db.Put(t, c.UsersTable, "PK", "user-lob-a", "LOB", "lob-a")
	db.Put(t, c.LOBsTable, "PK", "lob-a", "ACCOUNT_ID", "111111111111")
	store := dynamodb.New(db.AWS, c, defaults, dynamodb.Options{})
	ctx := context.Background()

	u, err := store.GetUser(ctx, "user-lob-a")
	if err != nil || !slices.Equal(u.LOBs, []string{"lob-a"}) || u.Disabled || u.Profile != "" {
		t.Errorf("GetUser = %+v, %v", u, err)
	}
	l, err := store.GetLOB(ctx, "lob-a")
	if err != nil {
		t.Fatal(err)
	}
	want := routing.LOB{
		Name: "lob-a", AccountID: "111111111111", Region: "eu-west-1",
		RoleARN:     "arn:aws:iam::111111111111:role/sagegate-access",
		ProfileRule: routing.ProfileRuleSanitized, SessionDuration: routing.Duration(routing.DefaultSessionDuration),
		URLLifetime: routing.Duration(routing.DefaultURLLifetime),
	}
	if !reflect.DeepEqual(l, want) {
		t.Errorf("GetLOB =\n%+v\nwant\n%+v", l, want)
	}
}

func TestLenientAttributes(t *testing.T) {
	db := dynamodbtest.Start(t)
	c := db.Tables(t)
	// An account id written as a number loses its leading zero.
	db.PutItem(t, c.LOBsTable, map[string]types.AttributeValue{"PK": s("lob-n"), "ACCOUNT_ID": n("11112222333")})
	// A string set of further LOBs, one repeating LOB.
	db.PutItem(t, c.UsersTable, map[string]types.AttributeValue{
		"PK": s("multi"), "LOB": s("lob-z"),
		"LOBS": &types.AttributeValueMemberSS{Value: []string{"lob-n", "lob-z", "lob-b"}},
	})
	db.PutItem(t, c.UsersTable, map[string]types.AttributeValue{"PK": s("odd"), "LOB": s("lob-n"), "DISABLED": s("yes"), "LOBS": n("3")})
	store := dynamodb.New(db.AWS, c, defaults, dynamodb.Options{})
	ctx := context.Background()

	if l, err := store.GetLOB(ctx, "lob-n"); err != nil || l.AccountID != "011112222333" {
		t.Errorf("GetLOB(lob-n) = %+v, %v; want account 011112222333", l, err)
	}
	if u, err := store.GetUser(ctx, "multi"); err != nil || !slices.Equal(u.LOBs, []string{"lob-z", "lob-b", "lob-n"}) {
		t.Errorf("GetUser(multi) = %+v, %v; want LOB first, then the set sorted, each once", u, err)
	}
	_, err := store.GetUser(ctx, "odd")
	if !errors.Is(err, routing.ErrInvalid) || !strings.Contains(err.Error(), "DISABLED: must be a boolean (BOOL), got S") || !strings.Contains(err.Error(), "LOBS: must be a list") {
		t.Errorf("GetUser(odd) = %v, want both attributes named", err)
	}
}

// TestUpdateKeepsForeignAttributes: attributes of other tools survive, and
// fields that followed the defaults keep following them.
func TestUpdateKeepsForeignAttributes(t *testing.T) {
	db := dynamodbtest.Start(t)
	c := db.Tables(t)
	db.Put(t, c.LOBsTable, "PK", "lob-a", "ACCOUNT_ID", "111111111111", "COST_CENTER", "cc-42")
	store := dynamodb.New(db.AWS, c, defaults, dynamodb.Options{})
	ctx := context.Background()
	for _, label := range []string{"first", "second"} {
		if err := store.UpdateLOB(ctx, "lob-a", func(l routing.LOB) (routing.LOB, error) {
			l.Label = label
			return l, nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	out, err := db.Client.GetItem(ctx, &ddb.GetItemInput{TableName: aws.String(c.LOBsTable), Key: map[string]types.AttributeValue{"PK": s("lob-a")}})
	if err != nil {
		t.Fatal(err)
	}
	item := out.Item
	if v, _ := item["COST_CENTER"].(*types.AttributeValueMemberS); v == nil || v.Value != "cc-42" {
		t.Errorf("COST_CENTER = %#v, want it kept", item["COST_CENTER"])
	}
	if v, _ := item["LABEL"].(*types.AttributeValueMemberS); v == nil || v.Value != "second" {
		t.Errorf("LABEL = %#v", item["LABEL"])
	}
	if v, _ := item["VERSION"].(*types.AttributeValueMemberN); v == nil || v.Value != "2" {
		t.Errorf("VERSION = %#v, want 2 after two updates", item["VERSION"])
	}
	for _, a := range []string{"REGION", "ROLE_ARN", "PROFILE_RULE", "SESSION_SECONDS", "URL_LIFETIME_SECONDS"} {
		if _, ok := item[a]; ok {
			t.Errorf("%s = %v was written; the default should stay a default", a, item[a])
		}
	}
}

func TestGroupKeysAreNotLOBs(t *testing.T) {
	db := dynamodbtest.Start(t)
	c := db.Tables(t)
	store := dynamodb.New(db.AWS, c, defaults, dynamodb.Options{})
	ctx := context.Background()
	if err := store.CreateGroup(ctx, routing.Group{Name: "ds", LOBs: []string{"lob-a"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := store.GetLOB(ctx, "group#ds"); !errors.Is(err, routing.ErrNotFound) {
		t.Errorf("GetLOB(group#ds) = %v, want not found", err)
	}
	if err := store.DeleteLOB(ctx, "group#ds"); !errors.Is(err, routing.ErrNotFound) {
		t.Errorf("DeleteLOB(group#ds) = %v, want not found", err)
	}
	if g, err := store.GroupLOBs(ctx, "ds"); err != nil || !slices.Equal(g, []string{"lob-a"}) {
		t.Errorf("GroupLOBs = %q, %v", g, err)
	}
}

func TestStoreFailures(t *testing.T) {
	db := dynamodbtest.Start(t)
	ctx := context.Background()

	missing := dynamodb.New(db.AWS, dynamodb.Config{UsersTable: "no-such-users", LOBsTable: "no-such-lobs", Endpoint: db.Endpoint}, defaults, dynamodb.Options{})
	_, err := missing.GetUser(ctx, "bob")
	if err == nil || errors.Is(err, routing.ErrNotFound) || !strings.Contains(err.Error(), `table "no-such-users" does not exist`) {
		t.Errorf("missing table: %v", err)
	}

	// Nothing listens on port 9 of the loopback interface.
	down := dynamodb.New(db.AWS, dynamodb.Config{Endpoint: "http://127.0.0.1:9"}, defaults, dynamodb.Options{CallTimeout: 2 * time.Second})
	if _, err := down.GetLOB(ctx, "lob-a"); err == nil || errors.Is(err, routing.ErrNotFound) || errors.Is(err, routing.ErrInvalid) {
		t.Errorf("store down: %v, want an error that is neither not-found nor invalid", err)
	}
	if g, err := down.GroupLOBs(ctx, "ds"); err == nil {
		t.Errorf("GroupLOBs with the store down = %q, nil; a failure must not read as 'no mapping'", g)
	}
}

func TestConfigValidate(t *testing.T) {
	if errs := (dynamodb.Config{}).Validate(); len(errs) != 0 {
		t.Errorf("defaults: %v", errs)
	}
	// DynamoDB's table names are 3 to 255 characters.
	if errs := (dynamodb.Config{UsersTable: "abc", LOBsTable: strings.Repeat("t", 255)}).Validate(); len(errs) != 0 {
		t.Errorf("shortest and longest names: %v", errs)
	}
	if errs := (dynamodb.Config{UsersTable: "ab", LOBsTable: strings.Repeat("t", 256)}).Validate(); len(errs) != 2 {
		t.Errorf("names of 2 and 256: %v, want both refused", errs)
	}
	errs := dynamodb.Config{UsersTable: "t", LOBsTable: "t", Endpoint: "localhost:8000"}.Validate()
	var msgs []string
	for _, e := range errs {
		msgs = append(msgs, e.Error())
	}
	want := []string{"usersTable: must be", "lobsTable: must be", "lobsTable: must differ", "endpoint: want"}
	if len(msgs) != len(want) {
		t.Fatalf("Validate = %q", msgs)
	}
	for i, w := range want {
		if !strings.HasPrefix(msgs[i], w) {
			t.Errorf("error %d = %q, want %q", i, msgs[i], w)
		}
	}
}
