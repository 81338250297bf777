package identity

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"golang.org/x/sync/singleflight"
)

// keySet caches one provider's signing keys. Keys are fetched lazily (the
// issuer may be this very process, not listening yet when the verifier is
// built), at most once per cool-down, with concurrent callers sharing one
// fetch. A failed fetch never discards keys already known, so tokens signed
// with them keep verifying while the provider's endpoint is down.
type keySet struct {
	provider string
	issuer   string
	jwksURL  string // configured; "" means "find it by discovery"
	s        *settings

	group singleflight.Group
	// bgBusy keeps at most one background refresh goroutine per provider;
	// bg lets tests wait for it.
	bgBusy atomic.Bool
	bg     sync.WaitGroup

	mu          sync.Mutex
	keys        *keyIndex // nil until the first successful fetch
	fetchedAt   time.Time
	lastAttempt time.Time
	lastErr     error
	discovered  string // jwks_uri from discovery, cached until a fetch fails
}

func newKeySet(cfg ProviderConfig, s *settings) *keySet {
	return &keySet{provider: cfg.Name, issuer: cfg.Issuer, jwksURL: cfg.JWKSURL, s: s}
}

func (k *keySet) snapshot() (*keyIndex, time.Time, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.keys, k.fetchedAt, k.lastErr
}

// lookup returns the keys that may verify a token with this kid and alg.
func (k *keySet) lookup(ctx context.Context, kid, alg string) ([]jose.JSONWebKey, error) {
	idx, fetchedAt, _ := k.snapshot()
	refreshed := false
	if idx == nil {
		_ = k.refresh(ctx)
		refreshed = true
		var lastErr error
		if idx, fetchedAt, lastErr = k.snapshot(); idx == nil {
			if lastErr == nil {
				lastErr = ctx.Err()
			}
			return nil, fail(ReasonKeysUnavailable, "the signing keys of the token's issuer are unavailable", lastErr)
		}
	}

	cands := idx.candidates(kid)
	if len(cands) == 0 && !refreshed {
		// An unknown kid usually means the provider rotated keys: refetch
		// (rate-limited) and look again.
		refreshErr := k.refresh(ctx)
		idx, fetchedAt, _ = k.snapshot()
		if cands = idx.candidates(kid); len(cands) == 0 {
			return nil, fail(ReasonUnknownKey, "the token is signed with a key the issuer does not publish", refreshErr)
		}
	}
	if len(cands) == 0 {
		return nil, fail(ReasonUnknownKey, "the token is signed with a key the issuer does not publish", nil)
	}
	if k.s.now().Sub(fetchedAt) >= k.s.maxAge {
		k.refreshInBackground(ctx)
	}

	var usable []jose.JSONWebKey
	for _, c := range cands {
		if compatible(c, alg) {
			usable = append(usable, c)
		}
	}
	if len(usable) == 0 {
		return nil, fail(ReasonUnsupportedAlg, fmt.Sprintf("the token's key cannot be used with alg %s", alg), nil)
	}
	return usable, nil
}

// refresh fetches the keys if the cool-down allows, sharing the fetch with
// concurrent callers. The fetch itself is detached from ctx (a caller that
// gives up must not fail the fetch for the others) but bounded by the fetch
// timeout; the caller stops waiting as soon as ctx is done.
func (k *keySet) refresh(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	fetchCtx := context.WithoutCancel(ctx)
	ch := k.group.DoChan("keys", func() (any, error) {
		return nil, k.fetchIfDue(fetchCtx)
	})
	select {
	case r := <-ch:
		return r.Err
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (k *keySet) refreshInBackground(ctx context.Context) {
	if !k.bgBusy.CompareAndSwap(false, true) {
		return
	}
	k.bg.Add(1)
	go func() {
		defer k.bg.Done()
		defer k.bgBusy.Store(false)
		_ = k.refresh(context.WithoutCancel(ctx))
	}()
}

// fetchIfDue performs one fetch unless the last attempt is too recent.
// The check runs inside the singleflight call, so a caller arriving just
// after a fetch finished cannot start a second one.
func (k *keySet) fetchIfDue(ctx context.Context) error {
	k.mu.Lock()
	now := k.s.now()
	wait := k.s.cooldown
	if k.keys == nil {
		wait = min(wait, coldRetry)
	}
	if !k.lastAttempt.IsZero() && now.Sub(k.lastAttempt) < wait {
		err := k.lastErr
		k.mu.Unlock()
		return err
	}
	k.lastAttempt = now
	url := k.jwksURL
	if url == "" {
		url = k.discovered
	}
	k.mu.Unlock()

	ctx, cancel := context.WithTimeout(ctx, k.s.fetchTimeout)
	defer cancel()
	var err error
	if url == "" {
		url, err = discoverJWKS(ctx, k.s.client, k.issuer)
	}
	var idx *keyIndex
	skipped := 0
	if err == nil {
		idx, skipped, err = fetchKeys(ctx, k.s.client, url)
	}

	if k.s.onKeyFetch != nil {
		k.s.onKeyFetch(k.provider, err)
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if err != nil {
		k.lastErr = err
		// The discovery document may have moved the JWKS: look again next time.
		k.discovered = ""
		k.s.log.WarnContext(ctx, "identity: fetching signing keys failed; known keys stay in use",
			"provider", k.provider, "known_keys", k.keys != nil, "error", err)
		return err
	}
	k.keys, k.fetchedAt, k.lastErr = idx, k.s.now(), nil
	if k.jwksURL == "" {
		k.discovered = url
	}
	k.s.log.InfoContext(ctx, "identity: fetched signing keys",
		"provider", k.provider, "jwks_url", url, "keys", len(idx.all), "skipped", skipped)
	return nil
}

// ready reports whether keys are cached, fetching them if none are.
func (k *keySet) ready(ctx context.Context) error {
	if idx, _, _ := k.snapshot(); idx != nil {
		return nil
	}
	err := k.refresh(ctx)
	idx, _, lastErr := k.snapshot()
	if idx != nil {
		return nil
	}
	if err == nil {
		err = lastErr
	}
	if err == nil {
		err = fmt.Errorf("no signing keys fetched yet")
	}
	return fmt.Errorf("provider %s: %w", k.provider, err)
}
