package apigw

import (
	"errors"
	"strings"

	"github.com/sagegate/sagegate/internal/identity"
)

// principalFromClaims applies a provider's rules to claims an API Gateway
// authorizer already verified (signature, expiry, and for Cognito the user
// pool). The rules are identity's own, so an authorizer configured more
// loosely than sagegate (another app client, an ID token where only access
// tokens are accepted) does not let more people in.
func principalFromClaims(c map[string]string, byIssuer map[string]identity.ProviderConfig) (*identity.Principal, error) {
	prov, ok := byIssuer[c["iss"]]
	if !ok || c["iss"] == "" {
		return nil, errors.New("the issuer is not a configured identity provider")
	}
	return identity.PrincipalFromClaims(prov, flatClaims(c))
}

// flatClaims are claims as API Gateway passes them on: every value a
// string, lists flattened.
type flatClaims map[string]string

func (c flatClaims) Str(name string) (string, error) { return c[name], nil }

func (c flatClaims) StrList(name string) ([]string, error) { return list(c[name]), nil }

// Bool reads "true" or "false"; any other value counts as absent.
func (c flatClaims) Bool(name string) (value, ok bool, err error) {
	s := c[name]
	return s == "true", s == "true" || s == "false", nil
}

// list reads a list claim as API Gateway flattens it: "[a b]" from an
// HTTP API JWT authorizer, "a,b" from a REST Cognito authorizer, or a
// single value. A name with a space or comma in it cannot survive that
// flattening; nothing here can recover it.
func list(s string) []string {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil
	}
	var parts []string
	if inner, ok := strings.CutPrefix(s, "["); ok && strings.HasSuffix(inner, "]") {
		parts = strings.Fields(strings.TrimSuffix(inner, "]"))
	} else {
		parts = strings.Split(s, ",")
	}
	out := parts[:0]
	for _, p := range parts {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}
