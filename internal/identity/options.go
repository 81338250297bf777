package identity

import (
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// Defaults applied by NewVerifier to zero Options fields.
const (
	DefaultLeeway          = 30 * time.Second
	DefaultRefreshCooldown = time.Minute
	DefaultKeyMaxAge       = time.Hour
	DefaultFetchTimeout    = 10 * time.Second

	// maxLeeway bounds clock-skew tolerance: beyond a few minutes it stops
	// being tolerance and starts extending token lifetimes.
	maxLeeway = 5 * time.Minute
	// coldRetry is how soon a failed fetch is retried while no keys were
	// ever obtained: short, because every token fails until then (and
	// `sagegate dev` may be asked before its own issuer listens), yet not a
	// hot loop against an identity provider that is down.
	coldRetry = time.Second
	// maxTokenBytes refuses absurd inputs before any decoding work. Cognito
	// ID tokens with many groups stay well below it.
	maxTokenBytes = 32 << 10
)

// defaultAlgorithms are accepted when Options.Algorithms is empty: what
// Cognito (RS256) and most OIDC providers (RS256, some ES256) sign with.
var defaultAlgorithms = []string{"RS256", "ES256"}

// supportedAlgorithms are the asymmetric JWS algorithms the verifier knows
// how to match to a key. HMAC and "none" are absent on purpose: a gateway
// that verifies third-party tokens never shares a secret with the issuer,
// and accepting HS* is what makes the key-confusion attack possible.
var supportedAlgorithms = []string{
	"RS256", "RS384", "RS512", "PS256", "PS384", "PS512",
	"ES256", "ES384", "ES512", "EdDSA",
}

// Options tune the verifier. The zero value is usable.
type Options struct {
	// Algorithms allow-lists the JWS "alg" values; default RS256 and ES256.
	Algorithms []string
	// Leeway tolerates clock skew on exp, nbf and iat. Zero means
	// DefaultLeeway; a negative value means no leeway; at most 5 minutes.
	Leeway time.Duration
	// RefreshCooldown is the minimum time between two JWKS fetches of one
	// provider, so tokens with made-up key ids cannot make sagegate hammer
	// the identity provider. Zero means DefaultRefreshCooldown.
	RefreshCooldown time.Duration
	// KeyMaxAge is how long fetched keys are trusted before they are
	// refreshed in the background (so a key the provider withdrew stops
	// verifying). Zero means DefaultKeyMaxAge.
	KeyMaxAge time.Duration
	// HTTPClient fetches discovery documents and JWKS. Default: a client
	// with a DefaultFetchTimeout timeout. Unless the client has its own
	// CheckRedirect, redirects are followed only to https (or loopback
	// http). Each fetch is also bounded by the
	// client's Timeout (or DefaultFetchTimeout when the client has none).
	HTTPClient *http.Client
	// Now is the clock; default time.Now.
	Now func() time.Time
	// Logger receives key-fetch events, never tokens. Nil discards.
	Logger *slog.Logger
	// OnKeyFetch, when set, is told of every signing-key fetch and its
	// result (metrics).
	OnKeyFetch func(provider string, err error)
}

// settings are Options with defaults applied.
type settings struct {
	algs         []jose.SignatureAlgorithm
	leeway       time.Duration
	cooldown     time.Duration
	maxAge       time.Duration
	client       *http.Client
	fetchTimeout time.Duration
	now          func() time.Time
	log          *slog.Logger
	onKeyFetch   func(provider string, err error)
}

func (o Options) resolve() (settings, error) {
	s := settings{
		leeway:   o.Leeway,
		cooldown: o.RefreshCooldown,
		maxAge:   o.KeyMaxAge,
		client:   o.HTTPClient,
		now:      o.Now,
		log:      o.Logger,

		onKeyFetch: o.OnKeyFetch,
	}
	algs := o.Algorithms
	if len(algs) == 0 {
		algs = defaultAlgorithms
	}
	for _, a := range algs {
		if !slices.Contains(supportedAlgorithms, a) {
			return settings{}, fmt.Errorf("identity: algorithm %q is not allowed (supported: %v)", a, supportedAlgorithms)
		}
		s.algs = append(s.algs, jose.SignatureAlgorithm(a))
	}
	switch {
	case s.leeway == 0:
		s.leeway = DefaultLeeway
	case s.leeway < 0:
		s.leeway = 0
	case s.leeway > maxLeeway:
		return settings{}, fmt.Errorf("identity: leeway %v is above the maximum of %v", s.leeway, maxLeeway)
	}
	if s.cooldown < 0 || s.maxAge < 0 {
		return settings{}, fmt.Errorf("identity: refresh cooldown and key max age must not be negative")
	}
	if s.cooldown == 0 {
		s.cooldown = DefaultRefreshCooldown
	}
	if s.maxAge == 0 {
		s.maxAge = DefaultKeyMaxAge
	}
	switch {
	case s.client == nil:
		s.client = &http.Client{Timeout: DefaultFetchTimeout, CheckRedirect: checkRedirect}
	case s.client.CheckRedirect == nil:
		// A copy, so the caller's client is left as it was.
		c := *s.client
		c.CheckRedirect = checkRedirect
		s.client = &c
	}
	s.fetchTimeout = s.client.Timeout
	if s.fetchTimeout <= 0 {
		s.fetchTimeout = DefaultFetchTimeout
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	return s, nil
}

// checkRedirect keeps key fetches on https (or loopback http) when the
// endpoint redirects: a downgrade would let the network swap the keys.
func checkRedirect(req *http.Request, via []*http.Request) error {
	if len(via) >= 5 {
		return fmt.Errorf("stopped after %d redirects", len(via))
	}
	if err := secureScheme(req.URL); err != nil {
		return fmt.Errorf("redirect to %s: %w", req.URL.Redacted(), err)
	}
	return nil
}
