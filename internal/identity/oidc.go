package identity

import "fmt"

// oidcRules are the checks for a generic OpenID Connect provider.
type oidcRules struct {
	audiences     []string
	usernameClaim string
	groupsClaim   string
	emailClaim    string
}

func newOIDCRules(cfg ProviderConfig) *oidcRules {
	return &oidcRules{
		audiences:     cfg.Audiences,
		usernameClaim: cfg.UsernameClaim,
		groupsClaim:   cfg.GroupsClaim,
		emailClaim:    cfg.EmailClaim,
	}
}

func (r *oidcRules) principal(c Claims) (*Principal, error) {
	aud, err := c.StrList("aud")
	if err != nil {
		return nil, err
	}
	if !containsAny(aud, r.audiences) {
		return nil, fail(ReasonWrongAudience, "the token is not meant for sagegate (aud)", nil)
	}

	verified, known, err := c.Bool("email_verified")
	if err != nil {
		return nil, err
	}
	// An address the provider has not verified may be anyone's: never let
	// it name the person, and do not pass it on.
	unverified := known && !verified
	if unverified && (r.usernameClaim == r.emailClaim || r.usernameClaim == DefaultEmailClaim) {
		return nil, fail(ReasonUnverifiedEmail, fmt.Sprintf("claim %s is not a verified email address", r.usernameClaim), nil)
	}

	username, err := c.Str(r.usernameClaim)
	if err != nil {
		return nil, err
	}
	if username == "" {
		return nil, fail(ReasonMissingClaim, fmt.Sprintf("claim %s is required", r.usernameClaim), nil)
	}
	groups, err := c.StrList(r.groupsClaim)
	if err != nil {
		return nil, err
	}
	email := ""
	if !unverified {
		if email, err = c.Str(r.emailClaim); err != nil {
			return nil, err
		}
	}
	return &Principal{Username: username, Email: email, Groups: groups}, nil
}
