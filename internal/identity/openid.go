package identity

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
)

// Discovery is the part of an OpenID provider's configuration document
// (OpenID Connect Discovery 1.0) that sagegate reads: the keys for the
// verifier, the endpoints for the browser and CLI sign-in flows.
type Discovery struct {
	Issuer                string `json:"issuer"`
	AuthorizationEndpoint string `json:"authorization_endpoint"`
	TokenEndpoint         string `json:"token_endpoint"`
	EndSessionEndpoint    string `json:"end_session_endpoint"`
	JWKSURI               string `json:"jwks_uri"`
}

// Discover fetches issuer's configuration document. The document must name
// exactly issuer (section 4.3): otherwise a misrouted or spoofed document
// could point key fetches and sign-ins anywhere, and a misconfigured issuer
// URL would only show later as every token failing verification.
func Discover(ctx context.Context, client *http.Client, issuer string) (*Discovery, error) {
	var doc Discovery
	url := strings.TrimSuffix(issuer, "/") + "/.well-known/openid-configuration"
	if err := getJSON(ctx, client, url, &doc); err != nil {
		return nil, fmt.Errorf("discovery: %w", err)
	}
	if doc.Issuer != issuer {
		return nil, fmt.Errorf("discovery %s: document issuer %q does not match configured issuer, expected %q", url, doc.Issuer, issuer)
	}
	return &doc, nil
}

// ErrorCode returns an OAuth 2.0 or OpenID Connect error code a provider
// sent to a redirect URI if it is a standard one, and "unknown error"
// otherwise: anyone can send a browser to a redirect URI, so the code is
// never shown to a person as it came.
func ErrorCode(e string) string {
	switch e {
	case "invalid_request", "unauthorized_client", "access_denied", "unsupported_response_type",
		"invalid_scope", "server_error", "temporarily_unavailable", "interaction_required",
		"login_required", "account_selection_required", "consent_required", "invalid_request_uri",
		"invalid_request_object", "request_not_supported", "request_uri_not_supported", "registration_not_supported":
		return e
	}
	return "unknown error"
}

// UnverifiedPayload decodes a compact JWT's payload into v and checks
// nothing else: no signature, issuer or lifetime. It is for the sign-in
// flows, which read the nonce and expiry of a token they just received
// from the provider's token endpoint; never for deciding who someone is.
func UnverifiedPayload(jwt string, v any) error {
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
