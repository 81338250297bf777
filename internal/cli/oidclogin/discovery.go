package oidclogin

import (
	"cmp"
	"context"
	"errors"
	"net/http"

	"github.com/sagegate/sagegate/internal/identity"
)

type providerEndpoints struct{ auth, token string }

// endpoints reads the provider's discovery document, unless both
// endpoints are configured.
func endpoints(ctx context.Context, client *http.Client, cfg Config) (providerEndpoints, error) {
	if cfg.AuthURL != "" && cfg.TokenURL != "" {
		return providerEndpoints{auth: cfg.AuthURL, token: cfg.TokenURL}, nil
	}
	if cfg.Issuer == "" {
		return providerEndpoints{}, errors.New("no issuer: cannot find the provider's sign-in endpoints")
	}
	doc, err := identity.Discover(ctx, client, cfg.Issuer)
	if err != nil {
		return providerEndpoints{}, err
	}
	ep := providerEndpoints{auth: cmp.Or(cfg.AuthURL, doc.AuthorizationEndpoint), token: cmp.Or(cfg.TokenURL, doc.TokenEndpoint)}
	if ep.auth == "" || ep.token == "" {
		return providerEndpoints{}, errors.New("discovery: no authorization or token endpoint")
	}
	return ep, nil
}

type claims struct {
	Exp   int64  `json:"exp"`
	Nonce string `json:"nonce"`
}

// readClaims reads a JWT's payload without verifying it: the CLI only
// needs the expiry for its cache and the nonce; the gateway verifies the
// token itself on every request.
func readClaims(jwt string) (claims, error) {
	var c claims
	err := identity.UnverifiedPayload(jwt, &c)
	return c, err
}
