// Package dynamodbtest gives tests a DynamoDB (dynalite, through testenv)
// holding empty routing tables in the AWS sample's shape, and a real SDK
// client to it for writing items the way other tools would.
package dynamodbtest

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	ddb "github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/sagegate/sagegate/internal/routing/dynamodb"
	"github.com/sagegate/sagegate/internal/testenv"
)

// Region is the region the tables are created in; dynalite ignores it
// but the SDK signs with it.
const Region = "us-east-1"

// DB is a running dynalite.
type DB struct {
	Endpoint string
	// AWS is an SDK configuration with static test credentials, which
	// dynalite accepts without checking.
	AWS    aws.Config
	Client *ddb.Client
	seq    atomic.Int64
}

// Start starts dynalite for the duration of t.
func Start(t testing.TB) *DB {
	t.Helper()
	endpoint := testenv.Dynalite(t)
	cfg := aws.Config{Region: Region, Credentials: credentials.NewStaticCredentialsProvider("AKIDTEST", "test-secret", "")}
	return &DB{
		Endpoint: endpoint,
		AWS:      cfg,
		Client:   ddb.NewFromConfig(cfg, func(o *ddb.Options) { o.BaseEndpoint = aws.String(endpoint) }),
	}
}

// Tables creates a fresh pair of tables, keyed PK (a string) like the
// AWS sample's, and returns the store configuration naming them. With
// names given (users, LOBs) it uses those instead of fresh ones.
func (db *DB) Tables(t testing.TB, names ...string) dynamodb.Config {
	t.Helper()
	n := db.seq.Add(1)
	c := dynamodb.Config{
		UsersTable: fmt.Sprintf("users-map-table-%d", n),
		LOBsTable:  fmt.Sprintf("lobs-map-table-%d", n),
		Region:     Region,
		Endpoint:   db.Endpoint,
	}
	if len(names) == 2 {
		c.UsersTable, c.LOBsTable = names[0], names[1]
	}
	for _, table := range []string{c.UsersTable, c.LOBsTable} {
		_, err := db.Client.CreateTable(context.Background(), &ddb.CreateTableInput{
			TableName:            aws.String(table),
			AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("PK"), AttributeType: types.ScalarAttributeTypeS}},
			KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String("PK"), KeyType: types.KeyTypeHash}},
			BillingMode:          types.BillingModePayPerRequest,
		})
		if err != nil {
			t.Fatalf("dynamodbtest: creating table %s: %v", table, err)
		}
	}
	for _, table := range []string{c.UsersTable, c.LOBsTable} {
		db.waitActive(t, table)
	}
	return c
}

// waitActive returns once table is ACTIVE. dynalite (--createTableMs 0)
// activates a table on its next event-loop turn, so the first
// DescribeTable round trip nearly always sees it; the bound is a guard.
func (db *DB) waitActive(t testing.TB, table string) {
	t.Helper()
	for range 1000 {
		out, err := db.Client.DescribeTable(context.Background(), &ddb.DescribeTableInput{TableName: aws.String(table)})
		if err != nil {
			t.Fatalf("dynamodbtest: describing table %s: %v", table, err)
		}
		if out.Table.TableStatus == types.TableStatusActive {
			return
		}
	}
	t.Fatalf("dynamodbtest: table %s never became ACTIVE", table)
}

// Put writes one item made of string attributes (name, value pairs), as
// the AWS sample's scripts do with a plain PutItem.
func (db *DB) Put(t testing.TB, table string, attrs ...string) {
	t.Helper()
	if len(attrs)%2 != 0 {
		t.Fatalf("dynamodbtest: Put wants name/value pairs, got %d strings", len(attrs))
	}
	item := map[string]types.AttributeValue{}
	for i := 0; i < len(attrs); i += 2 {
		item[attrs[i]] = &types.AttributeValueMemberS{Value: attrs[i+1]}
	}
	db.PutItem(t, table, item)
}

// PutItem writes one item as given.
func (db *DB) PutItem(t testing.TB, table string, item map[string]types.AttributeValue) {
	t.Helper()
	if _, err := db.Client.PutItem(context.Background(), &ddb.PutItemInput{TableName: aws.String(table), Item: item}); err != nil {
		t.Fatalf("dynamodbtest: PutItem into %s: %v", table, err)
	}
}
