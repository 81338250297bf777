package identity

import (
	"context"
	"errors"
	"fmt"
	"sync"

	jose "github.com/go-jose/go-jose/v4"
)

// rules are the kind-specific checks (oidc or cognito) applied to claims
// whose signature, issuer and lifetime are already verified.
type rules interface {
	principal(c Claims) (*Principal, error)
}

type provider struct {
	cfg   ProviderConfig // with defaults applied
	keys  *keySet
	rules rules
}

// MultiVerifier verifies tokens from any of several providers, choosing the
// provider by the token's exact issuer.
type MultiVerifier struct {
	s         *settings
	byIssuer  map[string]*provider
	providers []*provider // config order, for Ready
}

var _ Verifier = (*MultiVerifier)(nil)

// NewVerifier validates the providers and options and builds a verifier.
// It does no network I/O: keys are fetched on first use (or by Ready), so
// the verifier can be built before the issuer it trusts is listening.
func NewVerifier(ctx context.Context, providers []ProviderConfig, opts Options) (*MultiVerifier, error) {
	if errs := validateAll(providers); len(errs) > 0 {
		return nil, fmt.Errorf("identity: invalid providers: %w", errors.Join(errs...))
	}
	s, err := opts.resolve()
	if err != nil {
		return nil, err
	}
	m := &MultiVerifier{s: &s, byIssuer: map[string]*provider{}}
	for _, raw := range providers {
		cfg := raw.WithDefaults()
		p := &provider{cfg: cfg, keys: newKeySet(cfg, m.s), rules: newRules(cfg)}
		m.byIssuer[cfg.Issuer] = p
		m.providers = append(m.providers, p)
		s.log.DebugContext(ctx, "identity: provider configured", "provider", cfg.Name, "type", cfg.Type, "issuer", cfg.Issuer)
	}
	return m, nil
}

// Verify checks a raw JWT and returns the person it identifies. Every error
// is an *Error; its Detail never contains the token.
func (m *MultiVerifier) Verify(ctx context.Context, raw string) (*Principal, error) {
	if raw == "" {
		return nil, fail(ReasonMissingToken, "no bearer token was given", nil)
	}
	if len(raw) > maxTokenBytes {
		return nil, fail(ReasonMalformed, "the token is too large", nil)
	}
	// The allow-list is enforced while parsing, before anything else
	// looks at the token: "none" and HS* never reach key selection.
	jws, err := jose.ParseSignedCompact(raw, m.s.algs)
	if err != nil {
		var algErr *jose.ErrUnexpectedSignatureAlgorithm
		if errors.As(err, &algErr) {
			return nil, fail(ReasonUnsupportedAlg, fmt.Sprintf("the token's signature algorithm is not accepted (accepted: %v)", m.s.algs), nil)
		}
		return nil, fail(ReasonMalformed, "the token is not a signed JWT in compact form", err)
	}
	if len(jws.Signatures) != 1 {
		return nil, fail(ReasonMalformed, "the token must carry exactly one signature", nil)
	}
	// Only kid and alg are read from the header. Keys the token offers
	// itself (jwk, jku, x5u, x5c) are ignored: trusting them would let
	// anyone sign with a key of their own.
	header := jws.Signatures[0].Header

	// Unverified claims are only used to pick the provider; they are the
	// same bytes the signature is checked over below, so once that check
	// passes they are trusted as they are.
	c, err := parseClaims(jws.UnsafePayloadWithoutVerification())
	if err != nil {
		return nil, err
	}
	iss, err := c.Str("iss")
	if err != nil {
		return nil, err
	}
	p, ok := m.byIssuer[iss]
	if !ok || iss == "" {
		// No key fetch for an issuer we do not trust: nobody can make
		// sagegate contact an address of their choosing.
		return nil, fail(ReasonWrongIssuer, "the token's issuer is not trusted", nil)
	}

	keys, err := p.keys.lookup(ctx, header.KeyID, header.Algorithm)
	if err != nil {
		return nil, err
	}
	if err := verifySignature(jws, keys); err != nil {
		return nil, err
	}
	if err := checkTimes(c, m.s.now(), m.s.leeway); err != nil {
		return nil, err
	}
	pr, err := principalOf(p.cfg, p.rules, c)
	if err != nil {
		return nil, err
	}
	// checkTimes has already required exp.
	pr.ExpiresAt, _, _ = c.numericDate("exp")
	return pr, nil
}

// PrincipalFromClaims names the person behind claims whose signature,
// issuer and lifetime were verified elsewhere (by an API Gateway
// authorizer), applying the rules of provider, the one whose issuer is the
// claims' iss: audience or app client, token use, username, groups and
// email, as for a token. So an authorizer configured more loosely than
// sagegate does not let more people in. Errors are *Error; ExpiresAt is
// left zero.
func PrincipalFromClaims(provider ProviderConfig, c Claims) (*Principal, error) {
	cfg := provider.WithDefaults()
	return principalOf(cfg, newRules(cfg), c)
}

func newRules(cfg ProviderConfig) rules {
	if cfg.Type == TypeCognito {
		return newCognitoRules(cfg)
	}
	return newOIDCRules(cfg)
}

// principalOf applies the provider's rules and requires sub. cfg has
// defaults applied and its issuer is the claims' iss.
func principalOf(cfg ProviderConfig, r rules, c Claims) (*Principal, error) {
	pr, err := r.principal(c)
	if err != nil {
		return nil, err
	}
	if pr.Subject, err = c.Str("sub"); err != nil {
		return nil, err
	}
	if pr.Subject == "" {
		return nil, fail(ReasonMissingClaim, "claim sub is required", nil)
	}
	pr.Issuer, pr.Provider = cfg.Issuer, cfg.Name
	return pr, nil
}

// verifySignature accepts the token if any candidate key verifies it (a
// JWKS may hold several keys under one kid, and kid-less tokens are tried
// against every compatible key).
func verifySignature(jws *jose.JSONWebSignature, keys []jose.JSONWebKey) error {
	var err error
	for _, k := range keys {
		if _, err = jws.Verify(k.Key); err == nil {
			return nil
		}
	}
	if errors.Is(err, jose.ErrCryptoFailure) {
		return fail(ReasonBadSignature, "the token's signature is invalid", nil)
	}
	// Unsupported critical headers and the like: the token is not one we
	// can interpret, whatever its signature.
	return fail(ReasonMalformed, "the token could not be verified", err)
}

// Ready returns nil when every provider has signing keys cached, fetching
// them for any that has none. It is meant for /readyz and can be called at
// start-up to warm the cache; a fetch that fails is retried no sooner than
// the cool-down (one second while no key was ever fetched).
func (m *MultiVerifier) Ready(ctx context.Context) error {
	errs := make([]error, len(m.providers))
	var wg sync.WaitGroup
	for i, p := range m.providers {
		wg.Go(func() { errs[i] = p.keys.ready(ctx) })
	}
	wg.Wait()
	return errors.Join(errs...)
}
