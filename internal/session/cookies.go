package session

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Cookie names. The __Host- prefix makes the browser refuse the cookie
// unless it is Secure, Path=/ and has no Domain, so a sibling subdomain
// cannot plant or shadow it; it is only usable when we can set Secure.
const (
	secureSessionCookie   = "__Host-sagegate"
	insecureSessionCookie = "sagegate_session"
	secureLoginPrefix     = "__Host-sagegate_login_"
	insecureLoginPrefix   = "sagegate_login_"
)

// cookiePolicy holds the attributes every cookie of ours shares.
type cookiePolicy struct {
	secure      bool
	sessionName string
	loginPrefix string
	// origin is scheme://host[:port] of the public URL, for Origin checks.
	origin string
}

// newCookiePolicy derives cookie attributes from the public URL. Plain http
// is only accepted on loopback, where a developer runs `sagegate dev`;
// anywhere else a session cookie over http would be readable on the wire, so
// it is refused rather than silently weakened.
func newCookiePolicy(publicURL string) (cookiePolicy, error) {
	if publicURL == "" {
		return cookiePolicy{}, errors.New("session: public URL is required (the address browsers use to reach sagegate)")
	}
	u, err := url.Parse(publicURL)
	if err != nil {
		return cookiePolicy{}, fmt.Errorf("session: public URL %q: %w", publicURL, err)
	}
	if u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return cookiePolicy{}, fmt.Errorf("session: public URL %q must be scheme://host[:port] with no user, query or fragment", publicURL)
	}
	// Routes and cookies live at the root; a path prefix would need both to
	// move, which nothing else supports yet.
	if u.Path != "" && u.Path != "/" {
		return cookiePolicy{}, fmt.Errorf("session: public URL %q has a path; sagegate must be served at the root of its host", publicURL)
	}
	origin := canonicalOrigin(u)
	switch strings.ToLower(u.Scheme) {
	case "https":
		return cookiePolicy{secure: true, sessionName: secureSessionCookie, loginPrefix: secureLoginPrefix, origin: origin}, nil
	case "http":
		if !isLoopback(u.Hostname()) {
			return cookiePolicy{}, fmt.Errorf("session: public URL %q is plain http; session cookies need https (http is only allowed on localhost, 127.0.0.1 or [::1])", publicURL)
		}
		return cookiePolicy{secure: false, sessionName: insecureSessionCookie, loginPrefix: insecureLoginPrefix, origin: origin}, nil
	default:
		return cookiePolicy{}, fmt.Errorf("session: public URL %q must use https (or http on localhost)", publicURL)
	}
}

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// cookie builds one of our cookies. A zero expiry means "delete".
func (p cookiePolicy) cookie(name, value string, expires time.Time, now time.Time) *http.Cookie {
	c := &http.Cookie{
		Name:     name,
		Value:    value,
		Path:     "/",
		HttpOnly: true,
		Secure:   p.secure,
		SameSite: http.SameSiteLaxMode,
	}
	if expires.IsZero() {
		c.Value = ""
		c.MaxAge = -1
		c.Expires = time.Unix(0, 0)
		return c
	}
	// Max-Age is relative, so it survives a browser whose clock is off;
	// Expires is kept for old clients that ignore Max-Age.
	c.MaxAge = max(int(expires.Sub(now)/time.Second), 1)
	c.Expires = expires.UTC()
	return c
}

// canonicalOrigin is the public URL as a browser writes it in an Origin
// header: lower case, default port omitted.
func canonicalOrigin(u *url.URL) string {
	scheme := strings.ToLower(u.Scheme)
	host := strings.ToLower(u.Host)
	if p := u.Port(); (scheme == "https" && p == "443") || (scheme == "http" && p == "80") {
		host = strings.TrimSuffix(host, ":"+p)
	}
	return scheme + "://" + host
}
