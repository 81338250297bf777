package identity

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sagegate/sagegate/internal/identity/identitytest"
)

func TestUnknownKidRefetchIsRateLimited(t *testing.T) {
	e := newEnv(t, oidcConfig, Options{RefreshCooldown: time.Minute})
	e.verify(t, e.iss.Sign(person(nil)), "")
	e.wantCalls(t, 1, 1)

	// Right after the first fetch, an unknown kid does not refetch.
	e.verify(t, e.iss.UnknownKid(person(nil)), ReasonUnknownKey)
	e.wantCalls(t, 1, 1)

	// After the cool-down, a burst of unknown kids shares one refetch.
	e.clock.Advance(time.Minute)
	burst := func() {
		var wg sync.WaitGroup
		errs := make([]error, 50)
		for i := range errs {
			tok := e.iss.Mint(identitytest.TokenSpec{KeyID: "made-up-" + strings.Repeat("x", i%7), SigningKey: identitytest.RSAKeyID}, person(nil))
			wg.Go(func() { _, errs[i] = e.v.Verify(context.Background(), tok) })
		}
		wg.Wait()
		for _, err := range errs {
			if ReasonOf(err) != ReasonUnknownKey {
				t.Fatalf("burst: %v", err)
			}
		}
	}
	burst()
	e.wantCalls(t, 2, 1)
	e.clock.Advance(time.Minute - time.Second)
	burst()
	e.wantCalls(t, 2, 1)

	// Once the cool-down is over, one more refetch.
	e.clock.Advance(time.Second)
	e.verify(t, e.iss.UnknownKid(person(nil)), ReasonUnknownKey)
	e.wantCalls(t, 3, 1)
	// Known keys never trigger a fetch.
	e.verify(t, e.iss.Sign(person(nil)), "")
	e.wantCalls(t, 3, 1)
}

func TestKeyRotation(t *testing.T) {
	e := newEnv(t, oidcConfig, Options{})
	e.verify(t, e.iss.Sign(person(nil)), "")
	e.iss.AddKey(identitytest.KeySpec{ID: "rsa-2", Alg: "RS256", Use: "sig", PublishedAlg: "RS256", Hidden: true})
	next := e.iss.SignWith("RS256", "rsa-2", person(nil))
	e.verify(t, next, ReasonUnknownKey)

	// The provider publishes the new key; after the cool-down the first
	// tokens signed with it, arriving together, wait for one shared fetch
	// and all verify.
	e.iss.PublishKey("rsa-2")
	e.clock.Advance(DefaultRefreshCooldown)
	var wg sync.WaitGroup
	errs := make([]error, 50)
	for i := range errs {
		wg.Go(func() { _, errs[i] = e.v.Verify(context.Background(), next) })
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatalf("tokens with the rotated-in key: %v", err)
	}
	e.wantCalls(t, 2, 1)

	// The provider withdraws the old key: once the cache is older than
	// KeyMaxAge, a background refresh drops it.
	e.iss.RemoveKey(identitytest.RSAKeyID)
	e.clock.Advance(DefaultKeyMaxAge)
	e.verify(t, e.iss.SignWith("ES256", identitytest.ECKeyID, person(nil)), "") // stale cache still answers, and starts the refresh
	e.keySet(t).bg.Wait()
	e.wantCalls(t, 3, 1)
	withdrawn := e.iss.Mint(identitytest.TokenSpec{KeyID: identitytest.RSAKeyID, SigningKey: "rsa-2"}, person(nil))
	e.verify(t, withdrawn, ReasonUnknownKey)
	e.verify(t, e.iss.SignWith("RS256", "rsa-2", person(nil)), "")
}

func TestUnusableKeysAreIgnored(t *testing.T) {
	e := newEnv(t, oidcConfig, Options{})
	e.iss.AddKey(identitytest.KeySpec{ID: "enc-1", Alg: "RS256", Use: "enc"})
	e.verify(t, e.iss.SignWith("RS256", "enc-1", person(nil)), ReasonUnknownKey)
	// The other keys of the same JWKS still work.
	e.verify(t, e.iss.Sign(person(nil)), "")
}

func TestJWKSDownAfterStart(t *testing.T) {
	e := newEnv(t, oidcConfig, Options{})
	e.verify(t, e.iss.Sign(person(nil)), "")
	e.iss.SetJWKSDown(true)
	e.clock.Advance(DefaultRefreshCooldown)

	e.verify(t, e.iss.Sign(person(nil)), "")
	e.verify(t, e.iss.UnknownKid(person(nil)), ReasonUnknownKey)
	e.wantCalls(t, 2, 1)
	e.verify(t, e.iss.SignWith("ES256", identitytest.ECKeyID, person(nil)), "")

	// A failed background refresh of stale keys keeps them in use.
	e.clock.Advance(DefaultKeyMaxAge)
	e.verify(t, e.iss.Sign(person(nil)), "")
	e.keySet(t).bg.Wait()
	// The fetch failed, and discovery is retried since the document may
	// have moved the JWKS.
	e.wantCalls(t, 3, 2)
	e.verify(t, e.iss.Sign(person(nil)), "")
	if err := e.v.Ready(context.Background()); err != nil {
		t.Errorf("Ready with cached keys: %v", err)
	}
	if !strings.Contains(e.logs.String(), "fetching signing keys failed") {
		t.Errorf("the failed fetch was not logged:\n%s", e.logs)
	}
}

func TestJWKSHangsDoesNotHang(t *testing.T) {
	e := newEnv(t, oidcConfig, Options{})
	e.verify(t, e.iss.Sign(person(nil)), "")
	e.iss.SetJWKSHang(true)
	e.clock.Advance(DefaultRefreshCooldown)

	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	e.verifyCtx(ctx, t, e.iss.UnknownKid(person(nil)), ReasonUnknownKey)
	// Known keys are not held up by the stuck fetch.
	e.verify(t, e.iss.Sign(person(nil)), "")
}

func TestKeysNeverFetched(t *testing.T) {
	e := newEnv(t, oidcConfig, Options{})
	e.iss.SetJWKSDown(true)
	tok := e.iss.Sign(person(nil))

	e.verify(t, tok, ReasonKeysUnavailable)
	e.wantCalls(t, 1, 1)
	err := e.v.Ready(context.Background())
	if err == nil || !strings.Contains(err.Error(), "corp") {
		t.Fatalf("Ready = %v, want an error naming the provider", err)
	}
	// Retries are spaced even while no key is known.
	e.verify(t, tok, ReasonKeysUnavailable)
	e.wantCalls(t, 1, 1)

	e.iss.SetJWKSDown(false)
	e.clock.Advance(coldRetry)
	if err := e.v.Ready(context.Background()); err != nil {
		t.Fatalf("Ready after recovery: %v", err)
	}
	e.verify(t, tok, "")
	e.wantCalls(t, 2, 2)
}

func TestLazyAndReady(t *testing.T) {
	e := newEnv(t, oidcConfig, Options{})
	// Building the verifier fetched nothing; Ready warms the cache.
	e.wantCalls(t, 0, 0)
	if err := e.v.Ready(context.Background()); err != nil {
		t.Fatalf("Ready: %v", err)
	}
	e.wantCalls(t, 1, 1)
	e.verify(t, e.iss.Sign(person(nil)), "")
	if err := e.v.Ready(context.Background()); err != nil {
		t.Fatalf("Ready: %v", err)
	}
	e.wantCalls(t, 1, 1)
}

func TestDiscoveryIssuerMismatch(t *testing.T) {
	e := newEnv(t, oidcConfig, Options{})
	e.iss.SetDiscoveryIssuer("https://evil.example")
	_, err := e.v.Verify(context.Background(), e.iss.Sign(person(nil)))
	if ReasonOf(err) != ReasonKeysUnavailable || !strings.Contains(err.Error(), "discovery") {
		t.Fatalf("Verify = %v", err)
	}
	e.wantCalls(t, 0, 1)
}

func TestExplicitJWKSURL(t *testing.T) {
	e := newEnv(t, func(iss *identitytest.Issuer) ProviderConfig {
		c := oidcConfig(iss)
		c.JWKSURL = iss.JWKSURL()
		return c
	}, Options{})
	e.verify(t, e.iss.Sign(person(nil)), "")
	e.wantCalls(t, 1, 0)
}

func TestCancelledContext(t *testing.T) {
	e := newEnv(t, oidcConfig, Options{})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := e.v.Verify(ctx, e.iss.Sign(person(nil)))
	if ReasonOf(err) != ReasonKeysUnavailable || !errors.Is(err, context.Canceled) {
		t.Fatalf("Verify = %v", err)
	}
	// A request that is already gone does not start a fetch.
	e.wantCalls(t, 0, 0)
}
