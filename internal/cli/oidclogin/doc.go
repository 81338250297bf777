// Package oidclogin signs a person in from a terminal, the way RFC 8252
// (OAuth 2.0 for Native Apps) asks: the system browser opens the provider's
// authorization endpoint, the answer comes back to a one-shot HTTP listener
// on 127.0.0.1 at a random port, and PKCE binds the code to this process so
// another program that sees the redirect cannot redeem it. Tokens are
// cached in a file only the user can read, and reused until they expire.
package oidclogin
