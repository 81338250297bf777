package devidp

import (
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestUserinfo(t *testing.T) {
	e := newEnv(t, nil)
	good, err := e.iss.Mint("alice", webClient)
	if err != nil {
		t.Fatal(err)
	}
	idToken := e.signIn(t)["id_token"].(string)
	otherIssuer := newEnv(t, nil)
	foreign, err := otherIssuer.iss.Mint("alice", webClient)
	if err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name      string
		method    string
		auth      string
		advance   time.Duration
		status    int
		challenge string // substring of WWW-Authenticate
	}{
		{name: "GET", method: http.MethodGet, auth: "Bearer " + good, status: http.StatusOK},
		{name: "POST, lower-case scheme", method: http.MethodPost, auth: "bearer " + good, status: http.StatusOK},
		{name: "no token", method: http.MethodGet, status: http.StatusUnauthorized, challenge: `Bearer realm="devidp"`},
		{name: "basic auth", method: http.MethodGet, auth: "Basic YTpi", status: http.StatusUnauthorized, challenge: `Bearer realm="devidp"`},
		{name: "garbage", method: http.MethodGet, auth: "Bearer abc.def.ghi", status: http.StatusUnauthorized, challenge: `error="invalid_token"`},
		{name: "ID token", method: http.MethodGet, auth: "Bearer " + idToken, status: http.StatusUnauthorized, challenge: "not an access token"},
		{name: "other issuer's key", method: http.MethodGet, auth: "Bearer " + foreign, status: http.StatusUnauthorized, challenge: "signature"},
		{name: "expired", method: http.MethodGet, auth: "Bearer " + good, advance: time.Hour, status: http.StatusUnauthorized, challenge: "expired"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e.clock.Advance(tt.advance)
			defer e.clock.Advance(-tt.advance)
			req, err := http.NewRequest(tt.method, e.base+"/userinfo", nil)
			if err != nil {
				t.Fatal(err)
			}
			if tt.auth != "" {
				req.Header.Set("Authorization", tt.auth)
			}
			resp, body := e.do(t, req)
			if resp.StatusCode != tt.status {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tt.status, body)
			}
			if tt.status != http.StatusOK {
				if got := resp.Header.Get("WWW-Authenticate"); !strings.Contains(got, tt.challenge) {
					t.Errorf("WWW-Authenticate = %q, want it to contain %q", got, tt.challenge)
				}
				return
			}
			got := decodeJSON(t, body)
			want := map[string]any{
				"sub": SubjectFor("alice"), "preferred_username": "alice", "name": "Alice Analyst",
				"email": "alice@example.test", "email_verified": true, "groups": []any{"lob-risk", "admins"},
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("userinfo = %v, want %v", got, want)
			}
		})
	}
}

// TestVerifyAccessRefusals covers the claim checks that a token signed with
// this issuer's own key must still pass; the HTTP test above cannot forge
// such tokens.
func TestVerifyAccessRefusals(t *testing.T) {
	e := newEnv(t, nil)
	good, err := e.iss.Mint("alice", webClient)
	if err != nil {
		t.Fatal(err)
	}
	var base accessClaims
	if err := e.iss.key.verify(good, &base); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		mutate func(*accessClaims)
		want   string // "" when the token is accepted
	}{
		{"unchanged", func(*accessClaims) {}, ""},
		{"another issuer", func(c *accessClaims) { c.Issuer = "https://elsewhere.example.test" }, "token is from another issuer"},
		{"another audience", func(c *accessClaims) { c.Audience = "someone-else" }, "token is for another audience"},
		{"not valid yet", func(c *accessClaims) { c.NotBefore = e.clock.Now().Add(time.Minute).Unix() }, "token is not valid yet"},
		{"unknown user", func(c *accessClaims) { c.Username = "mallory" }, "token's user does not exist"},
		{"subject of another user", func(c *accessClaims) { c.Subject = SubjectFor("bob") }, "token's user does not exist"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := base
			tt.mutate(&c)
			raw, err := e.iss.key.sign(c)
			if err != nil {
				t.Fatal(err)
			}
			u, err := e.iss.verifyAccess(raw)
			switch {
			case tt.want == "" && (err != nil || u == nil || u.Username != "alice"):
				t.Errorf("verifyAccess = %v, %v; want alice", u, err)
			case tt.want != "" && (err == nil || err.Error() != tt.want):
				t.Errorf("verifyAccess error = %v, want %q", err, tt.want)
			}
		})
	}
}
