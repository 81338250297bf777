package dynamodb

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/sagegate/sagegate/internal/routing"
)

// Attribute names. PK, LOB and ACCOUNT_ID are the AWS sample's.
const (
	attrPK      = "PK"
	attrVersion = "VERSION"
	// groupPrefix starts the key of a group mapping in the LOBs table.
	groupPrefix = "group#"
)

// userItem is a users-table item as sagegate writes it. LOB holds the
// first LOB, so the sample's readers still see a sensible one; LOBS the
// rest, in order.
type userItem struct {
	PK       string   `dynamodbav:"PK"`
	LOB      string   `dynamodbav:"LOB,omitempty"`
	LOBS     []string `dynamodbav:"LOBS,omitempty"`
	Profile  string   `dynamodbav:"PROFILE_NAME,omitempty"`
	Disabled bool     `dynamodbav:"DISABLED,omitempty"`
	Version  int64    `dynamodbav:"VERSION"`
}

type lobItem struct {
	PK             string `dynamodbav:"PK"`
	AccountID      string `dynamodbav:"ACCOUNT_ID,omitempty"`
	Region         string `dynamodbav:"REGION,omitempty"`
	DomainID       string `dynamodbav:"DOMAIN_ID,omitempty"`
	RoleARN        string `dynamodbav:"ROLE_ARN,omitempty"`
	ExternalID     string `dynamodbav:"EXTERNAL_ID,omitempty"`
	ProfileRule    string `dynamodbav:"PROFILE_RULE,omitempty"`
	SessionSeconds int64  `dynamodbav:"SESSION_SECONDS,omitempty"`
	URLSeconds     int64  `dynamodbav:"URL_LIFETIME_SECONDS,omitempty"`
	Space          string `dynamodbav:"SPACE,omitempty"`
	PrivateSpace   bool   `dynamodbav:"PRIVATE_SPACE,omitempty"`
	LandingURI     string `dynamodbav:"LANDING_URI,omitempty"`
	Label          string `dynamodbav:"LABEL,omitempty"`
	JITProfiles    bool   `dynamodbav:"JIT_PROFILES,omitempty"`
	ExecutionRole  string `dynamodbav:"EXECUTION_ROLE,omitempty"`
	Version        int64  `dynamodbav:"VERSION"`
}

type groupItem struct {
	PK      string   `dynamodbav:"PK"`
	LOBS    []string `dynamodbav:"LOBS"`
	Version int64    `dynamodbav:"VERSION"`
}

// Attributes sagegate owns in each kind of item; an update replaces these
// and keeps every other attribute as it found it.
var (
	userAttrs  = []string{"LOB", "LOBS", "PROFILE_NAME", "DISABLED", attrNotebooks, attrVersion}
	lobAttrs   = []string{"ACCOUNT_ID", "REGION", "DOMAIN_ID", "ROLE_ARN", "EXTERNAL_ID", "PROFILE_RULE", "SESSION_SECONDS", "URL_LIFETIME_SECONDS", "SPACE", "PRIVATE_SPACE", "LANDING_URI", "LABEL", "JIT_PROFILES", "EXECUTION_ROLE", attrNotebooks, attrTemplates, attrVersion}
	groupAttrs = []string{"LOBS", attrVersion}
)

func encodeUser(u routing.User, version int64) (map[string]types.AttributeValue, error) {
	it := userItem{PK: u.Name, Profile: u.Profile, Disabled: u.Disabled, Version: version}
	if len(u.LOBs) > 0 {
		it.LOB, it.LOBS = u.LOBs[0], u.LOBs[1:]
	}
	item, err := attributevalue.MarshalMap(it)
	if err != nil {
		return nil, err
	}
	return item, putNested(item, attrNotebooks, u.Notebooks)
}

func encodeLOB(l routing.LOB, version int64) (map[string]types.AttributeValue, error) {
	item, err := attributevalue.MarshalMap(lobItem{
		PK: l.Name, AccountID: l.AccountID, Region: l.Region, DomainID: l.DomainID,
		RoleARN: l.RoleARN, ExternalID: l.ExternalID, ProfileRule: l.ProfileRule,
		SessionSeconds: int64(l.SessionDuration.D() / time.Second),
		URLSeconds:     int64(l.URLLifetime.D() / time.Second),
		Space:          l.Space, PrivateSpace: l.PrivateSpace, LandingURI: l.LandingURI, Label: l.Label,
		JITProfiles: l.JITProfiles, ExecutionRole: l.ExecutionRole, Version: version,
	})
	if err != nil {
		return nil, err
	}
	if err := putNested(item, attrNotebooks, l.Notebooks); err != nil {
		return nil, err
	}
	return item, putNested(item, attrTemplates, l.NotebookTemplates)
}

func encodeGroup(g routing.Group, version int64) (map[string]types.AttributeValue, error) {
	lobs := g.LOBs
	if lobs == nil {
		lobs = []string{}
	}
	return attributevalue.MarshalMap(groupItem{PK: groupPrefix + g.Name, LOBS: lobs, Version: version})
}

// merge returns old with the attributes in owned replaced by those of
// next: attributes that other tools keep on the item survive an update.
func merge(old, next map[string]types.AttributeValue, owned []string) map[string]types.AttributeValue {
	out := maps.Clone(old)
	if out == nil {
		out = map[string]types.AttributeValue{}
	}
	for _, a := range owned {
		delete(out, a)
	}
	maps.Copy(out, next)
	return out
}

// reader decodes the attributes of one item leniently where other tools
// might differ (an account id stored as a number, LOBS as a string set)
// and collects a problem for each attribute of the wrong type.
type reader struct {
	item map[string]types.AttributeValue
	errs []error
}

func (r *reader) fail(attr, want string) {
	r.errs = append(r.errs, &routing.FieldError{Field: attr, Msg: fmt.Sprintf("must be %s, got %s", want, typeName(r.item[attr]))})
}

func (r *reader) str(attr string) string {
	switch v := r.item[attr].(type) {
	case nil:
		return ""
	case *types.AttributeValueMemberS:
		return v.Value
	default:
		r.fail(attr, "a string (S)")
		return ""
	}
}

// accountID reads an account id that may have been stored as a number,
// which loses its leading zeros; they are put back.
func (r *reader) accountID(attr string) string {
	if v, ok := r.item[attr].(*types.AttributeValueMemberN); ok {
		if n, err := strconv.ParseUint(v.Value, 10, 64); err == nil {
			return fmt.Sprintf("%012d", n)
		}
		return v.Value // Validate says what is wrong with it
	}
	return r.str(attr)
}

func (r *reader) boolean(attr string) bool {
	switch v := r.item[attr].(type) {
	case nil:
		return false
	case *types.AttributeValueMemberBOOL:
		return v.Value
	default:
		r.fail(attr, "a boolean (BOOL)")
		return false
	}
}

func (r *reader) number(attr string) int64 {
	switch v := r.item[attr].(type) {
	case nil:
		return 0
	case *types.AttributeValueMemberN:
		n, err := strconv.ParseInt(v.Value, 10, 64)
		if err != nil {
			r.fail(attr, "a whole number (N)")
		}
		return n
	default:
		r.fail(attr, "a number (N)")
		return 0
	}
}

// list reads a list of strings (L), or a string set (SS), whose order
// DynamoDB does not keep and which is therefore sorted.
func (r *reader) list(attr string) []string {
	switch v := r.item[attr].(type) {
	case nil:
		return nil
	case *types.AttributeValueMemberSS:
		return slices.Sorted(slices.Values(v.Value))
	case *types.AttributeValueMemberL:
		out := make([]string, 0, len(v.Value))
		for _, e := range v.Value {
			s, ok := e.(*types.AttributeValueMemberS)
			if !ok {
				r.fail(attr, "a list of strings (L of S) or a string set (SS)")
				return nil
			}
			out = append(out, s.Value)
		}
		return out
	default:
		r.fail(attr, "a list of strings (L of S) or a string set (SS)")
		return nil
	}
}

func typeName(v types.AttributeValue) string {
	t := fmt.Sprintf("%T", v)
	return strings.TrimPrefix(t, "*types.AttributeValueMember")
}

// decodeUser reads a users-table item: LOB first, then LOBS, each once.
func decodeUser(item map[string]types.AttributeValue) (routing.User, int64, []error) {
	r := reader{item: item}
	u := routing.User{Name: r.str(attrPK), Profile: r.str("PROFILE_NAME"), Disabled: r.boolean("DISABLED")}
	r.nested(attrNotebooks, &u.Notebooks)
	if first := r.str("LOB"); first != "" {
		u.LOBs = append(u.LOBs, first)
	}
	for _, l := range r.list("LOBS") {
		if !slices.Contains(u.LOBs, l) {
			u.LOBs = append(u.LOBs, l)
		}
	}
	return u, r.number(attrVersion), r.errs
}

// decodeLOB reads a LOBs-table item as stored, not normalised.
func decodeLOB(item map[string]types.AttributeValue) (routing.LOB, int64, []error) {
	r := reader{item: item}
	l := routing.LOB{
		Name:            r.str(attrPK),
		AccountID:       r.accountID("ACCOUNT_ID"),
		Region:          r.str("REGION"),
		DomainID:        r.str("DOMAIN_ID"),
		RoleARN:         r.str("ROLE_ARN"),
		ExternalID:      r.str("EXTERNAL_ID"),
		ProfileRule:     r.str("PROFILE_RULE"),
		SessionDuration: routing.Duration(time.Duration(r.number("SESSION_SECONDS")) * time.Second),
		URLLifetime:     routing.Duration(time.Duration(r.number("URL_LIFETIME_SECONDS")) * time.Second),
		Space:           r.str("SPACE"),
		PrivateSpace:    r.boolean("PRIVATE_SPACE"),
		LandingURI:      r.str("LANDING_URI"),
		Label:           r.str("LABEL"),
		JITProfiles:     r.boolean("JIT_PROFILES"),
		ExecutionRole:   r.str("EXECUTION_ROLE"),
	}
	r.nested(attrNotebooks, &l.Notebooks)
	r.nested(attrTemplates, &l.NotebookTemplates)
	return l, r.number(attrVersion), r.errs
}

func decodeGroup(item map[string]types.AttributeValue) (routing.Group, int64, []error) {
	r := reader{item: item}
	g := routing.Group{Name: strings.TrimPrefix(r.str(attrPK), groupPrefix), LOBs: r.list("LOBS")}
	if g.LOBs == nil {
		g.LOBs = []string{}
	}
	return g, r.number(attrVersion), r.errs
}
