package gateway_test

import (
	"bufio"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Credentials a fuzzed request may carry, chosen by one input byte.
const (
	authNone = iota
	authAlice
	authBoth
	authExpired
	authCognito
	authKinds
)

// FuzzRequest sends arbitrary requests (method, target, extra header lines,
// a body, and a credential chosen from none, valid, expired) through the
// gateway wired to the AWS simulator, as net/http would hand them over
// after parsing. Whatever arrives, the answer is never a 500 nor any other
// 5xx than an honest 503/504 with Retry-After, and no AWS call is made
// unless the caller was authenticated and the answer is a launch.
func FuzzRequest(f *testing.F) {
	e := newEnv(f)
	expired := e.oidc.Sign(map[string]any{"sub": "sub-alice", "preferred_username": "alice", "aud": "sagegate", "exp": time.Now().Add(-time.Hour).Unix()})
	tokens := [authKinds]string{
		authAlice:   e.token("alice"),
		authBoth:    e.token("both"),
		authExpired: expired,
		authCognito: e.cognito.Sign(map[string]any{"sub": "c-1", "token_use": "access", "client_id": appClient, "username": "carol@example.com"}),
	}
	// Seeds are in testdata/fuzz/FuzzRequest: a credential is named by its
	// index above (0 none, 1 alice, 2 both, 3 expired, 4 Cognito).
	f.Fuzz(func(t *testing.T, method, target, headers, body string, auth uint8) {
		var raw strings.Builder
		raw.WriteString(method + " " + target + " HTTP/1.1\r\nHost: sagegate.test\r\n")
		for line := range strings.SplitSeq(headers, "\n") {
			if line = strings.TrimRight(line, "\r"); line != "" {
				raw.WriteString(line + "\r\n")
			}
		}
		kind := int(auth) % authKinds
		if tokens[kind] != "" {
			raw.WriteString("Authorization: Bearer " + tokens[kind] + "\r\n")
		}
		if body != "" {
			raw.WriteString("Content-Length: " + strconv.Itoa(len(body)) + "\r\n")
		}
		raw.WriteString("\r\n" + body)
		req, err := http.ReadRequest(bufio.NewReader(strings.NewReader(raw.String())))
		if err != nil {
			return // net/http answers 400 itself; the gateway never sees it
		}
		req.RemoteAddr = "192.0.2.1:1234"

		before := e.sim.Calls().Total
		rec := httptest.NewRecorder()
		e.gw.Handler.ServeHTTP(rec, req)
		calls := e.sim.Calls().Total - before

		status := rec.Code
		if status >= 500 && !((status == http.StatusServiceUnavailable || status == http.StatusGatewayTimeout) && rec.Header().Get("Retry-After") != "") {
			t.Fatalf("%s %q answered %d: %s", method, target, status, rec.Body.String())
		}
		authenticated := kind == authAlice || kind == authBoth || kind == authCognito
		if calls > 0 && (!authenticated || status >= 400) {
			t.Fatalf("%s %q (credential %d) made %d AWS calls and answered %d", method, target, kind, calls, status)
		}
		for _, tok := range tokens {
			if tok != "" && strings.Contains(rec.Body.String(), tok) {
				t.Fatalf("the answer echoes a token")
			}
		}
	})
}
