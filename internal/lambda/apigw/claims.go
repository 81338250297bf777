package apigw

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/sagegate/sagegate/internal/identity"
)

// principalFromClaims applies a provider's rules to claims an API Gateway
// authorizer already verified (signature, expiry, and for Cognito the user
// pool). The rules are those of identity's verifier, so an authorizer
// configured more loosely than sagegate (another app client, an ID token
// where only access tokens are accepted) does not let more people in.
func principalFromClaims(c map[string]string, byIssuer map[string]identity.ProviderConfig) (*identity.Principal, error) {
	prov, ok := byIssuer[c["iss"]]
	if !ok || c["iss"] == "" {
		return nil, errors.New("the issuer is not a configured identity provider")
	}
	p := &identity.Principal{Subject: c["sub"], Issuer: c["iss"], Provider: prov.Name}
	if p.Subject == "" {
		return nil, errors.New("claim sub is required")
	}
	unverified := c["email_verified"] == "false"
	switch prov.Type {
	case identity.TypeCognito:
		use := c["token_use"]
		if !slices.Contains(prov.TokenUse, use) {
			return nil, fmt.Errorf("token_use %q is not accepted", use)
		}
		switch use {
		case identity.TokenUseAccess:
			if !slices.Contains(prov.ClientIDs, c["client_id"]) {
				return nil, errors.New("client_id is not an accepted app client")
			}
			p.Username = c["username"]
		case identity.TokenUseID:
			if !overlaps(list(c["aud"]), prov.ClientIDs) {
				return nil, errors.New("aud is not an accepted app client")
			}
			p.Username = c["cognito:username"]
			if !unverified {
				p.Email = c["email"]
			}
		}
		p.Groups = list(c["cognito:groups"])
	default:
		if !overlaps(list(c["aud"]), prov.Audiences) {
			return nil, errors.New("aud is not an accepted audience")
		}
		if unverified && (prov.UsernameClaim == prov.EmailClaim || prov.UsernameClaim == identity.DefaultEmailClaim) {
			return nil, errors.New("the username is an unverified email address")
		}
		p.Username = c[prov.UsernameClaim]
		p.Groups = list(c[prov.GroupsClaim])
		if !unverified {
			p.Email = c[prov.EmailClaim]
		}
	}
	if p.Username == "" {
		return nil, errors.New("the username claim is missing")
	}
	return p, nil
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

func overlaps(have, want []string) bool {
	return slices.ContainsFunc(have, func(h string) bool { return slices.Contains(want, h) })
}
