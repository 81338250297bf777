package identity

import "slices"

// cognitoRules are the checks for Amazon Cognito user pool tokens. Cognito
// access tokens carry the app client in `client_id` and have no `aud`; ID
// tokens carry it in `aud`. Both say which they are in `token_use`, which
// must be checked: otherwise an ID token minted for any purpose could be
// replayed where an access token is expected, or the other way round.
type cognitoRules struct {
	clientIDs []string
	tokenUse  []string
}

func newCognitoRules(cfg ProviderConfig) *cognitoRules {
	return &cognitoRules{clientIDs: cfg.ClientIDs, tokenUse: cfg.TokenUse}
}

func (r *cognitoRules) principal(c Claims) (*Principal, error) {
	use, err := c.Str("token_use")
	if err != nil {
		return nil, err
	}
	if !slices.Contains(r.tokenUse, use) {
		return nil, fail(ReasonWrongTokenUse, "this kind of Cognito token (token_use) is not accepted", nil)
	}

	var p Principal
	switch use {
	case TokenUseAccess:
		clientID, err := c.Str("client_id")
		if err != nil {
			return nil, err
		}
		if !slices.Contains(r.clientIDs, clientID) {
			return nil, fail(ReasonWrongAudience, "the token was issued to an app client sagegate does not accept (client_id)", nil)
		}
		if p.Username, err = c.Str("username"); err != nil {
			return nil, err
		}
		if p.Username == "" {
			// Client-credentials tokens are machines, not people.
			return nil, fail(ReasonMissingClaim, "claim username is required", nil)
		}
	case TokenUseID:
		aud, err := c.StrList("aud")
		if err != nil {
			return nil, err
		}
		if !containsAny(aud, r.clientIDs) {
			return nil, fail(ReasonWrongAudience, "the token was issued to an app client sagegate does not accept (aud)", nil)
		}
		if p.Username, err = c.Str("cognito:username"); err != nil {
			return nil, err
		}
		if p.Username == "" {
			return nil, fail(ReasonMissingClaim, "claim cognito:username is required", nil)
		}
		verified, known, err := c.Bool("email_verified")
		if err != nil {
			return nil, err
		}
		if !known || verified {
			if p.Email, err = c.Str("email"); err != nil {
				return nil, err
			}
		}
	}
	if p.Groups, err = c.StrList("cognito:groups"); err != nil {
		return nil, err
	}
	return &p, nil
}
