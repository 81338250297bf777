// Package devidp is the OpenID Connect issuer that `sagegate dev` runs so the
// whole login-and-launch flow works on a laptop with no network and no real
// identity provider. It is deliberately small and deliberately permissive
// about who may sign in (demo users, demo passwords), but strict about the
// protocol (exact redirect URIs, mandatory PKCE S256, single-use codes), so a
// client that works against it does not silently rely on shortcuts that a
// real provider such as Cognito would refuse.
//
// It is for development only: keys, codes and refresh tokens live in memory
// and are lost on restart, and every password is a demo password.
//
// # Mounting
//
// Options.Issuer is the exact `iss` and the base of every endpoint URL. The
// handler answers at these paths below the issuer's URL path:
//
//	GET  /.well-known/openid-configuration
//	GET  /jwks
//	GET  /authorize, POST /authorize   (login form)
//	POST /token
//	GET  /userinfo, POST /userinfo
//	GET  /logout, POST /logout
//
// Handler accepts request paths either with or without the issuer's path, so
// both of these mountings work for Issuer "http://127.0.0.1:8080/dev/oidc":
//
//	mux.Handle("/dev/oidc/", iss.Handler())
//	mux.Handle("/dev/oidc/", http.StripPrefix("/dev/oidc", iss.Handler()))
//
// If the issuer has no path (e.g. "http://127.0.0.1:9000"), mount it at "/".
//
// # Tokens
//
// Access tokens (JWT, typ "JWT") carry iss, sub, aud (Options.Audience),
// client_id, preferred_username, email, groups, scope, iat, nbf, exp, jti and
// token_use="access". ID tokens carry iss, sub, aud (the client id), nonce
// (when the authorization request had one), preferred_username, email, name,
// groups, iat, exp and auth_time. Both are signed with the issuer's key (RS256
// for RSA keys, ES256 for P-256 keys) and name it with a kid header, the
// RFC 7638 thumbprint of the public key, which /jwks publishes.
//
// sub is SubjectFor(username): stable across restarts and issuers, so routing
// data keyed by subject survives a restart of `sagegate dev`.
package devidp
