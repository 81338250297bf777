package broker

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
)

// STS limits RoleSessionName and SourceIdentity to 2..64 characters of
// [\w+=,.@-]. Usernames are usually emails, which fit; anything else is
// mapped deterministically, with a hash suffix whenever the mapping changed
// the name, so two different people can never share a session name in
// CloudTrail.
const stsNameMax = 64

func stsNameChar(r rune) bool {
	return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' ||
		strings.ContainsRune("_+=,.@-", r)
}

// stsName maps a username to a valid RoleSessionName / SourceIdentity.
func stsName(username string) string {
	var b strings.Builder
	changed := false
	for _, r := range username {
		if stsNameChar(r) {
			b.WriteRune(r)
		} else {
			b.WriteByte('-')
			changed = true
		}
	}
	out := b.String()
	// SourceIdentity may not start with "aws:"; the colon is already
	// replaced above, so only the length rules remain.
	if !changed && len(out) >= 2 && len(out) <= stsNameMax {
		return out
	}
	sum := sha256.Sum256([]byte(username))
	suffix := hex.EncodeToString(sum[:4])
	if max := stsNameMax - len(suffix) - 1; len(out) > max {
		out = out[:max]
	}
	if out == "" {
		return "u-" + suffix
	}
	return out + "-" + suffix
}
