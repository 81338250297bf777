package devidp

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"sync"
	"time"
)

// Why a store refused a code or a refresh token. The token endpoint answers
// invalid_grant for all of them; the distinction is for logs and tests.
var (
	errNotFound = errors.New("not found")
	errExpired  = errors.New("expired")
	errReused   = errors.New("already used")
)

// reuseWindow is how long a spent code or refresh token is remembered after
// it would have expired anyway, so a replay is recognised as a replay (and
// revokes what it produced) rather than just "not found".
const reuseWindow = 10 * time.Minute

// session is what a code or refresh token stands for: who signed in, to
// which client, with what scope.
type session struct {
	username string
	clientID string
	scope    string
	nonce    string // only for the ID token of the code exchange
	authTime time.Time
	// family ties together the code and every refresh token descended from
	// it, so that replaying any spent member revokes all live members
	// (OAuth 2.0 Security BCP, RFC 9700 section 4.14).
	family string
}

type codeEntry struct {
	session
	redirectURI string
	challenge   string
	expires     time.Time
	used        bool
}

type refreshEntry struct {
	session
	expires time.Time
	used    bool
}

// store keeps codes and refresh tokens in memory, keyed by a hash of the
// secret so that the secrets themselves are never held after being handed
// out. Expired entries are pruned on every write; dev traffic is tiny, so a
// linear sweep is cheaper to reason about than a timer.
type store struct {
	mu      sync.Mutex
	codes   map[string]*codeEntry
	refresh map[string]*refreshEntry
	forms   map[string]time.Time // spent login-form nonces -> expiry
}

func newStore() *store {
	return &store{
		codes:   make(map[string]*codeEntry),
		refresh: make(map[string]*refreshEntry),
		forms:   make(map[string]time.Time),
	}
}

// randomToken returns 256 random bits, base64url without padding.
func randomToken() string {
	b := make([]byte, 32)
	// crypto/rand.Read never returns an error on supported platforms; it
	// crashes the program irrecoverably instead.
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

func storeKey(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return string(sum[:])
}

func (s *store) prune(now time.Time) {
	for k, c := range s.codes {
		if now.After(c.expires.Add(reuseWindow)) {
			delete(s.codes, k)
		}
	}
	for k, r := range s.refresh {
		if now.After(r.expires) {
			delete(s.refresh, k)
		}
	}
	for k, exp := range s.forms {
		if now.After(exp) {
			delete(s.forms, k)
		}
	}
}

// newCode records an authorization code and returns it.
func (s *store) newCode(e codeEntry, now time.Time) string {
	code := randomToken()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.prune(now)
	s.codes[storeKey(code)] = &e
	return code
}

// redeemCode spends a code. The code is spent even if the caller then
// rejects the exchange (wrong verifier, client or redirect URI), so a code
// cannot be used to guess a verifier. Replaying a spent code revokes every
// refresh token issued from it.
func (s *store) redeemCode(code string, now time.Time) (codeEntry, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.codes[storeKey(code)]
	switch {
	case !ok:
		return codeEntry{}, errNotFound
	case e.used:
		s.revokeFamilyLocked(e.family)
		return codeEntry{}, errReused
	}
	e.used = true
	if now.After(e.expires) {
		return codeEntry{}, errExpired
	}
	return *e, nil
}

// newRefresh records a refresh token for sess and returns it.
func (s *store) newRefresh(sess session, now time.Time) string {
	token := randomToken()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.prune(now)
	s.refresh[storeKey(token)] = &refreshEntry{session: sess, expires: now.Add(refreshTTL)}
	return token
}

// spendRefresh spends a refresh token: each one works once, and the
// response carries its successor. Replaying a spent one revokes the family,
// because only a thief or a confused client would present it again.
func (s *store) spendRefresh(token string, now time.Time) (session, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.refresh[storeKey(token)]
	switch {
	case !ok:
		return session{}, errNotFound
	case now.After(e.expires):
		return session{}, errExpired
	case e.used:
		s.revokeFamilyLocked(e.family)
		return session{}, errReused
	}
	e.used = true
	return e.session, nil
}

func (s *store) revokeFamilyLocked(family string) {
	for k, r := range s.refresh {
		if r.family == family {
			delete(s.refresh, k)
		}
	}
}

// spendFormNonce reports whether a login form's nonce is fresh, and marks it
// spent, so each rendered form can be submitted once.
func (s *store) spendFormNonce(nonce string, expires, now time.Time) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.prune(now)
	if _, spent := s.forms[nonce]; spent {
		return false
	}
	s.forms[nonce] = expires
	return true
}
