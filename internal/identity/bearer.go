package identity

import (
	"net/http"
	"strings"
)

// BearerToken extracts the token of an `Authorization: Bearer <token>`
// header (RFC 6750 section 2.1; the scheme is case-insensitive). No header
// gives ReasonMissingToken; another scheme, several Authorization headers or
// a value that is not a token give ReasonMalformed.
func BearerToken(h http.Header) (string, error) {
	values := h.Values("Authorization")
	switch {
	case len(values) == 0 || (len(values) == 1 && strings.TrimSpace(values[0]) == ""):
		return "", fail(ReasonMissingToken, "no Authorization header was sent", nil)
	case len(values) > 1:
		// Proxies and servers disagree on which of several wins; refuse
		// rather than guess.
		return "", fail(ReasonMalformed, "more than one Authorization header was sent", nil)
	}
	scheme, token, ok := strings.Cut(strings.TrimSpace(values[0]), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", fail(ReasonMalformed, "the Authorization header must use the Bearer scheme", nil)
	}
	token = strings.TrimLeft(token, " ")
	if !isB64Token(token) {
		return "", fail(ReasonMalformed, "the bearer token contains characters a token cannot have", nil)
	}
	return token, nil
}

// isB64Token checks the b64token syntax of RFC 6750: token characters
// followed by optional '=' padding.
func isB64Token(s string) bool {
	if s == "" {
		return false
	}
	body := strings.TrimRight(s, "=")
	if body == "" {
		return false
	}
	for _, r := range body {
		switch {
		case 'a' <= r && r <= 'z', 'A' <= r && r <= 'Z', '0' <= r && r <= '9':
		case strings.ContainsRune("-._~+/", r):
		default:
			return false
		}
	}
	return true
}
