package session

import (
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/sagegate/sagegate/internal/identity"
)

// Default lifetimes. Idle logs out a forgotten browser; absolute forces a
// fresh login (and fresh groups from the provider) at least twice a day.
const (
	DefaultIdleTTL     = time.Hour
	DefaultAbsoluteTTL = 12 * time.Hour
)

// touchInterval is how stale last-seen may get before Touch re-issues the
// cookie: fine enough for an hour of idle time, coarse enough that normal
// traffic does not carry a Set-Cookie on every response.
const touchInterval = time.Minute

// maxCookieBytes bounds name=value of the session cookie. Browsers allow
// about 4096 bytes per cookie including attributes; staying well under
// leaves room for them and for proxies with tighter header limits.
const maxCookieBytes = 3584

// clockSkew tolerates a session stamped slightly in the future, which
// happens when replicas' clocks disagree a little.
const clockSkew = time.Minute

// state is what the session cookie holds. Field names are short because
// every byte is sent on every request.
type state struct {
	// ID is random per login; CSRF tokens are bound to it, so a token from
	// one session is useless in another.
	ID        string             `json:"i"`
	Principal identity.Principal `json:"p"`
	Created   int64              `json:"c"`
	Seen      int64              `json:"s"`
	// IDToken is kept only as id_token_hint for provider logout, and only
	// when it fits.
	IDToken string `json:"t,omitempty"`
}

// expiry is when the session stops being valid if nothing touches it.
func (m *Manager) expiry(s *state) time.Time {
	idle := time.Unix(s.Seen, 0).Add(m.idleTTL)
	abs := time.Unix(s.Created, 0).Add(m.absoluteTTL)
	if abs.Before(idle) {
		return abs
	}
	return idle
}

// valid reports whether s is within both lifetimes at now.
func (m *Manager) valid(s *state, now time.Time) bool {
	created, seen := time.Unix(s.Created, 0), time.Unix(s.Seen, 0)
	if created.After(now.Add(clockSkew)) || seen.Before(created) {
		return false
	}
	return now.Before(m.expiry(s))
}

// read returns the first valid session in r. found reports whether any
// session cookie was present at all, so Touch can clear a dead one.
func (m *Manager) read(r *http.Request) (s *state, found bool) {
	now := m.now()
	// An injected duplicate (possible without the __Host- prefix) must not
	// hide the real cookie, so every cookie of that name is tried.
	for _, c := range r.CookiesNamed(m.cookies.sessionName) {
		found = true
		pt, err := m.codec.Open(m.cookies.sessionName, c.Value)
		if err != nil {
			continue
		}
		var st state
		if err := json.Unmarshal(pt, &st); err != nil || st.ID == "" {
			continue
		}
		if m.valid(&st, now) {
			return &st, true
		}
	}
	return nil, found
}

// write seals s into the session cookie. If the id token hint makes the
// cookie too large it is dropped (logout then goes to the provider without
// a hint); if the cookie is still too large the login cannot be stored.
func (m *Manager) write(w http.ResponseWriter, s *state) error {
	value, err := m.seal(s)
	if err != nil {
		return err
	}
	if len(m.cookies.sessionName)+1+len(value) > maxCookieBytes && s.IDToken != "" {
		m.log.Info("session cookie too large with id token hint; dropping the hint", "username", s.Principal.Username)
		s.IDToken = ""
		if value, err = m.seal(s); err != nil {
			return err
		}
	}
	if len(m.cookies.sessionName)+1+len(value) > maxCookieBytes {
		return fmt.Errorf("session: cookie for %q would be %d bytes, over the %d byte limit (too many groups?)", s.Principal.Username, len(value), maxCookieBytes)
	}
	http.SetCookie(w, m.cookies.cookie(m.cookies.sessionName, value, m.expiry(s), m.now()))
	return nil
}

func (m *Manager) seal(s *state) (string, error) {
	pt, err := json.Marshal(s)
	if err != nil {
		return "", fmt.Errorf("session: encode: %w", err)
	}
	return m.codec.Seal(m.cookies.sessionName, pt)
}

func (m *Manager) clear(w http.ResponseWriter) {
	http.SetCookie(w, m.cookies.cookie(m.cookies.sessionName, "", time.Time{}, m.now()))
}

// Principal returns the person behind a valid session cookie. ok is false
// when there is no cookie or it is invalid or expired; the reason is not
// interesting to callers, who send the browser to LoginURL either way.
func (m *Manager) Principal(r *http.Request) (*identity.Principal, bool) {
	s, _ := m.read(r)
	if s == nil {
		return nil, false
	}
	p := s.Principal
	p.Groups = append([]string(nil), s.Principal.Groups...)
	return &p, true
}

// Touch keeps an active session alive: it re-issues the cookie with a new
// last-seen when the stored one is older than a minute, and removes a
// session cookie that is no longer valid so the browser stops sending it.
// Call it before the response header is written.
func (m *Manager) Touch(w http.ResponseWriter, r *http.Request) {
	s, found := m.read(r)
	if s == nil {
		if found {
			m.clear(w)
		}
		return
	}
	now := m.now()
	if now.Sub(time.Unix(s.Seen, 0)) < touchInterval {
		return
	}
	s.Seen = now.Unix()
	if err := m.write(w, s); err != nil {
		// The old cookie is still valid until its idle limit; failing to
		// extend it is not worth failing the request.
		m.log.Warn("session refresh failed", "err", err)
	}
}
