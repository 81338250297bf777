package routing

import (
	"fmt"
	"regexp"
	"time"
)

// FieldError is one problem with one field. Field is a dotted path that
// callers extend as they nest (e.g. "accountId" becomes
// "lobs.lob-a.accountId" in a file backend), so a person reading the message
// knows exactly which line to fix.
type FieldError struct {
	Field string
	Msg   string
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Msg }

// Prefix returns errs with prefix added to the Field of every *FieldError;
// other errors are wrapped with the prefix. It returns a new slice.
func Prefix(prefix string, errs []error) []error {
	out := make([]error, 0, len(errs))
	for _, err := range errs {
		if fe, ok := err.(*FieldError); ok {
			out = append(out, &FieldError{Field: prefix + "." + fe.Field, Msg: fe.Msg})
			continue
		}
		out = append(out, fmt.Errorf("%s: %w", prefix, err))
	}
	return out
}

// Patterns from the SageMaker and IAM API references. Where AWS also caps
// the length, the check sits next to the pattern.
var (
	// Lengths are checked apart from these where a counted repetition
	// would compile to a copy of its class per count (tens of KB each).
	lobNameRE    = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]*$`)
	accountIDRE  = regexp.MustCompile(`^[0-9]{12}$`)
	regionRE     = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-[0-9]{1,2}$`)
	domainIDRE   = regexp.MustCompile(`^d-(-*[a-z0-9])+$`)
	roleARNRE    = regexp.MustCompile(`^arn:([^:]*):iam::([^:]*):role/(.*)$`)
	roleRE       = regexp.MustCompile(`^(?:[\w+=,.@-]+/)*[\w+=,.@-]{1,64}$`)
	externalIDRE = regexp.MustCompile(`^[\w+=,.@:/-]+$`)
	landingURIRE = regexp.MustCompile(`^(?:studio:|app:(?:JupyterServer|JupyterLab|RStudioServerPro|CodeEditor|Canvas)):[[:graph:]]*$`)
)

// Limits from the AWS API references.
const (
	minSessionDuration = 1800 * time.Second
	maxSessionDuration = 43200 * time.Second
	minURLLifetime     = 5 * time.Second
	maxURLLifetime     = 300 * time.Second
	maxDomainIDLen     = 63
	maxRoleARNLen      = 2048
	minExternalIDLen   = 2
	maxExternalIDLen   = 1224
	maxLandingURILen   = 1023
)

// validLOBName: 1 to 63 of a-z, 0-9, '.', '_', '-', starting with a
// letter or digit.
func validLOBName(s string) bool {
	return len(s) <= 63 && lobNameRE.MatchString(s)
}

// Validate reports every problem with l at once, each as a *FieldError named
// after the field's JSON key, so an operator fixes a route in one pass. It
// checks l as it will be used: call Normalize first, or the empty fields that
// Normalize would fill are reported as missing.
func (l LOB) Validate() []error {
	var errs []error
	add := func(field, format string, args ...any) {
		errs = append(errs, &FieldError{Field: field, Msg: fmt.Sprintf(format, args...)})
	}

	switch {
	case l.Name == "":
		add("name", "required")
	case !validLOBName(l.Name):
		// The name is a target id and a URL path segment.
		add("name", "must be 1 to 63 of a-z, 0-9, '.', '_', '-', starting with a letter or digit, got %q", l.Name)
	}

	switch {
	case l.AccountID == "":
		add("accountId", "required")
	case !accountIDRE.MatchString(l.AccountID):
		// An unquoted YAML account id with a leading zero arrives mangled.
		add("accountId", "must be 12 digits (quote it in YAML), got %q", l.AccountID)
	}

	regionOK := false
	switch {
	case l.Region == "":
		add("region", "required")
	case !regionRE.MatchString(l.Region):
		add("region", "must be an AWS region such as us-east-1, got %q", l.Region)
	default:
		regionOK = true
	}

	// An empty domain id is valid: the broker discovers the account's
	// one InService domain.
	if l.DomainID != "" && (len(l.DomainID) > maxDomainIDLen || !domainIDRE.MatchString(l.DomainID)) {
		add("domainId", "must be a Studio domain id such as d-abc123def456, got %q", l.DomainID)
	}

	l.validateRoleARN(add, regionOK)
	l.validateJIT(add)
	l.validateNotebooks(add)

	if l.ExternalID != "" {
		if n := len(l.ExternalID); n < minExternalIDLen || n > maxExternalIDLen || !externalIDRE.MatchString(l.ExternalID) {
			// The value is a shared secret of sorts: do not echo it.
			add("externalId", "must be %d to %d of letters, digits and +=,.@:/-_", minExternalIDLen, maxExternalIDLen)
		}
	}

	switch l.ProfileRule {
	case ProfileRuleUsername, ProfileRuleSanitized, ProfileRuleEmailLocal:
	default:
		add("profileRule", "must be one of %q, %q, %q, got %q",
			ProfileRuleUsername, ProfileRuleSanitized, ProfileRuleEmailLocal, l.ProfileRule)
	}

	if msg := checkSeconds(time.Duration(l.SessionDuration), minSessionDuration, maxSessionDuration); msg != "" {
		add("sessionDuration", "%s", msg)
	}
	if msg := checkSeconds(time.Duration(l.URLLifetime), minURLLifetime, maxURLLifetime); msg != "" {
		add("urlLifetime", "%s", msg)
	}

	if l.Space != "" && !ValidProfileName(l.Space) {
		// SpaceName shares UserProfileName's pattern.
		add("space", "must be 1 to 63 letters, digits and inner hyphens, got %q", l.Space)
	}

	if l.LandingURI != "" && (len(l.LandingURI) > maxLandingURILen || !landingURIRE.MatchString(l.LandingURI)) {
		add("landingUri", "must be studio::<path> or app:<JupyterServer|JupyterLab|RStudioServerPro|CodeEditor|Canvas>:<path>, got %q", l.LandingURI)
	}
	return errs
}

// validateJIT checks the settings of private spaces and just-in-time
// profiles.
func (l LOB) validateJIT(add func(field, format string, args ...any)) {
	if l.PrivateSpace && l.Space != "" {
		add("privateSpace", "cannot be combined with space %q: a launch opens one space", l.Space)
	}
	if l.ExecutionRole == "" {
		return
	}
	if !l.JITProfiles {
		add("executionRole", "is only used to create profiles: set jitProfiles too")
	}
	m := roleARNRE.FindStringSubmatch(l.ExecutionRole)
	switch {
	case m == nil || len(l.ExecutionRole) > maxRoleARNLen || !roleRE.MatchString(m[3]):
		add("executionRole", "must be a role ARN arn:<partition>:iam::<account>:role/[<path>/]<name>, got %q", l.ExecutionRole)
	case m[2] != l.AccountID:
		// SageMaker refuses an execution role of another account.
		add("executionRole", "account %q does not match accountId %q", m[2], l.AccountID)
	}
}

// validateRoleARN checks the role ARN's shape, and that it points into the
// LOB's own account and the region's partition: assuming a role elsewhere
// would either fail at launch time or, worse, succeed.
func (l LOB) validateRoleARN(add func(field, format string, args ...any), regionOK bool) {
	if l.RoleARN == "" {
		add("roleArn", "required")
		return
	}
	m := roleARNRE.FindStringSubmatch(l.RoleARN)
	if m == nil || len(l.RoleARN) > maxRoleARNLen {
		add("roleArn", "must be arn:<partition>:iam::<account>:role/[<path>/]<name> or a bare role name, got %q", l.RoleARN)
		return
	}
	partition, account, role := m[1], m[2], m[3]
	switch partition {
	case "aws", "aws-cn", "aws-us-gov":
		if regionOK && partition != Partition(l.Region) {
			add("roleArn", "partition %q does not match region %q (want %q)", partition, l.Region, Partition(l.Region))
		}
	default:
		add("roleArn", "partition must be aws, aws-cn or aws-us-gov, got %q", partition)
	}
	// When the two agree, a malformed account is accountId's complaint.
	if account != l.AccountID {
		add("roleArn", "account %q does not match accountId %q", account, l.AccountID)
	}
	if !roleRE.MatchString(role) {
		add("roleArn", "role %q must be [<path>/]<name> with a name of 1 to 64 of letters, digits and +=,.@_-", role)
	}
}

// checkSeconds returns why d is not a whole number of seconds in [lo, hi],
// or "" if it is.
func checkSeconds(d, lo, hi time.Duration) string {
	switch {
	case d < lo || d > hi:
		return fmt.Sprintf("must be between %s and %s, got %s", Duration(lo), Duration(hi), Duration(d))
	case d%time.Second != 0:
		return fmt.Sprintf("must be whole seconds, got %s", Duration(d))
	}
	return ""
}

// Validate reports every problem with g at once.
func (g Group) Validate() []error {
	var errs []error
	if g.Name == "" {
		errs = append(errs, &FieldError{Field: "name", Msg: "required"})
	}
	errs = append(errs, validateLOBNames(g.LOBs)...)
	return errs
}

// validateLOBNames reports empty names in a list of LOB names.
func validateLOBNames(names []string) []error {
	var errs []error
	for i, name := range names {
		if name == "" {
			errs = append(errs, &FieldError{Field: fmt.Sprintf("lobs[%d]", i), Msg: "empty LOB name"})
		}
	}
	return errs
}

// Validate reports every problem with u at once. Whether the LOBs it names
// exist is for the backend to check, since only it knows.
func (u User) Validate() []error {
	var errs []error
	if u.Name == "" {
		errs = append(errs, &FieldError{Field: "name", Msg: "required"})
	}
	if u.Profile != "" && !ValidProfileName(u.Profile) {
		errs = append(errs, &FieldError{Field: "profile", Msg: fmt.Sprintf("must be 1 to 63 letters, digits and inner hyphens, got %q", u.Profile)})
	}
	errs = append(errs, validateLOBNames(u.LOBs)...)
	return append(errs, validateUserNotebooks(u.Notebooks)...)
}
