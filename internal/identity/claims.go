package identity

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"time"
)

// Claims are what a provider's rules read to name the person: a token's
// payload, or the claims an API Gateway authorizer already verified and
// passed on as strings. Errors are *Error.
type Claims interface {
	// Str returns a string claim, "" when absent.
	Str(name string) (string, error)
	// StrList returns a claim holding one string or several, nil when absent.
	StrList(name string) ([]string, error)
	// Bool returns a boolean claim and whether it was present.
	Bool(name string) (value, ok bool, err error)
}

// claims is a JWT payload kept as raw JSON per claim, so each claim is
// decoded with the type its check expects and a claim of the wrong type is
// reported instead of silently read as empty.
type claims map[string]json.RawMessage

var _ Claims = claims(nil)

func fail(reason, detail string, err error) *Error {
	return &Error{Reason: reason, Detail: detail, Err: err}
}

func parseClaims(payload []byte) (claims, error) {
	var c claims
	if err := json.Unmarshal(payload, &c); err != nil || c == nil {
		return nil, fail(ReasonMalformed, "token payload is not a JSON object", err)
	}
	return c, nil
}

// present reports whether the claim exists and is not JSON null.
func (c claims) present(name string) bool {
	v, ok := c[name]
	return ok && !bytes.Equal(bytes.TrimSpace(v), []byte("null"))
}

// Str returns a string claim, "" when absent.
func (c claims) Str(name string) (string, error) {
	if !c.present(name) {
		return "", nil
	}
	var s string
	if err := json.Unmarshal(c[name], &s); err != nil {
		return "", fail(ReasonMalformed, fmt.Sprintf("claim %s must be a string", name), nil)
	}
	return s, nil
}

// StrList returns a claim that is a string or a list of strings (as `aud`
// may be per RFC 7519, and as some providers send a single group), nil
// when absent.
func (c claims) StrList(name string) ([]string, error) {
	if !c.present(name) {
		return nil, nil
	}
	raw := c[name]
	var one string
	if err := json.Unmarshal(raw, &one); err == nil {
		return []string{one}, nil
	}
	var many []string
	if err := json.Unmarshal(raw, &many); err != nil {
		return nil, fail(ReasonMalformed, fmt.Sprintf("claim %s must be a string or a list of strings", name), nil)
	}
	return many, nil
}

// Bool returns a boolean claim and whether it was present. Some
// providers send email_verified as the string "true"/"false"; both forms
// are accepted.
func (c claims) Bool(name string) (value, ok bool, err error) {
	if !c.present(name) {
		return false, false, nil
	}
	var b bool
	if json.Unmarshal(c[name], &b) == nil {
		return b, true, nil
	}
	var s string
	if json.Unmarshal(c[name], &s) == nil && (s == "true" || s == "false") {
		return s == "true", true, nil
	}
	return false, false, fail(ReasonMalformed, fmt.Sprintf("claim %s must be a boolean", name), nil)
}

// numericDate returns a NumericDate claim (seconds since the epoch, maybe
// fractional) and whether it was present.
func (c claims) numericDate(name string) (time.Time, bool, error) {
	if !c.present(name) {
		return time.Time{}, false, nil
	}
	var f float64
	if err := json.Unmarshal(c[name], &f); err != nil {
		return time.Time{}, false, fail(ReasonMalformed, fmt.Sprintf("claim %s must be a number", name), nil)
	}
	// Bound the value so the conversion below cannot overflow; year 5000
	// is far beyond any legitimate token and still fits in int64 nanos math.
	const limit = 1 << 37
	if math.Abs(f) > limit {
		return time.Time{}, false, fail(ReasonMalformed, fmt.Sprintf("claim %s is out of range", name), nil)
	}
	sec, frac := math.Modf(f)
	return time.Unix(int64(sec), int64(frac*1e9)), true, nil
}

// checkTimes enforces exp (required), nbf and iat with the given leeway.
func checkTimes(c claims, now time.Time, leeway time.Duration) error {
	exp, ok, err := c.numericDate("exp")
	if err != nil {
		return err
	}
	if !ok {
		// A token without exp would be valid forever: refuse it.
		return fail(ReasonMissingClaim, "claim exp is required", nil)
	}
	if !now.Before(exp.Add(leeway)) {
		return fail(ReasonExpired, "token has expired", nil)
	}
	for _, name := range []string{"nbf", "iat"} {
		t, ok, err := c.numericDate(name)
		if err != nil {
			return err
		}
		if ok && now.Add(leeway).Before(t) {
			return fail(ReasonNotYetValid, fmt.Sprintf("token is not valid yet (%s is in the future)", name), nil)
		}
	}
	return nil
}

// containsAny reports whether any of have is in want.
func containsAny(have, want []string) bool {
	for _, h := range have {
		for _, w := range want {
			if h == w {
				return true
			}
		}
	}
	return false
}
