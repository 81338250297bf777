package authorizer

import (
	"fmt"
	"net/url"
	"strings"

	"github.com/aws/aws-lambda-go/events"
)

// MethodARN is an execute-api ARN as API Gateway sends it to authorizers:
// arn:{partition}:execute-api:{region}:{account}:{apiId}/{stage}/{method}/{path}.
type MethodARN struct {
	Partition, Region, Account, APIID, Stage, Method string
	// Path is the request path without its leading slash ("studio/alice").
	Path string
}

// ParseMethodARN parses a methodArn (REST, HTTP API payload 1.0) or
// routeArn (HTTP API payload 2.0).
func ParseMethodARN(s string) (MethodARN, error) {
	parts := strings.SplitN(s, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" || parts[2] != "execute-api" || parts[1] == "" || parts[3] == "" || parts[4] == "" {
		return MethodARN{}, fmt.Errorf("not an execute-api ARN: %q", s)
	}
	res := strings.SplitN(parts[5], "/", 4)
	if len(res) < 3 || res[0] == "" || res[1] == "" || res[2] == "" {
		return MethodARN{}, fmt.Errorf("execute-api ARN without api/stage/method: %q", s)
	}
	a := MethodARN{Partition: parts[1], Region: parts[3], Account: parts[4], APIID: res[0], Stage: res[1], Method: res[2]}
	if len(res) == 4 {
		a.Path = res[3]
	}
	return a, nil
}

// String is the ARN.
func (a MethodARN) String() string { return a.resource(a.Method, a.Path) }

func (a MethodARN) resource(method, path string) string {
	return fmt.Sprintf("arn:%s:execute-api:%s:%s:%s/%s/%s/%s", a.Partition, a.Region, a.Account, a.APIID, a.Stage, method, path)
}

// maxResource is API Gateway's limit on a policy resource's length.
const maxResource = 512

// OwnResources are the resources of the API stage that the person named
// username may invoke. It depends on the person and the stage only, never
// on the request being authorized: API Gateway caches the policy per
// identity source and applies it to that person's other requests too.
//
// A new per-person route of the HTTP handler must be added here.
func OwnResources(a MethodARN, username string) []string {
	rs := []string{
		a.resource("GET", ""), // the launcher page: the caller's own targets
		a.resource("GET", "studio"),
		a.resource("GET", "launch/*"),
		a.resource("GET", "api/v1/*"),
		a.resource("POST", "api/v1/*"),
	}
	// `*` and `?` are wildcards in a policy resource and there is no
	// escape for them: a name holding one would open other people's
	// paths. Such a person (and one whose name is not a single path
	// segment) still has GET /studio.
	if username != "" && !strings.ContainsAny(username, "*?/") {
		for _, u := range unique(username, url.PathEscape(username)) {
			if r := a.resource("GET", "studio/"+u); len(r) <= maxResource {
				rs = append(rs, r)
			}
		}
	}
	return rs
}

func unique(a, b string) []string {
	if a == b {
		return []string{a}
	}
	return []string{a, b}
}

const invoke = "execute-api:Invoke"

// Policy is the IAM policy for username on a's stage, and whether it
// allows a itself. It allows OwnResources and explicitly denies a when a
// is not among them, so the answer cached for this person stays right for
// every path: the deny names only a resource that no allow covers.
func Policy(a MethodARN, username string) (events.APIGatewayCustomAuthorizerPolicy, bool) {
	own := OwnResources(a, username)
	doc := events.APIGatewayCustomAuthorizerPolicy{
		Version:   "2012-10-17",
		Statement: []events.IAMPolicyStatement{{Action: []string{invoke}, Effect: "Allow", Resource: own}},
	}
	arn := a.String()
	allowed := matchesAny(own, arn)
	// A requested path holding a wildcard character would deny more than
	// itself; leaving it out still denies it (nothing allows it).
	if !allowed && !strings.ContainsAny(arn, "*?") {
		doc.Statement = append(doc.Statement, events.IAMPolicyStatement{Action: []string{invoke}, Effect: "Deny", Resource: []string{arn}})
	}
	return doc, allowed
}

func matchesAny(patterns []string, s string) bool {
	for _, p := range patterns {
		if Match(p, s) {
			return true
		}
	}
	return false
}

// Match reports whether s matches the policy resource pattern p, where `*`
// matches any run of characters (slashes included) and `?` any one.
func Match(p, s string) bool {
	// Iterative glob with backtracking to the last star: linear for the
	// short patterns of a policy.
	pi, si, star, mark := 0, 0, -1, 0
	for si < len(s) {
		switch {
		case pi < len(p) && (p[pi] == '?' || p[pi] == s[si]):
			pi++
			si++
		case pi < len(p) && p[pi] == '*':
			star, mark = pi, si
			pi++
		case star >= 0:
			pi = star + 1
			mark++
			si = mark
		default:
			return false
		}
	}
	for pi < len(p) && p[pi] == '*' {
		pi++
	}
	return pi == len(p)
}
