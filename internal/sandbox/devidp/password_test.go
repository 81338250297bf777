package devidp

import (
	"crypto"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

func TestPasswordGrant(t *testing.T) {
	tests := []struct {
		name      string
		form      url.Values
		basicUser string // client id sent with HTTP Basic, if any
		status    int
		errCode   string
		wantUser  string
		wantScope string
	}{
		{
			name:   "default password",
			form:   url.Values{"grant_type": {"password"}, "client_id": {cliClient}, "username": {"alice"}, "password": {"demo"}},
			status: http.StatusOK, wantUser: "alice", wantScope: "openid profile email groups",
		},
		{
			name:   "own password and narrower scope",
			form:   url.Values{"grant_type": {"password"}, "client_id": {cliClient}, "username": {"bob"}, "password": {bobPass}, "scope": {"email aws.cognito.signin.user.admin"}},
			status: http.StatusOK, wantUser: "bob", wantScope: "openid email",
		},
		{
			name:      "client in Basic auth with a secret that is ignored",
			form:      url.Values{"grant_type": {"password"}, "username": {"alice"}, "password": {"demo"}},
			basicUser: webClient,
			status:    http.StatusOK, wantUser: "alice", wantScope: "openid profile email groups",
		},
		{
			name:   "wrong password",
			form:   url.Values{"grant_type": {"password"}, "client_id": {cliClient}, "username": {"bob"}, "password": {"demo"}},
			status: http.StatusBadRequest, errCode: "invalid_grant",
		},
		{
			name:   "unknown user",
			form:   url.Values{"grant_type": {"password"}, "client_id": {cliClient}, "username": {"mallory"}, "password": {"demo"}},
			status: http.StatusBadRequest, errCode: "invalid_grant",
		},
		{
			name:   "unknown client",
			form:   url.Values{"grant_type": {"password"}, "client_id": {"nobody"}, "username": {"alice"}, "password": {"demo"}},
			status: http.StatusUnauthorized, errCode: "invalid_client",
		},
		{
			name:   "no client",
			form:   url.Values{"grant_type": {"password"}, "username": {"alice"}, "password": {"demo"}},
			status: http.StatusUnauthorized, errCode: "invalid_client",
		},
		{
			name:      "client ids disagree",
			form:      url.Values{"grant_type": {"password"}, "client_id": {cliClient}, "username": {"alice"}, "password": {"demo"}},
			basicUser: webClient,
			status:    http.StatusBadRequest, errCode: "invalid_request",
		},
		{
			name:   "no password",
			form:   url.Values{"grant_type": {"password"}, "client_id": {cliClient}, "username": {"alice"}},
			status: http.StatusBadRequest, errCode: "invalid_request",
		},
		{
			name:   "repeated parameter",
			form:   url.Values{"grant_type": {"password"}, "client_id": {cliClient}, "username": {"alice", "bob"}, "password": {"demo"}},
			status: http.StatusBadRequest, errCode: "invalid_request",
		},
		{
			name:   "no grant type",
			form:   url.Values{"client_id": {cliClient}},
			status: http.StatusBadRequest, errCode: "invalid_request",
		},
		{
			name:   "unsupported grant type",
			form:   url.Values{"grant_type": {"client_credentials"}, "client_id": {cliClient}},
			status: http.StatusBadRequest, errCode: "unsupported_grant_type",
		},
	}
	e := newEnv(t, nil)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := http.NewRequest(http.MethodPost, e.base+"/token", strings.NewReader(tt.form.Encode()))
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			if tt.basicUser != "" {
				req.SetBasicAuth(url.QueryEscape(tt.basicUser), "any-secret")
			}
			resp, body := e.do(t, req)
			if resp.StatusCode != tt.status {
				t.Fatalf("status = %d, want %d: %s", resp.StatusCode, tt.status, body)
			}
			if tt.errCode != "" {
				if !strings.Contains(body, `"error":"`+tt.errCode+`"`) {
					t.Errorf("body = %s, want error %s", body, tt.errCode)
				}
				if tt.status == http.StatusUnauthorized && resp.Header.Get("WWW-Authenticate") == "" {
					t.Error("401 without WWW-Authenticate")
				}
				return
			}
			out := decodeJSON(t, body)
			if cc := resp.Header.Get("Cache-Control"); cc != "no-store" {
				t.Errorf("Cache-Control = %q, want no-store", cc)
			}
			client := tt.form.Get("client_id") + tt.basicUser
			if out["token_type"] != "Bearer" || out["expires_in"] != float64(3600) || out["scope"] != tt.wantScope {
				t.Errorf("response = %v", out)
			}
			for _, k := range []string{"access_token", "id_token", "refresh_token"} {
				if s, _ := out[k].(string); s == "" {
					t.Errorf("response lacks %s", k)
				}
			}
			at := e.verifyJWT(t, out["access_token"].(string))
			if at["preferred_username"] != tt.wantUser || at["client_id"] != client || at["scope"] != tt.wantScope || at["token_use"] != "access" {
				t.Errorf("access token claims = %v", at)
			}
			id := e.verifyJWT(t, out["id_token"].(string))
			if id["preferred_username"] != tt.wantUser || id["sub"] != SubjectFor(tt.wantUser) || id["aud"] != client ||
				id["auth_time"] != float64(e.clock.Now().Unix()) || id["token_use"] != nil {
				t.Errorf("id token claims = %v", id)
			}
		})
	}
}

// TestTokenEndpointSigningFailure checks that a key that cannot sign (a
// KMS or HSM key that is unreachable) yields a clean server_error.
func TestTokenEndpointSigningFailure(t *testing.T) {
	e := newEnv(t, func(o *Options) { o.Key = brokenSigner{testKey(t)} })
	status, out := e.tokenCall(t, url.Values{"grant_type": {"password"}, "client_id": {cliClient}, "username": {"alice"}, "password": {"demo"}})
	if status != http.StatusInternalServerError || out["error"] != "server_error" || out["access_token"] != nil {
		t.Errorf("token response = %d %v, want 500 server_error", status, out)
	}
	if logs := e.logs.String(); !strings.Contains(logs, "devidp: issue tokens") || !strings.Contains(logs, "key unavailable") {
		t.Errorf("the signing failure was not logged:\n%s", logs)
	}
}

// brokenSigner is a crypto.Signer whose every signature fails.
type brokenSigner struct{ inner crypto.Signer }

func (b brokenSigner) Public() crypto.PublicKey { return b.inner.Public() }
func (brokenSigner) Sign(io.Reader, []byte, crypto.SignerOpts) ([]byte, error) {
	return nil, errors.New("key unavailable")
}
