package apigw

import (
	"context"
	"errors"
	"log/slog"
	"net/http"

	"github.com/akrylysov/algnhsa"

	"github.com/sagegate/sagegate/internal/config"
	"github.com/sagegate/sagegate/internal/identity"
	"github.com/sagegate/sagegate/internal/lambda/authorizer"
)

// Trust returns the server.Options.TrustedPrincipal for a
// lambda.trustAuthorizerContext mode, or nil for "none": then nothing in an
// event's request context is ever read as an identity.
//
// "cognito" takes the claims that a Cognito user pool authorizer (REST) or
// a JWT authorizer (HTTP API) verified; "sagegate" takes the context of
// sagegate's own Lambda authorizer. Either way the issuer must be one of
// providers and the claims must pass the provider's rules (audience or app
// client, token use, username), as a token would. ALB events carry no
// authorizer context and are never trusted. When the context is missing or
// does not pass, the request is authenticated as usual (bearer token or
// session), so a route without an authorizer still works.
//
// API Gateway writes the request context itself; it can only be forged by
// invoking the function directly, which needs lambda:InvokeFunction.
func Trust(mode string, providers []identity.ProviderConfig, log *slog.Logger) func(*http.Request) (*identity.Principal, bool) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	byIssuer := map[string]identity.ProviderConfig{}
	for _, p := range providers {
		p = p.WithDefaults()
		byIssuer[p.Issuer] = p
	}
	var read func(ctx context.Context) (*identity.Principal, error)
	switch mode {
	case config.TrustCognito:
		read = func(ctx context.Context) (*identity.Principal, error) {
			c, ok := jwtClaims(ctx)
			if !ok {
				return nil, nil
			}
			return principalFromClaims(c, byIssuer)
		}
	case config.TrustSagegate:
		read = func(ctx context.Context) (*identity.Principal, error) {
			c, principalID, ok := lambdaContext(ctx)
			if !ok {
				return nil, nil
			}
			return principalFromSagegate(c, principalID, byIssuer)
		}
	default:
		return nil
	}
	return func(r *http.Request) (*identity.Principal, bool) {
		p, err := read(r.Context())
		if err != nil {
			// A context that does not pass is ignored, never an answer: the
			// request must then authenticate like any other.
			log.WarnContext(r.Context(), "authorizer context not trusted", "mode", mode, "err", err)
			return nil, false
		}
		return p, p != nil
	}
}

// jwtClaims is the verified claims of a Cognito (REST) or JWT (HTTP API)
// authorizer. API Gateway turns every claim into a string.
func jwtClaims(ctx context.Context) (map[string]string, bool) {
	if v1, ok := algnhsa.APIGatewayV1RequestFromContext(ctx); ok {
		raw, ok := v1.RequestContext.Authorizer["claims"].(map[string]any)
		if !ok {
			return nil, false
		}
		c := make(map[string]string, len(raw))
		for k, v := range raw {
			if s, ok := v.(string); ok {
				c[k] = s
			}
		}
		return c, true
	}
	if v2, ok := algnhsa.APIGatewayV2RequestFromContext(ctx); ok {
		if a := v2.RequestContext.Authorizer; a != nil && a.JWT != nil {
			return a.JWT.Claims, true
		}
	}
	return nil, false
}

// lambdaContext is the context a Lambda authorizer returned, and the
// principalId API Gateway reports for it ("" when it reports none).
func lambdaContext(ctx context.Context) (map[string]any, string, bool) {
	if v1, ok := algnhsa.APIGatewayV1RequestFromContext(ctx); ok {
		a := v1.RequestContext.Authorizer
		if len(a) == 0 || a[authorizer.KeyUsername] == nil {
			return nil, "", false
		}
		pid, _ := a["principalId"].(string)
		return a, pid, true
	}
	if v2, ok := algnhsa.APIGatewayV2RequestFromContext(ctx); ok {
		if a := v2.RequestContext.Authorizer; a != nil && len(a.Lambda) > 0 {
			return a.Lambda, "", true
		}
	}
	return nil, "", false
}

func principalFromSagegate(c map[string]any, principalID string, byIssuer map[string]identity.ProviderConfig) (*identity.Principal, error) {
	p, err := authorizer.PrincipalFromContext(c)
	if err != nil {
		return nil, err
	}
	if principalID != "" && principalID != p.Username {
		return nil, errors.New("principalId and username differ")
	}
	prov, ok := byIssuer[p.Issuer]
	if !ok {
		return nil, errors.New("the issuer is not a configured identity provider")
	}
	if p.Subject == "" {
		return nil, errors.New("sub is required")
	}
	p.Provider = prov.Name
	return p, nil
}
