package routing

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
)

// Profile-name rules: how a username becomes a Studio user-profile name.
const (
	// ProfileRuleUsername uses the username as it is, and fails for a
	// username SageMaker would refuse.
	ProfileRuleUsername = "username"
	// ProfileRuleSanitized (the default) keeps a valid username as it is
	// and otherwise rewrites it into a valid, collision-resistant name.
	ProfileRuleSanitized = "sanitized"
	// ProfileRuleEmailLocal sanitises the part of the username before its
	// last '@', for pools whose usernames are email addresses.
	ProfileRuleEmailLocal = "email-local"
)

const (
	// maxProfileLen is the length limit of UserProfileName and SpaceName.
	maxProfileLen = 63
	// hashLen hex characters of SHA-256 (32 bits) tell rewritten names
	// apart; with the readable base in front, collisions need both the same
	// base and a 1 in 4 billion coincidence.
	hashLen = 8
)

// ErrProfileName is wrapped by every error of ProfileName, so callers can
// tell "this person cannot be mapped" from a store failure.
var ErrProfileName = errors.New("routing: cannot derive a user-profile name")

// ValidProfileName reports whether s is a name SageMaker accepts as a
// UserProfileName or SpaceName: the pattern [a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}
// with at most 63 characters. It is written out rather than a regexp because
// it runs on every launch.
func ValidProfileName(s string) bool {
	if len(s) == 0 || len(s) > maxProfileLen || !isAlnum(s[0]) || !isAlnum(s[len(s)-1]) {
		return false
	}
	for i := 1; i < len(s)-1; i++ {
		if c := s[i]; c != '-' && !isAlnum(c) {
			return false
		}
	}
	return true
}

// ProfileName maps username to a Studio user-profile name under rule (""
// means the default, sanitized). The result is deterministic, because it
// names an existing profile, and always satisfies ValidProfileName.
//
// The sanitized rule returns a valid username unchanged. Otherwise it turns
// each run of characters SageMaker refuses into one '-', trims '-' from both
// ends, shortens the result to leave room, and appends '-' and 8 hex digits
// of the SHA-256 of the original username. The suffix is what keeps "a.b" and
// "a-b" (or two long names sharing a prefix) on different profiles.
func ProfileName(rule, username string) (string, error) {
	switch rule {
	case ProfileRuleUsername:
		if !ValidProfileName(username) {
			return "", fmt.Errorf("%w: username %q is not a valid Studio user-profile name (rule %q)", ErrProfileName, username, rule)
		}
		return username, nil
	case ProfileRuleSanitized, "":
		return sanitizeProfile(username)
	case ProfileRuleEmailLocal:
		local := username
		if i := strings.LastIndexByte(username, '@'); i >= 0 {
			// The last '@' because a quoted local part may contain one;
			// a domain never does.
			local = username[:i]
		}
		return sanitizeProfile(local)
	default:
		return "", fmt.Errorf("%w: unknown profile rule %q", ErrProfileName, rule)
	}
}

func sanitizeProfile(s string) (string, error) {
	if ValidProfileName(s) {
		return s, nil
	}
	const maxBase = maxProfileLen - 1 - hashLen

	base := make([]byte, 0, maxBase+1)
	invalidRun := false
	for i := 0; i < len(s) && len(base) <= maxBase; i++ {
		c := s[i]
		if c == '-' || isAlnum(c) {
			base = append(base, c)
			invalidRun = false
			continue
		}
		// Bytes of a multi-byte UTF-8 character land here too, so a
		// run of them collapses into a single '-' as well.
		if !invalidRun {
			base = append(base, '-')
			invalidRun = true
		}
	}
	if len(base) > maxBase {
		base = base[:maxBase]
	}
	trimmed := strings.Trim(string(base), "-")
	if trimmed == "" {
		// A bare hash would be valid but tells an administrator looking
		// at the domain nothing about whose profile it is.
		return "", fmt.Errorf("%w: %q has no letters or digits", ErrProfileName, s)
	}
	sum := sha256.Sum256([]byte(s))
	return trimmed + "-" + hex.EncodeToString(sum[:hashLen/2]), nil
}

func isAlnum(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
}
