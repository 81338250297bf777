package session

import "slices"

// CLIClient is what a command-line client (`sagegate open`) needs to sign
// in to the same provider on its own: a loopback redirect with PKCE, then
// the chosen token sent as a bearer token. Nothing in it is secret.
type CLIClient struct {
	Issuer string `json:"issuer,omitempty"`
	// ClientID is set only when the browser login uses a public client
	// (no secret): a confidential client's id is useless without its
	// secret, which must never leave the server, so the CLI then needs a
	// public client of its own.
	ClientID string   `json:"clientId,omitempty"`
	Scopes   []string `json:"scopes"`
	// Token says which token of the token response the gateway verifies:
	// "id_token" or "access_token".
	Token string `json:"token"`
	// AuthURL and TokenURL are set when configured explicitly, for
	// providers whose discovery document is missing or wrong.
	AuthURL  string `json:"authorizationEndpoint,omitempty"`
	TokenURL string `json:"tokenEndpoint,omitempty"`
}

// CLIClient describes the provider for command-line sign-in.
func (m *Manager) CLIClient() CLIClient {
	c := CLIClient{
		Issuer:   m.login.Issuer,
		Scopes:   slices.Clone(m.login.Scopes),
		Token:    m.login.VerifyToken,
		AuthURL:  m.login.AuthURL,
		TokenURL: m.login.TokenURL,
	}
	if m.login.ClientSecret == "" {
		c.ClientID = m.login.ClientID
	}
	return c
}
