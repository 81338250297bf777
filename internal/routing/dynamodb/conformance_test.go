package dynamodb_test

import (
	"context"
	"testing"

	"github.com/sagegate/sagegate/internal/routing"
	"github.com/sagegate/sagegate/internal/routing/conformance"
	"github.com/sagegate/sagegate/internal/routing/dynamodb"
	"github.com/sagegate/sagegate/internal/routing/dynamodb/dynamodbtest"
)

// TestConformance runs the suite against dynalite through the real SDK.
// The seed is written with plain PutItem calls and without VERSION, as
// the AWS sample's tools write items, so that the first conditional update
// of each record takes the "no version yet" path.
func TestConformance(t *testing.T) {
	db := dynamodbtest.Start(t)
	conformance.Run(t, func(t *testing.T, s conformance.Seed) routing.Store {
		c := db.Tables(t)
		for _, l := range append(s.LOBs, s.BadLOBs...) {
			item, err := dynamodb.EncodeLOB(l, 0)
			if err != nil {
				t.Fatal(err)
			}
			delete(item, "VERSION")
			db.PutItem(t, c.LOBsTable, item)
		}
		for _, u := range s.Users {
			item, err := dynamodb.EncodeUser(u, 0)
			if err != nil {
				t.Fatal(err)
			}
			delete(item, "VERSION")
			db.PutItem(t, c.UsersTable, item)
		}
		store := dynamodb.New(db.AWS, c, routing.Defaults{}, dynamodb.Options{})
		for name, lobs := range s.Groups {
			if err := store.CreateGroup(context.Background(), routing.Group{Name: name, LOBs: lobs}); err != nil {
				t.Fatal(err)
			}
		}
		return store
	})
}
