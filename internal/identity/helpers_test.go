package identity

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/sagegate/sagegate/internal/identity/identitytest"
	"github.com/sagegate/sagegate/internal/testutil"
)

type fakeClock = testutil.Clock

type syncBuffer = testutil.SyncBuffer

func newClock() *fakeClock { return testutil.NewClock(time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)) }

type env struct {
	iss   *identitytest.Issuer
	clock *fakeClock
	v     *MultiVerifier
	logs  *syncBuffer
}

func oidcConfig(iss *identitytest.Issuer) ProviderConfig {
	return ProviderConfig{Name: "corp", Type: TypeOIDC, Issuer: iss.URL(), Audiences: []string{"sagegate"}}
}

func cognitoConfig(iss *identitytest.Issuer) ProviderConfig {
	return ProviderConfig{Name: "pool", Type: TypeCognito, UserPoolID: "local_abc123", Issuer: iss.URL(), ClientIDs: []string{"app-client"}}
}

// newEnv starts an issuer and a verifier trusting it with the config that
// cfg builds; opts gets the fake clock and a capturing logger.
func newEnv(t *testing.T, cfg func(*identitytest.Issuer) ProviderConfig, opts Options) *env {
	t.Helper()
	e := &env{iss: identitytest.NewIssuer(t), clock: newClock(), logs: &syncBuffer{}}
	e.iss.SetNow(e.clock.Now)
	opts.Now = e.clock.Now
	opts.Logger = slog.New(slog.NewTextHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	v, err := NewVerifier(context.Background(), []ProviderConfig{cfg(e.iss)}, opts)
	if err != nil {
		t.Fatalf("NewVerifier: %v", err)
	}
	e.v = v
	return e
}

// verify runs Verify and checks the reason ("" for success) and that the
// token never reaches the logs or the error text.
func (e *env) verify(t *testing.T, tok, wantReason string) *Principal {
	t.Helper()
	return e.verifyCtx(context.Background(), t, tok, wantReason)
}

func (e *env) verifyCtx(ctx context.Context, t *testing.T, tok, wantReason string) *Principal {
	t.Helper()
	p, err := e.v.Verify(ctx, tok)
	if got := ReasonOf(err); got != wantReason {
		t.Fatalf("Verify: reason %q (err %v), want %q", got, err, wantReason)
	}
	if err != nil {
		if p != nil {
			t.Errorf("Verify returned a principal with an error")
		}
		var ie *Error
		if !errors.As(err, &ie) || ie.Detail == "" {
			t.Errorf("error %v is not an *Error with a Detail", err)
		}
	}
	if len(tok) > 20 {
		sig := tok[strings.LastIndex(tok, ".")+1:]
		if strings.Contains(e.logs.String(), tok) || (len(sig) > 10 && strings.Contains(e.logs.String(), sig)) {
			t.Errorf("the token appears in the logs")
		}
		if err != nil && strings.Contains(err.Error(), tok) {
			t.Errorf("the token appears in the error")
		}
	}
	if p != nil {
		// ExpiresAt must be the token's exp; the table tests then compare
		// the rest of the Principal.
		payload, _ := base64.RawURLEncoding.DecodeString(strings.Split(tok, ".")[1])
		var claims struct {
			Exp float64 `json:"exp"`
		}
		_ = json.Unmarshal(payload, &claims)
		want := time.Unix(0, int64(claims.Exp*1e9)).UTC()
		if !p.ExpiresAt.Equal(want) {
			t.Errorf("ExpiresAt = %v, want the token's exp %v", p.ExpiresAt, want)
		}
		cp := *p
		cp.ExpiresAt = time.Time{}
		p = &cp
	}
	return p
}

func (e *env) keySet(t *testing.T) *keySet {
	t.Helper()
	p, ok := e.v.byIssuer[e.iss.URL()]
	if !ok {
		t.Fatal("no provider for the issuer")
	}
	return p.keys
}

func (e *env) wantCalls(t *testing.T, jwks, discovery int) {
	t.Helper()
	if got := e.iss.JWKSCalls(); got != jwks {
		t.Errorf("JWKS fetched %d times, want %d", got, jwks)
	}
	if got := e.iss.DiscoveryCalls(); got != discovery {
		t.Errorf("discovery fetched %d times, want %d", got, discovery)
	}
}
