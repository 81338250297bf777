// Package identity turns a raw bearer token into a verified Principal.
//
// Every failure is an *Error with a stable Reason, so the HTTP layer can
// answer 401 with `WWW-Authenticate: Bearer error="invalid_token"` and a
// reason code, and tests can assert exactly why a token was refused.
package identity

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Principal is the verified person behind a request.
type Principal struct {
	// Username is what routing keys on and what is stamped on AWS sessions
	// (SourceIdentity, RoleSessionName).
	Username string   `json:"username"`
	Subject  string   `json:"sub"`
	Email    string   `json:"email,omitempty"`
	Groups   []string `json:"groups,omitempty"`
	// Issuer is the exact `iss` of the verified token.
	Issuer string `json:"iss"`
	// Provider is the configured name of the provider that verified it.
	Provider string `json:"provider,omitempty"`
	// ExpiresAt is the token's exp: nothing derived from the token may be
	// trusted past it. Zero when the identity did not come from a token.
	ExpiresAt time.Time `json:"-"`
}

// Verifier verifies a raw JWT (without the "Bearer " prefix).
type Verifier interface {
	Verify(ctx context.Context, raw string) (*Principal, error)
}

// Reason codes. They are part of the API: they appear in
// WWW-Authenticate error_description and in problem+json `code`.
const (
	ReasonMissingToken    = "missing_token"
	ReasonMalformed       = "malformed_token"
	ReasonUnsupportedAlg  = "unsupported_alg"
	ReasonBadSignature    = "bad_signature"
	ReasonUnknownKey      = "unknown_kid"
	ReasonExpired         = "token_expired"
	ReasonNotYetValid     = "token_not_yet_valid"
	ReasonWrongIssuer     = "wrong_issuer"
	ReasonWrongAudience   = "wrong_audience"
	ReasonWrongTokenUse   = "wrong_token_use"
	ReasonMissingClaim    = "missing_claim"
	ReasonKeysUnavailable = "keys_unavailable"
	// ReasonUnverifiedEmail: the username claim is an email address the
	// provider marks as not verified (email_verified: false).
	ReasonUnverifiedEmail = "email_not_verified"
)

// Error is a verification failure. Detail is safe to show to the caller: it
// never contains the token.
type Error struct {
	Reason string
	Detail string
	Err    error
}

func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%s: %s: %v", e.Reason, e.Detail, e.Err)
	}
	return e.Reason + ": " + e.Detail
}

func (e *Error) Unwrap() error { return e.Err }

// ReasonOf returns the Reason of the *Error in err's chain, or "" if none.
func ReasonOf(err error) string {
	var ie *Error
	if errors.As(err, &ie) {
		return ie.Reason
	}
	return ""
}
