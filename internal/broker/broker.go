// Package broker is sagegate's AWS side: it assumes the access role of a
// target's account on behalf of one person and mints the presigned URL.
package broker

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sagemaker"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/sagegate/sagegate/internal/identity"
	"github.com/sagegate/sagegate/internal/metrics"
	"github.com/sagegate/sagegate/internal/routing"
)

// STSAPI and SageMakerAPI are the AWS boundary; unit tests fake them.
type STSAPI interface {
	AssumeRole(ctx context.Context, in *sts.AssumeRoleInput, optFns ...func(*sts.Options)) (*sts.AssumeRoleOutput, error)
}

// SageMakerAPI is the subset of SageMaker the broker calls.
type SageMakerAPI interface {
	CreatePresignedDomainUrl(ctx context.Context, in *sagemaker.CreatePresignedDomainUrlInput, optFns ...func(*sagemaker.Options)) (*sagemaker.CreatePresignedDomainUrlOutput, error)
}

// Options tune the broker. Zero values get the documented defaults.
type Options struct {
	// CallTimeout bounds every AWS call, retries included. Default 5s.
	CallTimeout time.Duration
	// MaxAttempts per AWS call (first try + retries). Default 3.
	MaxAttempts int
	// SessionDuration is the AssumeRole DurationSeconds. Default 1h, the
	// maximum AWS allows when the gateway itself runs on a role (chaining).
	SessionDuration time.Duration
	// RefreshBefore: cached credentials are replaced this long before they
	// expire, so no presign runs on credentials about to die. Default 5m.
	RefreshBefore time.Duration
	// RefreshAhead: credentials of people who launched recently are
	// re-assumed in the background this long before they expire, so no
	// launch waits on STS. Default 15m.
	RefreshAhead time.Duration
	// KeepWarm: how long after a person's last launch their credentials
	// are still refreshed in the background. Default 1h.
	KeepWarm time.Duration
	// CacheSize bounds the number of cached user sessions. Default 10000.
	CacheSize int
	// MaxConcurrentPerAccount caps AWS calls in flight per account, so a
	// burst cannot exhaust the account's STS or SageMaker quotas. Default 64.
	MaxConcurrentPerAccount int
	// QueueWait is how long a launch waits for a free slot before a 429.
	// Default 1s.
	QueueWait time.Duration
	// BreakerThreshold consecutive unhealthy failures open an account's
	// circuit for BreakerCooldown. Defaults 5 and 10s.
	BreakerThreshold int
	BreakerCooldown  time.Duration
	// Metrics, when set, observes AWS calls, caches and refusals.
	Metrics *metrics.Metrics
	// Profiles tunes domain discovery and just-in-time profiles.
	Profiles ProfileOptions
	// STSEndpoint and SageMakerEndpoint override the AWS endpoints (the
	// sandbox simulator, a VPC endpoint). Empty means the SDK's default,
	// which also honours AWS_ENDPOINT_URL_STS / AWS_ENDPOINT_URL_SAGEMAKER.
	STSEndpoint       string
	SageMakerEndpoint string
	// SSMEndpoint overrides SSM's, for publishing notebook URLs
	// (notebooks.go).
	SSMEndpoint string
	Now         func() time.Time
	Logger      *slog.Logger
	// STS and NewSageMaker replace the real clients in unit tests.
	STS          STSAPI
	NewSageMaker func(region string) SageMakerAPI
	NewSSM       func(region string) SSMAPI
}

// Broker mints presigned URLs.
type Broker struct {
	opts  Options
	log   *slog.Logger
	sts   STSAPI
	creds *credCache

	mu       sync.Mutex
	clients  map[clientKey]SageMakerAPI
	accounts map[string]*account
	newSM    func(region string) SageMakerAPI
	// afterRefresh, when set (tests), runs after each background refresh.
	afterRefresh func()
	// studio remembers discovered domains and existing profiles.
	studio studioState
	// nbClients are the SSM clients of notebook URL publishing.
	nbClients notebookClients
}

type clientKey struct{ account, region string }

// Result is a minted URL. URL is a bearer secret: never log it.
type Result struct {
	URL       string
	ExpiresAt time.Time
	// CredentialsCached tells whether the AssumeRole was served from cache.
	CredentialsCached bool
}

// New builds a Broker on the gateway's own AWS configuration.
func New(cfg aws.Config, opts Options) *Broker {
	if opts.CallTimeout <= 0 {
		opts.CallTimeout = 5 * time.Second
	}
	if opts.MaxAttempts <= 0 {
		// Enough that a launch survives 30% throttling plus 1% server
		// errors with >99.9% probability (0.31^7 < 0.0003; with 6 attempts
		// it is 0.09%, right at the line), still inside CallTimeout: the
		// backoff is capped at 400 ms.
		opts.MaxAttempts = 7
	}
	if opts.SessionDuration <= 0 {
		opts.SessionDuration = time.Hour
	}
	if opts.RefreshBefore <= 0 {
		opts.RefreshBefore = 5 * time.Minute
	}
	if opts.RefreshAhead <= opts.RefreshBefore {
		opts.RefreshAhead = max(15*time.Minute, 2*opts.RefreshBefore)
	}
	if opts.KeepWarm <= 0 {
		opts.KeepWarm = time.Hour
	}
	if opts.CacheSize <= 0 {
		opts.CacheSize = 10000
	}
	if opts.MaxConcurrentPerAccount <= 0 {
		opts.MaxConcurrentPerAccount = 64
	}
	if opts.QueueWait <= 0 {
		opts.QueueWait = time.Second
	}
	if opts.BreakerThreshold <= 0 {
		opts.BreakerThreshold = 5
	}
	if opts.BreakerCooldown <= 0 {
		opts.BreakerCooldown = 10 * time.Second
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	cfg = cfg.Copy()
	cfg.Retryer = newRetryer(opts.MaxAttempts)
	cfg.HTTPClient = pooledHTTPClient(cfg.HTTPClient, opts.MaxConcurrentPerAccount)
	b := &Broker{
		opts:     opts,
		log:      opts.Logger,
		sts:      opts.STS,
		clients:  map[clientKey]SageMakerAPI{},
		accounts: map[string]*account{},
		newSM:    opts.NewSageMaker,
	}
	b.nbClients.cfg = cfg
	b.creds = newCredCache(opts.CacheSize, opts.RefreshBefore, opts.RefreshAhead, opts.KeepWarm, opts.Now, b.refreshInBackground)
	if b.sts == nil {
		b.sts = sts.NewFromConfig(cfg, func(o *sts.Options) {
			if opts.STSEndpoint != "" {
				o.BaseEndpoint = aws.String(opts.STSEndpoint)
			}
		})
	}
	if b.newSM == nil {
		b.newSM = func(region string) SageMakerAPI {
			return sagemaker.NewFromConfig(cfg, func(o *sagemaker.Options) {
				o.Region = region
				if opts.SageMakerEndpoint != "" {
					o.BaseEndpoint = aws.String(opts.SageMakerEndpoint)
				}
			})
		}
	}
	return b
}

// sageMaker returns the one client for (account, region). Credentials are
// supplied per call, so the client (and its connection pool) is shared by
// every user of the account.
func (b *Broker) sageMaker(account, region string) SageMakerAPI {
	k := clientKey{account, region}
	b.mu.Lock()
	defer b.mu.Unlock()
	c, ok := b.clients[k]
	if !ok {
		c = b.newSM(region)
		b.clients[k] = c
	}
	return c
}

// staticCreds makes one SageMaker call use a person's assumed-role
// session; the shared client has no credentials of its own to use.
func staticCreds(creds aws.Credentials) func(*sagemaker.Options) {
	return func(o *sagemaker.Options) { o.Credentials = credentials.StaticCredentialsProvider{Value: creds} }
}

// timed runs one SageMaker call in accountID under the account's guard and
// the per-call timeout (retries included), and reports it to the metrics.
func timed[Out any](ctx context.Context, b *Broker, accountID, op string, fn func(context.Context) (Out, error)) (Out, error) {
	var out Out
	err := b.guard(ctx, accountID, classify, func() error {
		ctx, cancel := context.WithTimeout(ctx, b.opts.CallTimeout)
		defer cancel()
		start := time.Now()
		var err error
		out, err = fn(ctx)
		b.opts.Metrics.AWSCall("sagemaker", op, time.Since(start), err)
		return err
	})
	return out, err
}

// credentials returns p's assumed-role credentials for t's access role.
// An AssumeRole it has to wait for runs under t's account guard; the
// background refresh (refresh.go) does not, as no person waits on it.
func (b *Broker) credentials(ctx context.Context, p *identity.Principal, t routing.Target) (aws.Credentials, credKey, bool, error) {
	key := credKey{role: t.RoleARN, externalID: t.ExternalID, user: p.Username, account: t.AccountID}
	creds, cached, err := b.creds.get(ctx, key, b.assumeGuarded)
	if cached {
		b.opts.Metrics.Cache("credentials", "hit")
	} else {
		b.opts.Metrics.Cache("credentials", "miss")
	}
	if err != nil {
		return aws.Credentials{}, key, false, mapAWSError(ctx, err, stepAssumeRole, t)
	}
	return creds, key, cached, nil
}

// Launch mints a presigned Studio URL for p into t. Each AWS call on the
// way runs under the account's concurrency cap and circuit breaker
// (guard); waiting for a new profile to be ready holds neither.
func (b *Broker) Launch(ctx context.Context, p *identity.Principal, t routing.Target) (Result, error) {
	creds, key, cached, err := b.credentials(ctx, p, t)
	if err != nil {
		return Result{}, err
	}
	// Domain discovery and just-in-time profiles (profiles.go); no AWS
	// call once they are known.
	if t, err = b.prepareStudio(ctx, p, t, creds); err != nil {
		return Result{}, err
	}

	lifetime := t.URLLifetime
	if lifetime <= 0 {
		lifetime = 5 * time.Second
	}
	in := &sagemaker.CreatePresignedDomainUrlInput{
		DomainId:         aws.String(t.DomainID),
		UserProfileName:  aws.String(t.UserProfile),
		ExpiresInSeconds: aws.Int32(int32(lifetime / time.Second)),
	}
	if t.SessionDuration > 0 {
		in.SessionExpirationDurationInSeconds = aws.Int32(int32(t.SessionDuration / time.Second))
	}
	if t.Space != "" {
		in.SpaceName = aws.String(t.Space)
	}
	if t.LandingURI != "" {
		in.LandingUri = aws.String(t.LandingURI)
	}
	minted := b.opts.Now()
	out, err := timed(ctx, b, t.AccountID, "CreatePresignedDomainUrl", func(ctx context.Context) (*sagemaker.CreatePresignedDomainUrlOutput, error) {
		return b.sageMaker(t.AccountID, t.Region).CreatePresignedDomainUrl(ctx, in, staticCreds(creds))
	})
	if err != nil {
		if rejectedCredentials(err) {
			// The session was revoked or the role changed: assume afresh
			// next time instead of failing until the cache expires.
			b.creds.forget(key)
		}
		// A profile or discovered domain that vanished is looked up
		// (and, just in time, created) again next time.
		b.forgetStudio(t, err)
		return Result{}, mapAWSError(ctx, err, stepPresign, t)
	}
	if out.AuthorizedUrl == nil || *out.AuthorizedUrl == "" {
		return Result{}, mapAWSError(ctx, fmt.Errorf("CreatePresignedDomainUrl returned no URL"), stepPresign, t)
	}
	return Result{URL: *out.AuthorizedUrl, ExpiresAt: minted.Add(lifetime), CredentialsCached: cached}, nil
}

// assumeGuarded is assume under the guard of k's account, for the
// AssumeRole calls a person waits for.
func (b *Broker) assumeGuarded(ctx context.Context, k credKey) (aws.Credentials, error) {
	var creds aws.Credentials
	err := b.guard(ctx, k.account, classifySTS, func() error {
		var err error
		creds, err = b.assume(ctx, k)
		return err
	})
	return creds, err
}

// assume calls STS for the session k names: k's user as SourceIdentity and
// session name, so the account's CloudTrail shows who it was.
func (b *Broker) assume(ctx context.Context, k credKey) (aws.Credentials, error) {
	ctx, cancel := context.WithTimeout(ctx, b.opts.CallTimeout)
	defer cancel()
	name := stsName(k.user)
	in := &sts.AssumeRoleInput{
		RoleArn:         aws.String(k.role),
		RoleSessionName: aws.String(name),
		SourceIdentity:  aws.String(name),
		DurationSeconds: aws.Int32(int32(b.opts.SessionDuration / time.Second)),
	}
	if k.externalID != "" {
		in.ExternalId = aws.String(k.externalID)
	}
	start := time.Now()
	out, err := b.sts.AssumeRole(ctx, in)
	b.opts.Metrics.AWSCall("sts", "AssumeRole", time.Since(start), err)
	if err != nil {
		return aws.Credentials{}, err
	}
	c := out.Credentials
	if c == nil || c.AccessKeyId == nil || c.SecretAccessKey == nil || c.SessionToken == nil || c.Expiration == nil {
		return aws.Credentials{}, fmt.Errorf("AssumeRole returned incomplete credentials")
	}
	b.log.DebugContext(ctx, "assumed role", "role", k.role, "session", name, "expires", *c.Expiration)
	return aws.Credentials{
		AccessKeyID:     *c.AccessKeyId,
		SecretAccessKey: *c.SecretAccessKey,
		SessionToken:    *c.SessionToken,
		Source:          "sagegate-assume-role",
		CanExpire:       true,
		Expires:         *c.Expiration,
	}, nil
}
