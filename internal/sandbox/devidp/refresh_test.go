package devidp

import (
	"net/http"
	"net/url"
	"testing"
	"time"
)

// signIn runs the code flow for alice with the web client and returns the
// token response.
func (e *env) signIn(t *testing.T) map[string]any {
	t.Helper()
	verifier, challenge := pkce()
	loc := e.login(t, authParams(challenge), "alice", "demo")
	status, out := e.tokenCall(t, exchangeForm(loc.Query().Get("code"), webReturn, verifier, webClient))
	if status != http.StatusOK {
		t.Fatalf("exchange = %d %v", status, out)
	}
	return out
}

func refreshForm(token, clientID string) url.Values {
	return url.Values{"grant_type": {"refresh_token"}, "refresh_token": {token}, "client_id": {clientID}}
}

func TestRefreshGrant(t *testing.T) {
	e := newEnv(t, nil)
	first := e.signIn(t)
	authTime := e.clock.Now().Unix()
	e.clock.Advance(30 * time.Minute)

	status, second := e.tokenCall(t, refreshForm(first["refresh_token"].(string), webClient))
	if status != http.StatusOK {
		t.Fatalf("refresh = %d %v", status, second)
	}
	if second["refresh_token"] == first["refresh_token"] || second["access_token"] == first["access_token"] {
		t.Error("refresh did not rotate the tokens")
	}
	at := e.verifyJWT(t, second["access_token"].(string))
	if at["iat"] != float64(e.clock.Now().Unix()) || at["preferred_username"] != "alice" || at["scope"] != "openid profile email groups" {
		t.Errorf("refreshed access token = %v", at)
	}
	id := e.verifyJWT(t, second["id_token"].(string))
	if id["auth_time"] != float64(authTime) || id["nonce"] != nil || id["aud"] != webClient {
		t.Errorf("refreshed id token = %v: want the original auth_time and no nonce", id)
	}

	// A narrower scope is granted for the access token only; the next
	// refresh still has the full scope.
	form := refreshForm(second["refresh_token"].(string), webClient)
	form.Set("scope", "openid email")
	status, third := e.tokenCall(t, form)
	if status != http.StatusOK || third["scope"] != "openid email" {
		t.Fatalf("narrowing refresh = %d %v", status, third)
	}
	status, fourth := e.tokenCall(t, refreshForm(third["refresh_token"].(string), webClient))
	if status != http.StatusOK || fourth["scope"] != "openid profile email groups" {
		t.Errorf("refresh after narrowing = %d %v", status, fourth)
	}
}

func TestRefreshRejections(t *testing.T) {
	tests := []struct {
		name    string
		prepare func(e *env, first map[string]any) url.Values
		errCode string
	}{
		{"unknown token", func(*env, map[string]any) url.Values {
			return refreshForm("not-a-token", webClient)
		}, "invalid_grant"},
		{"other client", func(_ *env, first map[string]any) url.Values {
			return refreshForm(first["refresh_token"].(string), cliClient)
		}, "invalid_grant"},
		{"wider scope", func(_ *env, first map[string]any) url.Values {
			f := refreshForm(first["refresh_token"].(string), webClient)
			f.Set("scope", "openid offline_access")
			return f
		}, "invalid_scope"},
		{"expired", func(e *env, first map[string]any) url.Values {
			e.clock.Advance(refreshTTL + time.Second)
			return refreshForm(first["refresh_token"].(string), webClient)
		}, "invalid_grant"},
		{"missing token", func(*env, map[string]any) url.Values {
			return url.Values{"grant_type": {"refresh_token"}, "client_id": {webClient}}
		}, "invalid_request"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, nil)
			form := tt.prepare(e, e.signIn(t))
			status, out := e.tokenCall(t, form)
			if status != http.StatusBadRequest || out["error"] != tt.errCode {
				t.Errorf("refresh = %d %v, want 400 %s", status, out, tt.errCode)
			}
		})
	}
}

// Replaying a spent refresh token means it leaked or the client is
// confused; either way the whole family, including the newest token, dies.
func TestRefreshReplayRevokesFamily(t *testing.T) {
	e := newEnv(t, nil)
	first := e.signIn(t)
	status, second := e.tokenCall(t, refreshForm(first["refresh_token"].(string), webClient))
	if status != http.StatusOK {
		t.Fatalf("refresh = %d %v", status, second)
	}
	status, out := e.tokenCall(t, refreshForm(first["refresh_token"].(string), webClient))
	if status != http.StatusBadRequest || out["error"] != "invalid_grant" {
		t.Fatalf("replay = %d %v, want invalid_grant", status, out)
	}
	status, out = e.tokenCall(t, refreshForm(second["refresh_token"].(string), webClient))
	if status != http.StatusBadRequest || out["error"] != "invalid_grant" {
		t.Errorf("newest token after replay = %d %v, want invalid_grant", status, out)
	}

	// Another sign-in's family is unaffected.
	other := e.signIn(t)
	if status, out := e.tokenCall(t, refreshForm(other["refresh_token"].(string), webClient)); status != http.StatusOK {
		t.Errorf("unrelated family = %d %v", status, out)
	}
}
