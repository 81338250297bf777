// Package session is sagegate's browser login: an OIDC authorization-code
// flow with PKCE, and a session kept entirely client-side in one
// AES-256-GCM-sealed cookie, so any number of gateway replicas can serve a
// browser without shared storage.
//
// The package owns the /auth/* routes and answers the two questions the rest
// of the server asks about a browser request: who is this (Principal) and did
// this state-changing request come from our own pages (CheckCSRF). Bearer
// tokens are not handled here; API clients go through identity.Verifier
// directly.
package session
