package sandbox

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
)

// DemoToken gets a demo user's access token from the issuer of the sandbox
// at baseURL, by the password grant (every demo password is "demo"). The
// signing key lives in the sandbox process, so its tokens must come from it.
// A refusal is a *TokenRefusedError; any other error means the sandbox was
// not reached.
func DemoToken(ctx context.Context, client *http.Client, baseURL, user string) (string, error) {
	form := url.Values{
		"grant_type": {"password"}, "username": {user}, "password": {"demo"},
		"client_id": {ClientID}, "scope": {"openid email profile"},
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, baseURL+"/dev/oidc/token", strings.NewReader(form.Encode()))
	if err != nil {
		return "", err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := client.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	var body struct {
		AccessToken string `json:"access_token"`
		Error       string `json:"error"`
		Description string `json:"error_description"`
	}
	err = json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&body)
	if err != nil || resp.StatusCode != http.StatusOK || body.AccessToken == "" {
		return "", &TokenRefusedError{Status: resp.Status, Code: body.Error, Description: body.Description}
	}
	return body.AccessToken, nil
}

// TokenRefusedError is an answer from the issuer that carries no token:
// an OAuth error (unknown user, wrong client), or not the issuer at all.
type TokenRefusedError struct {
	Status            string // the HTTP status line
	Code, Description string // the OAuth error, when the answer had one
}

func (e *TokenRefusedError) Error() string {
	return strings.TrimSpace("refused: " + e.Status + " " + strings.TrimSpace(e.Code+" "+e.Description))
}
