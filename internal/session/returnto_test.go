package session

import (
	"strings"
	"testing"
)

func TestSafeReturnTo(t *testing.T) {
	tests := map[string]string{
		"":                                     "/",
		"/":                                    "/",
		"/studio":                              "/studio",
		"/studio?target=risk&x=1":              "/studio?target=risk&x=1",
		"/a/b#frag":                            "/a/b#frag",
		"/%2F%2Fevil.com":                      "/%2F%2Fevil.com", // encoded: a path, not a host
		"//evil.com":                           "/",
		"///evil.com":                          "/",
		"/\\evil.com":                          "/",
		"/a\\b":                                "/",
		"\\\\evil.com":                         "/",
		"https://evil.com":                     "/",
		"http://evil.com/studio":               "/",
		"javascript:alert(1)":                  "/",
		"evil.com":                             "/",
		"/\t/evil.com":                         "/",
		"/\n/evil.com":                         "/",
		"/studio\r\nSet-Cookie: x":             "/",
		"/\x7f":                                "/",
		"/" + strings.Repeat("a", maxReturnTo): "/",
	}
	for in, want := range tests {
		if got := safeReturnTo(in); got != want {
			t.Errorf("safeReturnTo(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestLoginURL(t *testing.T) {
	m := testManager(t, newClock(), nil)
	for in, want := range map[string]string{
		"/studio?target=a": "/auth/login?rd=%2Fstudio%3Ftarget%3Da",
		"//evil.com":       "/auth/login?rd=%2F",
		"":                 "/auth/login?rd=%2F",
	} {
		if got := m.LoginURL(in); got != want {
			t.Errorf("LoginURL(%q) = %q, want %q", in, got, want)
		}
	}
}
