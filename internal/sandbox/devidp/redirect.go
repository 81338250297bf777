package devidp

import (
	"errors"
	"net"
	"net/url"
	"strings"
)

// checkRegisteredURI validates a client's registered redirect URI at New,
// so that a typo fails at start-up rather than as a refused login.
func checkRegisteredURI(raw string) error {
	u, err := url.Parse(raw)
	switch {
	case err != nil:
		return err
	case !u.IsAbs() || u.Host == "":
		return errors.New("redirect URI " + raw + " is not absolute")
	case u.Fragment != "" || strings.Contains(raw, "#"):
		// RFC 6749 section 3.1.2: the endpoint URI must not have a fragment.
		return errors.New("redirect URI " + raw + " has a fragment")
	}
	return nil
}

// isLoopbackHost reports whether host (without port) names the loopback
// interface the way RFC 8252 section 7.3 means. localhost is allowed too
// because dev tools often use it, though the RFC prefers IP literals.
func isLoopbackHost(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && (ip.Equal(net.IPv4(127, 0, 0, 1)) || ip.Equal(net.IPv6loopback))
}

// redirectMatches reports whether requested may be used in place of
// registered: an exact string match, or, for http loopback URIs, a match of
// everything but the port.
func redirectMatches(registered, requested string) bool {
	if registered == requested {
		return true
	}
	reg, err := url.Parse(registered)
	if err != nil || reg.Scheme != "http" || !isLoopbackHost(reg.Hostname()) {
		return false
	}
	req, err := url.Parse(requested)
	if err != nil || strings.Contains(requested, "#") || req.User != nil {
		return false
	}
	return req.Scheme == reg.Scheme &&
		req.Hostname() == reg.Hostname() &&
		req.EscapedPath() == reg.EscapedPath() &&
		req.RawQuery == reg.RawQuery &&
		req.Opaque == "" && reg.Opaque == ""
}

// allowsRedirect reports whether uri is one of c's redirect URIs.
func (c *Client) allowsRedirect(uri string) bool {
	for _, reg := range c.RedirectURIs {
		if redirectMatches(reg, uri) {
			return true
		}
	}
	return false
}

// allowsPostLogout reports whether /logout may send the browser to uri.
func (c *Client) allowsPostLogout(uri string) bool {
	for _, reg := range c.PostLogoutRedirectURIs {
		if redirectMatches(reg, uri) {
			return true
		}
	}
	return c.allowsRedirect(uri)
}
