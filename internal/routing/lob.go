package routing

import (
	"strings"
	"time"
)

// Built-in defaults, used when neither the LOB nor Defaults say otherwise.
const (
	// DefaultSessionDuration is SageMaker's own maximum, so people are not
	// thrown out of Studio in the middle of a working day.
	DefaultSessionDuration = 12 * time.Hour
	// DefaultURLLifetime is SageMaker's minimum: the URL is used by an
	// immediate redirect, and a presigned URL is a bearer secret.
	DefaultURLLifetime = 5 * time.Second
)

// Defaults are the deployment-wide values a LOB inherits for the fields it
// leaves empty.
type Defaults struct {
	Region          string
	SessionDuration time.Duration
	URLLifetime     time.Duration
	// RoleName is the access role of LOBs that name none: a role name
	// (with optional path) that exists in every LOB account, or a full
	// ARN. The AWS sample's LOBs table has no role column.
	RoleName string
}

// Normalize fills the fields l leaves empty from d and the built-in defaults,
// and expands a bare role name into the role's ARN. It never fails: whatever
// it cannot make sense of is left for Validate to report, so that every
// backend normalises then validates in the same way.
func (l *LOB) Normalize(d Defaults) {
	if l.Region == "" {
		l.Region = d.Region
	}
	if l.ProfileRule == "" {
		l.ProfileRule = ProfileRuleSanitized
	}
	if l.SessionDuration == 0 {
		l.SessionDuration = Duration(orDefault(d.SessionDuration, DefaultSessionDuration))
	}
	if l.URLLifetime == 0 {
		l.URLLifetime = Duration(orDefault(d.URLLifetime, DefaultURLLifetime))
	}
	if l.RoleARN == "" {
		l.RoleARN = d.RoleName
	}
	// Operators think of "the access role" by name; the account and the
	// region's partition already say where it lives.
	if l.RoleARN != "" && !strings.HasPrefix(l.RoleARN, "arn:") {
		l.RoleARN = "arn:" + Partition(l.Region) + ":iam::" + l.AccountID + ":role/" + strings.TrimPrefix(l.RoleARN, "/")
	}
}

func orDefault(v, def time.Duration) time.Duration {
	if v != 0 {
		return v
	}
	return def
}

// Partition returns the AWS partition a region belongs to: "aws-cn" for
// China, "aws-us-gov" for GovCloud, and "aws" for everything else. ARNs
// built for the wrong partition are refused by IAM, so the choice cannot be
// left to a default.
func Partition(region string) string {
	switch {
	case strings.HasPrefix(region, "cn-"):
		return "aws-cn"
	case strings.HasPrefix(region, "us-gov-"):
		return "aws-us-gov"
	default:
		return "aws"
	}
}

// Denormalize returns edited, an edited copy of a normalised LOB, with
// every field that Normalize fills and that still holds the value it had
// in the stored record raw (as normalised with d) set back to raw's value.
//
// Writing edited back as it is would freeze today's defaults into the
// record: a LOB that never named its region would keep the current default
// region after the deployment's default changes.
func Denormalize(edited, raw LOB, d Defaults) LOB {
	norm := raw
	norm.Normalize(d)
	if edited.Region == norm.Region {
		edited.Region = raw.Region
	}
	if edited.ProfileRule == norm.ProfileRule {
		edited.ProfileRule = raw.ProfileRule
	}
	if edited.SessionDuration == norm.SessionDuration {
		edited.SessionDuration = raw.SessionDuration
	}
	if edited.URLLifetime == norm.URLLifetime {
		edited.URLLifetime = raw.URLLifetime
	}
	if edited.RoleARN == norm.RoleARN {
		edited.RoleARN = raw.RoleARN
	}
	return edited
}
