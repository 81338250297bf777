package awssim

import (
	"encoding/base64"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
)

// Input constraints of the SageMaker API, as published in its model. The
// simulator enforces them exactly so that a client sending values AWS would
// reject fails in development too.
var (
	domainIDPattern     = lazyRegexp(`^d-(-*[a-z0-9]){1,61}$`)
	resourceNamePattern = lazyRegexp(`^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$`)
	landingURIPattern   = lazyRegexp(`^(studio::|app:(JupyterServer|JupyterLab|RStudioServerPro|CodeEditor|Canvas):)`)
	accountIDPattern    = lazyRegexp(`^[0-9]{12}$`)
	// roleARNMemberPattern is SageMaker's pattern for a role ARN member
	// (a notebook's RoleArn, a user profile's ExecutionRole).
	roleARNMemberPattern = lazyRegexp(`^arn:aws[a-z\-]*:iam::\d{12}:role/?[a-zA-Z_0-9+=,.@\-_/]+$`)
)

const maxResourceNameLen = 63

// checkName validates a required or optional string member against a
// maximum length and pattern, recording AWS-style messages.
func checkName(v *validationErrors, field string, value *string, required bool, pattern *regexp.Regexp) {
	if value == nil {
		if required {
			v.add(nil, field, "Member must not be null")
		}
		return
	}
	if checkMaxLen(v, field, value, maxResourceNameLen) && !pattern.MatchString(*value) {
		v.add(*value, field, "Member must satisfy regular expression pattern: "+strings.Trim(pattern.String(), "^$"))
	}
}

// checkMaxLen validates the length of an optional string member and
// reports whether it passed (a nil value passes).
func checkMaxLen(v *validationErrors, field string, value *string, maxLen int) bool {
	if value == nil || len(*value) <= maxLen {
		return true
	}
	v.add(*value, field, "Member must have length less than or equal to "+strconv.Itoa(maxLen))
	return false
}

// checkRange validates an optional integer member.
func checkRange(v *validationErrors, field string, value *int64, lo, hi int64) {
	switch {
	case value == nil:
	case *value < lo:
		v.add(*value, field, "Member must have value greater than or equal to "+strconv.FormatInt(lo, 10))
	case *value > hi:
		v.add(*value, field, "Member must have value less than or equal to "+strconv.FormatInt(hi, 10))
	}
}

// checkEnum validates an optional enum member.
func checkEnum(v *validationErrors, field string, value *string, allowed ...string) {
	if value != nil && !slices.Contains(allowed, *value) {
		v.add(*value, field, "Member must satisfy enum value set: ["+strings.Join(allowed, ", ")+"]")
	}
}

// page is one page of a list operation.
type page struct {
	start, end int
	next       string // empty on the last page
}

// paginate validates MaxResults and NextToken and picks the page. Tokens are
// bound to the listing they came from (operation, account, region, filters),
// so a token replayed against another listing is rejected as it would be on
// AWS, rather than silently returning the wrong items.
func paginate(v *validationErrors, total int, maxResults *int64, nextToken *string, listing string) (page, *apiError) {
	checkRange(v, "maxResults", maxResults, 1, 100)
	checkMaxLen(v, "nextToken", nextToken, 8192)
	if e := v.err(); e != nil {
		return page{}, e
	}
	size := 10
	if maxResults != nil {
		size = int(*maxResults)
	}
	start := 0
	if nextToken != nil && *nextToken != "" {
		raw, err := base64.RawURLEncoding.DecodeString(*nextToken)
		i := strings.LastIndexByte(string(raw), '|')
		n, convErr := strconv.Atoi(string(raw[i+1:]))
		if err != nil || i < 0 || string(raw[:i]) != listing || convErr != nil || n < 0 || n > total {
			return page{}, newAPIError(http.StatusBadRequest, "ValidationException", "Invalid pagination token")
		}
		start = n
	}
	p := page{start: start, end: min(start+size, total)}
	if p.end < total {
		p.next = base64.RawURLEncoding.EncodeToString([]byte(listing + "|" + strconv.Itoa(p.end)))
	}
	return p, nil
}

// lazyRegexp compiles expr on first use. The simulator is linked into
// every sagegate binary; compiled at start-up, its patterns would be
// built, and held for good, by `sagegate serve` too, which never uses them.
func lazyRegexp(expr string) func() *regexp.Regexp {
	return sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(expr) })
}
