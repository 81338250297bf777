package broker

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"
	"unicode"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sagemaker"
	"github.com/aws/aws-sdk-go-v2/service/sagemaker/types"

	"github.com/sagegate/sagegate/internal/identity"
	"github.com/sagegate/sagegate/internal/problem"
	"github.com/sagegate/sagegate/internal/routing"
)

// Tags put on every profile and space sagegate creates, so that an
// administrator can tell them from hand-made ones and find their owner.
const (
	TagUser = "sagegate:user"
	TagLOB  = "sagegate:lob"
)

// retryAfterPending is what a person is told to wait when their new
// profile is not ready within ProfileOptions.Timeout.
const retryAfterPending = 30 * time.Second

// ensureProfile makes sure p's user profile in t's domain exists and is
// InService, creating it when it does not, and likewise their private
// space when the LOB has them. Concurrent first launches of one person
// share one creation. A profile seen InService is remembered for
// KnownFor, so that later launches make no extra call.
func (b *Broker) ensureProfile(ctx context.Context, p *identity.Principal, t routing.Target, creds aws.Credentials) error {
	st := b.studioState()
	key := profileKey(t)
	if until, ok := st.known.Get(key); ok && b.opts.Now().Before(until) {
		return nil
	}
	_, err := awaitFlight(ctx, st.flights.DoChan("profile:"+key, func() (any, error) {
		// A flight that ended just before this one began knows already.
		if until, ok := st.known.Get(key); ok && b.opts.Now().Before(until) {
			return nil, nil
		}
		// Detached: a person closing their tab must not abandon a
		// creation that others (or their next try) are waiting for.
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), st.opts.Timeout)
		defer cancel()
		if err := b.provision(ctx, p, t, creds); err != nil {
			return nil, err
		}
		st.known.Add(key, b.opts.Now().Add(st.opts.KnownFor))
		return nil, nil
	}))
	return err
}

// forgetStudio drops what the broker remembers about t's profile and
// discovered domain when a presign says one of them does not exist.
func (b *Broker) forgetStudio(t routing.Target, err error) {
	if !isNotFoundErr(err) {
		return
	}
	st := b.studioState()
	st.known.Remove(profileKey(t))
	st.mu.Lock()
	defer st.mu.Unlock()
	if d, ok := st.domains[domainKey(t)]; ok && d.id == t.DomainID {
		delete(st.domains, domainKey(t))
	}
}

func profileKey(t routing.Target) string {
	return strings.Join([]string{t.AccountID, t.Region, t.DomainID, t.UserProfile, t.Space}, "/")
}

// provision creates what is missing and waits until all of it is ready.
func (b *Broker) provision(ctx context.Context, p *identity.Principal, t routing.Target, creds aws.Credentials) error {
	c, err := b.studioClient(t)
	if err != nil {
		return err
	}
	tags := []types.Tag{
		{Key: aws.String(TagUser), Value: aws.String(tagValue(p.Username))},
		{Key: aws.String(TagLOB), Value: aws.String(t.LOB)},
	}
	profile := studioResource{
		kind: "user profile", name: t.UserProfile,
		permission: "sagemaker:DescribeUserProfile, sagemaker:CreateUserProfile, sagemaker:AddTags and iam:PassRole",
		describe: func(ctx context.Context) (string, string, error) {
			out, err := studioCall(ctx, b, t.AccountID, "DescribeUserProfile", c.DescribeUserProfile,
				&sagemaker.DescribeUserProfileInput{DomainId: aws.String(t.DomainID), UserProfileName: aws.String(t.UserProfile)}, creds)
			if err != nil {
				return "", "", err
			}
			return string(out.Status), aws.ToString(out.FailureReason), nil
		},
		create: func(ctx context.Context) error {
			in := &sagemaker.CreateUserProfileInput{DomainId: aws.String(t.DomainID), UserProfileName: aws.String(t.UserProfile), Tags: tags}
			if t.ExecutionRole != "" {
				in.UserSettings = &types.UserSettings{ExecutionRole: aws.String(t.ExecutionRole)}
			}
			_, err := studioCall(ctx, b, t.AccountID, "CreateUserProfile", c.CreateUserProfile, in, creds)
			return err
		},
	}
	if err := b.ensure(ctx, p, t, profile); err != nil {
		return err
	}
	if !t.PrivateSpace || t.Space == "" {
		return nil
	}
	space := studioResource{
		kind: "private space", name: t.Space,
		permission: "sagemaker:DescribeSpace, sagemaker:CreateSpace and sagemaker:AddTags",
		describe: func(ctx context.Context) (string, string, error) {
			out, err := studioCall(ctx, b, t.AccountID, "DescribeSpace", c.DescribeSpace,
				&sagemaker.DescribeSpaceInput{DomainId: aws.String(t.DomainID), SpaceName: aws.String(t.Space)}, creds)
			if err != nil {
				return "", "", err
			}
			return string(out.Status), aws.ToString(out.FailureReason), nil
		},
		create: func(ctx context.Context) error {
			_, err := studioCall(ctx, b, t.AccountID, "CreateSpace", c.CreateSpace, &sagemaker.CreateSpaceInput{
				DomainId: aws.String(t.DomainID), SpaceName: aws.String(t.Space), Tags: tags,
				OwnershipSettings:    &types.OwnershipSettings{OwnerUserProfileName: aws.String(t.UserProfile)},
				SpaceSharingSettings: &types.SpaceSharingSettings{SharingType: types.SharingTypePrivate},
				SpaceSettings:        &types.SpaceSettings{AppType: types.AppTypeJupyterLab},
			}, creds)
			return err
		},
	}
	return b.ensure(ctx, p, t, space)
}

// resource is a profile or a space, as ensure handles both.
type studioResource struct {
	kind, name, permission string
	// describe returns the status and, when it failed, why.
	describe func(context.Context) (status, reason string, err error)
	create   func(context.Context) error
}

// ensure creates r unless it exists, then polls until it is InService.
func (b *Broker) ensure(ctx context.Context, p *identity.Principal, t routing.Target, r studioResource) error {
	st := b.studioState()
	status, reason, err := r.describe(ctx)
	if isNotFoundErr(err) {
		err = r.create(ctx)
		switch {
		case err == nil:
			b.log.InfoContext(ctx, "created a Studio "+r.kind+" just in time", "user", p.Username, "lob", t.LOB,
				"account", t.AccountID, "domain", t.DomainID, "name", r.name)
		case hasAPICode(err, "ResourceInUse"):
			// Another gateway created it a moment ago; wait for it too.
		default:
			return studioError(ctx, err, "creating "+r.kind+" "+r.name, r.permission, t)
		}
		status, reason, err = r.describe(ctx)
	}
	for {
		if err != nil {
			return studioError(ctx, err, "checking "+r.kind+" "+r.name, r.permission, t)
		}
		switch types.UserProfileStatus(status) {
		case types.UserProfileStatusInService:
			return nil
		case types.UserProfileStatusFailed, types.UserProfileStatusUpdateFailed, types.UserProfileStatusDeleteFailed, types.UserProfileStatusDeleting:
			return problem.New(http.StatusBadGateway, CodeProfileFailed,
				fmt.Sprintf("Your Studio %s %q in domain %s is %s%s. Ask your platform team to fix or delete it.", r.kind, r.name, t.DomainID, status, withReason(reason)))
		}
		if err := st.opts.Sleep(ctx, st.opts.PollInterval); err != nil {
			pe := problem.Wrap(err, http.StatusServiceUnavailable, CodeProfilePending,
				fmt.Sprintf("Your Studio %s %q is still being created in domain %s. Try again in a minute.", r.kind, r.name, t.DomainID))
			pe.RetryAfter = retryAfterPending
			return pe
		}
		status, reason, err = r.describe(ctx)
	}
}

func withReason(reason string) string {
	if reason == "" {
		return ""
	}
	return " (" + reason + ")"
}

func isNotFoundErr(err error) bool {
	code, _ := apiCode(err)
	return notFoundCodes[code]
}

func hasAPICode(err error, code string) bool {
	c, _ := apiCode(err)
	return c == code
}

// tagValue makes s a valid SageMaker tag value: at most 256 of letters,
// digits, spaces and _.:/=+-@, each other character replaced by '_'.
func tagValue(s string) string {
	var b strings.Builder
	n := 0
	for _, r := range s {
		if n == 256 {
			break
		}
		n++
		if unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.IsSpace(r) || strings.ContainsRune("_.:/=+-@", r) {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
	}
	return b.String()
}
