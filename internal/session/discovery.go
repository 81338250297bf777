package session

import (
	"cmp"
	"context"
	"errors"
	"net/http"
	"sync"
	"time"

	"github.com/sagegate/sagegate/internal/identity"
)

// discoveryTimeout bounds the one request that fetches the provider's
// configuration, so a hung provider fails a login quickly instead of holding
// the browser until the client's own timeout.
const discoveryTimeout = 10 * time.Second

// endpoints are the provider URLs login and logout need.
type endpoints struct {
	auth, token, endSession string
}

// endpointCache fetches discovery once and keeps the result. Failures are
// not cached: the next login tries again, so a provider outage at startup
// heals by itself.
type endpointCache struct {
	cfg    LoginConfig
	client *http.Client

	mu  sync.Mutex
	got *endpoints
}

func newEndpointCache(cfg LoginConfig, client *http.Client) *endpointCache {
	c := &endpointCache{cfg: cfg, client: client}
	// With both required endpoints configured there is nothing to discover.
	if cfg.AuthURL != "" && cfg.TokenURL != "" {
		c.got = &endpoints{auth: cfg.AuthURL, token: cfg.TokenURL, endSession: cfg.LogoutURL}
	}
	return c
}

func (c *endpointCache) get(ctx context.Context) (endpoints, error) {
	// Holding the lock across the fetch means a burst of first logins makes
	// one request, not one each.
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.got != nil {
		return *c.got, nil
	}
	doc, err := c.fetch(ctx)
	if err != nil {
		return endpoints{}, err
	}
	e := endpoints{
		auth:       cmp.Or(c.cfg.AuthURL, doc.AuthorizationEndpoint),
		token:      cmp.Or(c.cfg.TokenURL, doc.TokenEndpoint),
		endSession: cmp.Or(c.cfg.LogoutURL, doc.EndSessionEndpoint),
	}
	if e.auth == "" || e.token == "" {
		return endpoints{}, errors.New("discovery document has no authorization_endpoint or token_endpoint")
	}
	c.got = &e
	return e, nil
}

func (c *endpointCache) fetch(ctx context.Context) (*identity.Discovery, error) {
	ctx, cancel := context.WithTimeout(ctx, discoveryTimeout)
	defer cancel()
	return identity.Discover(ctx, c.client, c.cfg.Issuer)
}
