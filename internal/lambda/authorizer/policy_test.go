package authorizer

import (
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
)

func TestParseMethodARN(t *testing.T) {
	for in, want := range map[string]MethodARN{
		"arn:aws:execute-api:us-east-1:123456789012:a1b2c3/dev/GET/studio/alice": {"aws", "us-east-1", "123456789012", "a1b2c3", "dev", "GET", "studio/alice"},
		"arn:aws:execute-api:us-west-2:123456789012:ymy8tbxw7b/*/GET/":           {"aws", "us-west-2", "123456789012", "ymy8tbxw7b", "*", "GET", ""},
		"arn:aws-cn:execute-api:cn-north-1:123456789012:api/$default/POST":       {"aws-cn", "cn-north-1", "123456789012", "api", "$default", "POST", ""},
	} {
		got, err := ParseMethodARN(in)
		if err != nil || got != want {
			t.Errorf("ParseMethodARN(%q) = %+v, %v; want %+v", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "arn:aws:lambda:us-east-1:1:function:f", "arn:aws:execute-api:us-east-1:123:api", "arn:aws:execute-api:us-east-1:123:api/dev", "arn:aws:execute-api::123:api/dev/GET/x"} {
		if _, err := ParseMethodARN(bad); err == nil {
			t.Errorf("ParseMethodARN(%q) accepted", bad)
		}
	}
}

func TestMatch(t *testing.T) {
	for _, c := range []struct {
		p, s string
		want bool
	}{
		{"a/GET/studio", "a/GET/studio", true},
		{"a/GET/studio", "a/GET/studio/x", false},
		{"a/GET/launch/*", "a/GET/launch/lob-a", true},
		{"a/GET/launch/*", "a/GET/launch/x/y", true},
		{"a/GET/launch/*", "a/GET/launch", false},
		{"a/*/api/v1/*", "a/POST/api/v1/targets/x/launch", true},
		{"a/GET/studio/?ob", "a/GET/studio/bob", true},
		{"a/GET/studio/?ob", "a/GET/studio/bbob", false},
		{"*", "", true},
		{"", "x", false},
	} {
		if got := Match(c.p, c.s); got != c.want {
			t.Errorf("Match(%q, %q) = %v", c.p, c.s, got)
		}
	}
}

const stage = "arn:aws:execute-api:us-east-1:123456789012:api/dev/"

func arn(t *testing.T, method, path string) MethodARN {
	t.Helper()
	a, err := ParseMethodARN(stage + method + "/" + path)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// The policy for one person is the same allow list whatever the request,
// and a deny never covers anything the allow list grants: API Gateway may
// apply a cached policy to any of that person's requests.
func TestPolicyIsTheSameForEveryRequest(t *testing.T) {
	requests := []struct {
		method, path string
		allowed      bool
	}{
		{"GET", "studio", true},
		{"GET", "studio/alice", true},
		{"GET", "launch/lob-a", true},
		{"GET", "api/v1/targets", true},
		{"POST", "api/v1/targets/lob-a/launch", true},
		{"GET", "studio/bob", false},
		{"GET", "studio/alice/extra", false},
		{"DELETE", "api/v1/targets", false},
		{"POST", "studio", false},
		{"GET", "healthz", false},
	}
	var first []string
	for _, r := range requests {
		doc, allowed := Policy(arn(t, r.method, r.path), "alice")
		if allowed != r.allowed {
			t.Errorf("%s %s: allowed = %v", r.method, r.path, allowed)
		}
		allow := doc.Statement[0]
		if allow.Effect != "Allow" || !slices.Equal(allow.Action, []string{"execute-api:Invoke"}) {
			t.Fatalf("first statement %+v", allow)
		}
		if first == nil {
			first = allow.Resource
		} else if !slices.Equal(allow.Resource, first) {
			t.Errorf("%s %s: allow list %q differs from %q", r.method, r.path, allow.Resource, first)
		}
		switch {
		case r.allowed && len(doc.Statement) != 1:
			t.Errorf("%s %s: extra statements %+v", r.method, r.path, doc.Statement[1:])
		case !r.allowed && (len(doc.Statement) != 2 || doc.Statement[1].Effect != "Deny" || !slices.Equal(doc.Statement[1].Resource, []string{stage + r.method + "/" + r.path})):
			t.Errorf("%s %s: want an explicit deny of exactly the request, got %+v", r.method, r.path, doc.Statement)
		}
		// Every request of the list gets the answer its own policy gave.
		for _, other := range requests {
			if got := evaluate(doc.Statement, stage+other.method+"/"+other.path); got != other.allowed {
				t.Errorf("policy of %s %s, applied to %s %s: %v", r.method, r.path, other.method, other.path, got)
			}
		}
	}
}

// evaluate is IAM's rule for one policy: an explicit deny wins, then an
// allow, else denied.
func evaluate(st []events.IAMPolicyStatement, resource string) bool {
	allowed := false
	for _, s := range st {
		if matchesAny(s.Resource, resource) {
			if s.Effect == "Deny" {
				return false
			}
			allowed = true
		}
	}
	return allowed
}

func TestNoWildcardsFromNames(t *testing.T) {
	for _, user := range []string{"*", "a*", "b?b", "x/y"} {
		rs := OwnResources(arn(t, "GET", "studio"), user)
		for _, r := range rs {
			if strings.Contains(r, "/studio/") {
				t.Errorf("user %q got %q", user, r)
			}
		}
		if doc, _ := Policy(arn(t, "GET", "studio/bob"), user); evaluate(doc.Statement, stage+"GET/studio/bob") {
			t.Errorf("user %q may open bob's Studio", user)
		}
	}
	// A request path with a wildcard is denied without an explicit deny,
	// which would cover the caller's own paths too.
	doc, allowed := Policy(arn(t, "GET", "studio/*"), "alice")
	if allowed || len(doc.Statement) != 1 {
		t.Errorf("GET studio/*: allowed %v, %+v", allowed, doc.Statement)
	}
	// A name that needs escaping in a path has both forms.
	rs := OwnResources(arn(t, "GET", "studio"), "carol smith")
	if !slices.Contains(rs, stage+"GET/studio/carol smith") || !slices.Contains(rs, stage+"GET/studio/carol%20smith") {
		t.Errorf("resources %q", rs)
	}
}
