package devidp

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// supportedScopes is what discovery advertises. Unknown requested scopes are
// dropped rather than refused (RFC 6749 section 3.3 lets a server grant less
// than asked), so clients written for Cognito, which ask for provider
// specific scopes, still work; the response's scope says what was granted.
var supportedScopes = []string{"openid", "profile", "email", "groups", "offline_access"}

const defaultScope = "openid profile email groups"

// grantScope turns a requested scope into the granted one, in a stable order.
// openid is always granted because every grant here is an OIDC sign-in and
// every token response carries an ID token.
func grantScope(requested string) string {
	if strings.TrimSpace(requested) == "" {
		requested = defaultScope
	}
	asked := strings.Fields(requested)
	granted := []string{"openid"}
	for _, s := range supportedScopes[1:] {
		if slices.Contains(asked, s) {
			granted = append(granted, s)
		}
	}
	return strings.Join(granted, " ")
}

// scopeSubset reports whether every scope in narrower is in wider.
func scopeSubset(narrower, wider string) bool {
	have := strings.Fields(wider)
	for _, s := range strings.Fields(narrower) {
		if !slices.Contains(have, s) {
			return false
		}
	}
	return true
}

// accessClaims is the payload of an access token. Field names follow what
// Cognito and generic OIDC verifiers read, so the identity package can be
// tested against this issuer for both kinds.
type accessClaims struct {
	Issuer    string   `json:"iss"`
	Subject   string   `json:"sub"`
	Audience  string   `json:"aud"`
	ClientID  string   `json:"client_id"`
	Username  string   `json:"preferred_username"`
	Email     string   `json:"email,omitempty"`
	Groups    []string `json:"groups,omitempty"`
	Scope     string   `json:"scope"`
	IssuedAt  int64    `json:"iat"`
	NotBefore int64    `json:"nbf"`
	Expiry    int64    `json:"exp"`
	ID        string   `json:"jti"`
	TokenUse  string   `json:"token_use"`
}

// idClaims is the payload of an ID token (OIDC Core section 2).
type idClaims struct {
	Issuer   string   `json:"iss"`
	Subject  string   `json:"sub"`
	Audience string   `json:"aud"`
	Nonce    string   `json:"nonce,omitempty"`
	Username string   `json:"preferred_username"`
	Email    string   `json:"email,omitempty"`
	Name     string   `json:"name,omitempty"`
	Groups   []string `json:"groups,omitempty"`
	IssuedAt int64    `json:"iat"`
	Expiry   int64    `json:"exp"`
	AuthTime int64    `json:"auth_time"`
}

// tokenResponse is the token endpoint's success body (RFC 6749 section 5.1).
type tokenResponse struct {
	AccessToken  string `json:"access_token"`
	IDToken      string `json:"id_token"`
	TokenType    string `json:"token_type"`
	ExpiresIn    int64  `json:"expires_in"`
	RefreshToken string `json:"refresh_token"`
	Scope        string `json:"scope"`
}

func (i *Issuer) accessToken(u *User, clientID, scope string, now time.Time) (string, error) {
	return i.key.sign(accessClaims{
		Issuer:    i.issuer,
		Subject:   SubjectFor(u.Username),
		Audience:  i.audience,
		ClientID:  clientID,
		Username:  u.Username,
		Email:     u.Email,
		Groups:    u.Groups,
		Scope:     scope,
		IssuedAt:  now.Unix(),
		NotBefore: now.Unix(),
		Expiry:    now.Add(i.ttl).Unix(),
		ID:        randomToken()[:22], // 128 bits is plenty for a jti
		TokenUse:  "access",
	})
}

func (i *Issuer) idToken(u *User, sess session, now time.Time) (string, error) {
	return i.key.sign(idClaims{
		Issuer:   i.issuer,
		Subject:  SubjectFor(u.Username),
		Audience: sess.clientID,
		Nonce:    sess.nonce,
		Username: u.Username,
		Email:    u.Email,
		Name:     u.Name,
		Groups:   u.Groups,
		IssuedAt: now.Unix(),
		Expiry:   now.Add(i.ttl).Unix(),
		AuthTime: sess.authTime.Unix(),
	})
}

// issue builds a full token response for sess, with a new refresh token in
// sess's family. accessScope may be narrower than sess.scope (a refresh that
// asks for less); the refresh token keeps the full scope, as RFC 6749
// section 6 requires.
func (i *Issuer) issue(sess session, accessScope string) (tokenResponse, error) {
	u := i.byName[sess.username]
	if u == nil {
		return tokenResponse{}, ErrUnknownUser
	}
	now := i.now()
	at, err := i.accessToken(u, sess.clientID, accessScope, now)
	if err != nil {
		return tokenResponse{}, err
	}
	idt, err := i.idToken(u, sess, now)
	if err != nil {
		return tokenResponse{}, err
	}
	sess.nonce = "" // the nonce belongs to the first ID token only
	return tokenResponse{
		AccessToken:  at,
		IDToken:      idt,
		TokenType:    "Bearer",
		ExpiresIn:    int64(i.ttl / time.Second),
		RefreshToken: i.store.newRefresh(sess, now),
		Scope:        accessScope,
	}, nil
}

// Mint returns an access token for a demo user as if clientID had obtained
// it with the default scope, for `sagegate dev token USER` and for tests.
func (i *Issuer) Mint(username, clientID string) (string, error) {
	u := i.byName[username]
	if u == nil {
		return "", fmt.Errorf("%w: %q", ErrUnknownUser, username)
	}
	if i.clients[clientID] == nil {
		return "", fmt.Errorf("%w: %q", ErrUnknownClient, clientID)
	}
	tok, err := i.accessToken(u, clientID, grantScope(""), i.now())
	if err == nil {
		i.log.Info("devidp: token minted", "user", username, "client_id", clientID)
	}
	return tok, err
}

// verifyAccess checks an access token this issuer minted and returns its
// user. Each failure reads as a short reason safe to show the caller.
func (i *Issuer) verifyAccess(raw string) (*User, error) {
	var c accessClaims
	if err := i.key.verify(raw, &c); err != nil {
		return nil, errors.New("token is malformed or its signature does not verify")
	}
	now := i.now().Unix()
	u := i.byName[c.Username]
	switch {
	case c.Issuer != i.issuer:
		return nil, errors.New("token is from another issuer")
	case c.TokenUse != "access":
		return nil, errors.New("token is not an access token")
	case c.Audience != i.audience:
		return nil, errors.New("token is for another audience")
	case now >= c.Expiry:
		return nil, errors.New("token has expired")
	case now < c.NotBefore:
		return nil, errors.New("token is not valid yet")
	case u == nil || SubjectFor(u.Username) != c.Subject:
		return nil, errors.New("token's user does not exist")
	}
	return u, nil
}
