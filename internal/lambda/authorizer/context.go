package authorizer

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/sagegate/sagegate/internal/identity"
)

// Keys of the context the authorizer returns. API Gateway hands it to the
// backend as requestContext.authorizer (REST; HTTP API payload 1.0) or
// requestContext.authorizer.lambda (HTTP API payload 2.0), and REST APIs
// allow only scalar values in it, so groups travel as a JSON array in a
// string: unlike a comma-joined list, a group name holding a comma cannot
// turn into two groups on the way.
const (
	KeyUsername = "username"
	KeySubject  = "sub"
	KeyEmail    = "email"
	KeyGroups   = "groups"
	KeyIssuer   = "issuer"
	KeyProvider = "provider"
)

// Context is the authorizer context for p.
func Context(p *identity.Principal) map[string]any {
	groups := p.Groups
	if groups == nil {
		groups = []string{}
	}
	g, _ := json.Marshal(groups)
	c := map[string]any{
		KeyUsername: p.Username,
		KeySubject:  p.Subject,
		KeyGroups:   string(g),
		KeyIssuer:   p.Issuer,
	}
	if p.Email != "" {
		c[KeyEmail] = p.Email
	}
	if p.Provider != "" {
		c[KeyProvider] = p.Provider
	}
	return c
}

// PrincipalFromContext reads back what Context wrote. It only checks the
// shape: whether to trust the context at all is the caller's decision.
func PrincipalFromContext(c map[string]any) (*identity.Principal, error) {
	str := func(k string) (string, error) {
		switch v := c[k].(type) {
		case nil:
			return "", nil
		case string:
			return v, nil
		default:
			return "", fmt.Errorf("authorizer context: %s is a %T, not a string", k, v)
		}
	}
	var p identity.Principal
	var errs []error
	for k, dst := range map[string]*string{
		KeyUsername: &p.Username, KeySubject: &p.Subject, KeyEmail: &p.Email,
		KeyIssuer: &p.Issuer, KeyProvider: &p.Provider,
	} {
		v, err := str(k)
		errs = append(errs, err)
		*dst = v
	}
	groups, err := str(KeyGroups)
	errs = append(errs, err)
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	if p.Username == "" || p.Issuer == "" {
		return nil, errors.New("authorizer context: username and issuer are required")
	}
	if groups != "" {
		if err := json.Unmarshal([]byte(groups), &p.Groups); err != nil {
			return nil, fmt.Errorf("authorizer context: groups is not a JSON list of strings: %w", err)
		}
	}
	if len(p.Groups) == 0 {
		p.Groups = nil
	}
	return &p, nil
}
