// Package dynamodb is the routing backend that keeps routes in Amazon
// DynamoDB, in the tables of the AWS multi-account sample ("Secure
// SageMaker Studio presigned URLs, part 3") as they are:
//
//   - the users table, keyed PK (the username), with attribute LOB;
//   - the LOBs table, keyed PK (the LOB name), with attribute ACCOUNT_ID.
//
// Optional attributes extend both without disturbing the sample's own
// readers, which only ever get items by key and read LOB and ACCOUNT_ID:
//
//	users:  LOBS (list of further LOBs; a string set is read too),
//	        PROFILE_NAME, DISABLED (bool), VERSION (number)
//	LOBs:   REGION, DOMAIN_ID, ROLE_ARN, EXTERNAL_ID, PROFILE_RULE,
//	        SESSION_SECONDS, URL_LIFETIME_SECONDS (numbers), SPACE,
//	        PRIVATE_SPACE (bool), LANDING_URI, LABEL, JIT_PROFILES (bool),
//	        EXECUTION_ROLE, VERSION (number)
//
// IdP group mappings live in the LOBs table as items keyed "group#<name>"
// with a LOBS list. A LOB name cannot contain '#', so the two never collide,
// and the sample (which gets LOBs by key) never sees them.
//
// VERSION is what makes updates conditional: every write by sagegate
// increments it and is conditioned on the value it read, so concurrent
// writers retry instead of overwriting each other. Items written by other
// tools without VERSION are handled (the condition is then that VERSION is
// still absent). Attributes sagegate does not know are kept on update.
package dynamodb

import (
	"fmt"
	"net/url"
	"regexp"
)

// Default table names, those of the AWS sample.
const (
	DefaultUsersTable = "users-map-table"
	DefaultLOBsTable  = "lobs-map-table"
)

// Config is the routing.dynamodb section of the configuration file.
type Config struct {
	// UsersTable and LOBsTable name the tables. Defaults: those of the
	// AWS sample, users-map-table and lobs-map-table.
	UsersTable string `json:"usersTable,omitempty"`
	LOBsTable  string `json:"lobsTable,omitempty"`
	// Region of the tables. Default: aws.region.
	Region string `json:"region,omitempty"`
	// Endpoint overrides the DynamoDB endpoint (a VPC endpoint, DynamoDB
	// Local, dynalite in tests).
	Endpoint string `json:"endpoint,omitempty"`
	// ConsistentRead makes lookups strongly consistent, at twice the read
	// cost. The resolver cache makes staleness a matter of its TTL anyway.
	ConsistentRead bool `json:"consistentRead,omitempty"`
}

// WithDefaults returns c with its empty table names set to the defaults.
func (c Config) WithDefaults() Config {
	if c.UsersTable == "" {
		c.UsersTable = DefaultUsersTable
	}
	if c.LOBsTable == "" {
		c.LOBsTable = DefaultLOBsTable
	}
	return c
}

// tableNameRE is DynamoDB's table-name rule but for its length, 3 to 255,
// checked apart: a counted repetition compiles to a copy of its class per
// count (100 KB here, kept by every process).
var tableNameRE = regexp.MustCompile(`^[a-zA-Z0-9_.-]+$`)

// Validate reports every problem with c (after WithDefaults), each naming
// its key.
func (c Config) Validate() []error {
	c = c.WithDefaults()
	var errs []error
	for _, t := range []struct{ key, name string }{{"usersTable", c.UsersTable}, {"lobsTable", c.LOBsTable}} {
		if len(t.name) < 3 || len(t.name) > 255 || !tableNameRE.MatchString(t.name) {
			errs = append(errs, fmt.Errorf("%s: must be 3 to 255 of letters, digits, '_', '-', '.', got %q", t.key, t.name))
		}
	}
	if c.UsersTable == c.LOBsTable {
		errs = append(errs, fmt.Errorf("lobsTable: must differ from usersTable (both %q)", c.UsersTable))
	}
	if c.Endpoint != "" {
		if u, err := url.Parse(c.Endpoint); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			errs = append(errs, fmt.Errorf("endpoint: want an absolute http(s) URL, got %q", c.Endpoint))
		}
	}
	return errs
}
