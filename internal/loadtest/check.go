package loadtest

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
)

// Outcome is what an answer means for the test.
type Outcome int

const (
	// OK: the answer the request had to get.
	OK Outcome = iota
	// Limited: 429 with Retry-After; the gateway protected a quota.
	Limited
	// Shed: 503 or 504 with Retry-After; AWS (or a dependency) was
	// failing and the gateway said so honestly.
	Shed
	// Wrong: any other answer that grants nothing (a 5xx without
	// Retry-After, a 401 for a valid token, a transport error, ...).
	Wrong
	// Violation: a presigned URL handed out where none was due, or into
	// a domain that is not the caller's LOB's.
	Violation
)

var outcomeNames = [...]string{OK: "ok", Limited: "limited", Shed: "shed", Wrong: "wrong", Violation: "violation"}

func (o Outcome) String() string { return outcomeNames[o] }

// judge decides what an answer means. detail says why when it is not OK.
func judge(req *request, status int, h http.Header) (Outcome, string) {
	loc := h.Get("Location")
	grant := status == http.StatusFound && isPresigned(loc)
	switch {
	case grant && req.expect.domain == "":
		return Violation, fmt.Sprintf("%s %s by %s: a presigned URL (into %s) where %d was due", req.class, req.path, req.user.name, domainOf(loc), req.expect.status)
	case grant && !pointsInto(loc, req.expect.domain):
		return Violation, fmt.Sprintf("%s %s by %s: redirected into %s, not their domain %s", req.class, req.path, req.user.name, domainOf(loc), req.expect.domain)
	case status == req.expect.status && (req.expect.domain == "" || grant):
		return OK, ""
	case status == http.StatusTooManyRequests && h.Get("Retry-After") != "":
		return Limited, ""
	case (status == http.StatusServiceUnavailable || status == http.StatusGatewayTimeout) && h.Get("Retry-After") != "":
		return Shed, ""
	}
	return Wrong, fmt.Sprintf("%s %s: got %d, want %d", req.class, templatePath(req.path), status, req.expect.status)
}

// isPresigned reports whether a Location is a presigned Studio URL: it
// carries the sign-in token.
func isPresigned(loc string) bool {
	u, err := url.Parse(loc)
	return err == nil && u.Query().Get("token") != ""
}

// pointsInto reports whether a presigned URL opens domain: on AWS the
// domain id leads the host name, in the simulator it is a path segment.
func pointsInto(loc, domain string) bool {
	u, err := url.Parse(loc)
	if err != nil {
		return false
	}
	return strings.HasPrefix(u.Host, domain+".") || slices.Contains(strings.Split(u.Path, "/"), domain)
}

// domainOf names the domain a presigned URL opens, for messages; never the
// URL itself, which is a bearer secret.
func domainOf(loc string) string {
	u, err := url.Parse(loc)
	if err != nil {
		return "?"
	}
	if host, _, ok := strings.Cut(u.Host, "."); ok && strings.HasPrefix(host, "d-") {
		return host
	}
	for seg := range strings.SplitSeq(u.Path, "/") {
		if strings.HasPrefix(seg, "d-") {
			return seg
		}
	}
	return "?"
}

// templatePath folds user and LOB names out of a path so that messages
// about the same mistake group together.
func templatePath(p string) string {
	switch {
	case strings.HasPrefix(p, "/launch/"):
		return "/launch/{lob}"
	case strings.HasPrefix(p, "/studio/"):
		return "/studio/{user}"
	}
	return p
}
