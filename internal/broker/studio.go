package broker

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sagemaker"
	lru "github.com/hashicorp/golang-lru/v2"
	"golang.org/x/sync/singleflight"

	"github.com/sagegate/sagegate/internal/identity"
	"github.com/sagegate/sagegate/internal/problem"
	"github.com/sagegate/sagegate/internal/routing"
)

// StudioAPI is the part of SageMaker behind domain discovery, just-in-time
// profiles and `sagegate routes check`. The SDK client has all of it; a
// unit test's fake SageMakerAPI need not, and then gets a clear error.
type StudioAPI interface {
	SageMakerAPI
	ListDomains(ctx context.Context, in *sagemaker.ListDomainsInput, optFns ...func(*sagemaker.Options)) (*sagemaker.ListDomainsOutput, error)
	DescribeDomain(ctx context.Context, in *sagemaker.DescribeDomainInput, optFns ...func(*sagemaker.Options)) (*sagemaker.DescribeDomainOutput, error)
	DescribeUserProfile(ctx context.Context, in *sagemaker.DescribeUserProfileInput, optFns ...func(*sagemaker.Options)) (*sagemaker.DescribeUserProfileOutput, error)
	CreateUserProfile(ctx context.Context, in *sagemaker.CreateUserProfileInput, optFns ...func(*sagemaker.Options)) (*sagemaker.CreateUserProfileOutput, error)
	ListUserProfiles(ctx context.Context, in *sagemaker.ListUserProfilesInput, optFns ...func(*sagemaker.Options)) (*sagemaker.ListUserProfilesOutput, error)
	DescribeSpace(ctx context.Context, in *sagemaker.DescribeSpaceInput, optFns ...func(*sagemaker.Options)) (*sagemaker.DescribeSpaceOutput, error)
	CreateSpace(ctx context.Context, in *sagemaker.CreateSpaceInput, optFns ...func(*sagemaker.Options)) (*sagemaker.CreateSpaceOutput, error)
}

// ProfileOptions tune domain discovery and just-in-time profiles. Zero
// values get the documented defaults.
type ProfileOptions struct {
	// Timeout bounds the creation of one profile (and its space), waiting
	// included. Default 45s, inside the HTTP server's write timeout; a
	// profile still Pending then answers 503 and the next launch waits on.
	Timeout time.Duration
	// PollInterval between two DescribeUserProfile calls. Default 2s.
	PollInterval time.Duration
	// Sleep waits between polls. Tests replace it to move a fake clock
	// instead of sleeping. Default: a timer that ctx can cut short.
	Sleep func(ctx context.Context, d time.Duration) error
	// KnownFor is how long a profile seen InService is trusted to exist
	// without asking AWS again. Default 1h.
	KnownFor time.Duration
	// DomainsFor is how long a discovered domain id is used before
	// ListDomains is asked again. Default 15m.
	DomainsFor time.Duration
}

func (o ProfileOptions) withDefaults() ProfileOptions {
	if o.Timeout <= 0 {
		o.Timeout = 45 * time.Second
	}
	if o.PollInterval <= 0 {
		o.PollInterval = 2 * time.Second
	}
	if o.Sleep == nil {
		o.Sleep = Sleep
	}
	if o.KnownFor <= 0 {
		o.KnownFor = time.Hour
	}
	if o.DomainsFor <= 0 {
		o.DomainsFor = 15 * time.Minute
	}
	return o
}

// Sleep waits for d, or until ctx is done. It is the default of every
// injectable wait (profiles, notebooks, `sagegate open`), which tests
// replace to move a fake clock instead.
func Sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// studioState is the broker's memory of Studio resources: discovered
// domains and profiles known to exist. The zero value is ready; it reads
// its options from the broker on first use.
type studioState struct {
	once    sync.Once
	opts    ProfileOptions
	flights singleflight.Group
	// known maps a profile (or profile and space) key to when that
	// knowledge expires.
	known *lru.Cache[string, time.Time]

	mu      sync.Mutex
	domains map[string]discoveredDomain
}

type discoveredDomain struct {
	id    string
	until time.Time
}

func (b *Broker) studioState() *studioState {
	s := &b.studio
	s.once.Do(func() {
		s.opts = b.opts.Profiles.withDefaults()
		s.known, _ = lru.New[string, time.Time](max(b.opts.CacheSize, 1))
		s.domains = map[string]discoveredDomain{}
	})
	return s
}

// prepareStudio completes t before its presign: it discovers the domain
// when t names none, and for LOBs with just-in-time profiles makes sure
// the person's profile (and private space) exists. In steady state both
// are answered from memory, so the launch stays one AWS call.
func (b *Broker) prepareStudio(ctx context.Context, p *identity.Principal, t routing.Target, creds aws.Credentials) (routing.Target, error) {
	if t.DomainID == "" {
		id, err := b.discoverDomain(ctx, t, creds)
		if err != nil {
			return t, err
		}
		t.DomainID = id
	}
	if t.JITProfiles {
		if err := b.ensureProfile(ctx, p, t, creds); err != nil {
			return t, err
		}
	}
	return t, nil
}

// studioClient returns the account's SageMaker client as a StudioAPI.
func (b *Broker) studioClient(t routing.Target) (StudioAPI, error) {
	c, ok := b.sageMaker(t.AccountID, t.Region).(StudioAPI)
	if !ok {
		return nil, problem.New(http.StatusInternalServerError, "internal", "This SageMaker client cannot manage Studio domains and profiles.")
	}
	return c, nil
}

// studioCall runs one SageMaker call in accountID with creds, timed and
// guarded.
func studioCall[In, Out any](ctx context.Context, b *Broker, accountID, op string, fn func(context.Context, In, ...func(*sagemaker.Options)) (Out, error), in In, creds aws.Credentials) (Out, error) {
	return timed(ctx, b, accountID, op, func(ctx context.Context) (Out, error) { return fn(ctx, in, staticCreds(creds)) })
}

// Codes of the errors of this file.
const (
	CodeDomainNotFound  = "domain_not_found"
	CodeDomainAmbiguous = "domain_ambiguous"
	CodeProfilePending  = "profile_pending"
	CodeProfileFailed   = "profile_failed"
)

// studioError maps a failed Studio call the way mapAWSError maps a launch,
// naming what sagegate was doing and the permission it needs.
func studioError(ctx context.Context, err error, action, permission string, t routing.Target) error {
	var pe *problem.Error
	if errors.As(err, &pe) {
		return err
	}
	if pe := transient(ctx, err, action, t); pe != nil {
		return pe
	}
	code, msg := apiCode(err)
	switch {
	case deniedCodes[code]:
		return problem.Wrap(err, http.StatusBadGateway, problem.CodeAWSAccessDenied,
			fmt.Sprintf("AWS denied role %s while %s: allow %s in its permissions policy.", t.RoleARN, action, permission))
	default:
		return problem.Wrap(err, http.StatusBadGateway, problem.CodeAWSError,
			fmt.Sprintf("AWS refused the request while %s in account %s: %s (%s).", action, t.AccountID, code, msg))
	}
}

// awaitFlight waits for a shared flight's result (the flight itself runs
// detached: others may be waiting on it) until the caller gives up.
func awaitFlight(ctx context.Context, ch <-chan singleflight.Result) (any, error) {
	select {
	case res := <-ch:
		return res.Val, res.Err
	case <-ctx.Done():
		return nil, clientClosed(ctx.Err())
	}
}
