package oidclogin

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
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
	u := strings.TrimSuffix(cfg.Issuer, "/") + "/.well-known/openid-configuration"
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return providerEndpoints{}, fmt.Errorf("discovery %s: %w", u, err)
	}
	req.Header.Set("Accept", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return providerEndpoints{}, fmt.Errorf("discovery %s: %w", u, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return providerEndpoints{}, fmt.Errorf("discovery %s: %s", u, resp.Status)
	}
	var doc struct {
		Issuer string `json:"issuer"`
		Auth   string `json:"authorization_endpoint"`
		Token  string `json:"token_endpoint"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&doc); err != nil {
		return providerEndpoints{}, fmt.Errorf("discovery %s: %w", u, err)
	}
	// OpenID Connect Discovery 1.0 section 4.3: the document must be the
	// issuer's own.
	if doc.Issuer != cfg.Issuer {
		return providerEndpoints{}, fmt.Errorf("discovery %s: issuer %q, expected %q", u, doc.Issuer, cfg.Issuer)
	}
	ep := providerEndpoints{auth: doc.Auth, token: doc.Token}
	if cfg.AuthURL != "" {
		ep.auth = cfg.AuthURL
	}
	if cfg.TokenURL != "" {
		ep.token = cfg.TokenURL
	}
	if ep.auth == "" || ep.token == "" {
		return providerEndpoints{}, fmt.Errorf("discovery %s: no authorization or token endpoint", u)
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
	err := decodePayload(jwt, &c)
	return c, err
}

// decodePayload unmarshals a compact JWT's payload into v, unverified.
func decodePayload(jwt string, v any) error {
	parts := strings.Split(jwt, ".")
	if len(parts) != 3 {
		return errors.New("not a compact JWT")
	}
	b, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(parts[1], "="))
	if err != nil {
		return err
	}
	return json.Unmarshal(b, v)
}
