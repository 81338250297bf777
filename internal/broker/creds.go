package broker

import (
	"context"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	lru "github.com/hashicorp/golang-lru/v2"
	"golang.org/x/sync/singleflight"
)

// credKey identifies one assumed-role session. Credentials are per user
// because the session carries the user's SourceIdentity: sharing them
// across people would misattribute CloudTrail records.
type credKey struct {
	role, externalID, user string
}

func (k credKey) String() string { return k.role + "\x00" + k.externalID + "\x00" + k.user }

// credCache holds assumed-role credentials until shortly before they
// expire. Concurrent misses for one key share a single AssumeRole.
type credCache struct {
	entries       *lru.Cache[credKey, aws.Credentials]
	group         singleflight.Group
	now           func() time.Time
	refreshBefore time.Duration
}

func newCredCache(size int, refreshBefore time.Duration, now func() time.Time) *credCache {
	c, err := lru.New[credKey, aws.Credentials](size)
	if err != nil {
		// Only a non-positive size errors, and the caller clamps it.
		panic(err)
	}
	return &credCache{entries: c, now: now, refreshBefore: refreshBefore}
}

// fresh reports whether creds are usable for at least refreshBefore more.
func (c *credCache) fresh(creds aws.Credentials) bool {
	return !creds.CanExpire || c.now().Add(c.refreshBefore).Before(creds.Expires)
}

// get returns cached credentials or calls fetch once for all concurrent
// callers. fetch runs detached from any one caller's cancellation, so a
// person closing their tab does not fail the launch of another person who
// is waiting on the same AssumeRole; fetch applies its own timeout.
func (c *credCache) get(ctx context.Context, k credKey, fetch func(context.Context) (aws.Credentials, error)) (aws.Credentials, bool, error) {
	if creds, ok := c.entries.Get(k); ok && c.fresh(creds) {
		return creds, true, nil
	}
	ch := c.group.DoChan(k.String(), func() (any, error) {
		// Another caller may have filled the entry while we queued.
		if creds, ok := c.entries.Get(k); ok && c.fresh(creds) {
			return creds, nil
		}
		creds, err := fetch(context.WithoutCancel(ctx))
		if err != nil {
			return aws.Credentials{}, err
		}
		c.entries.Add(k, creds)
		return creds, nil
	})
	select {
	case res := <-ch:
		if res.Err != nil {
			return aws.Credentials{}, false, res.Err
		}
		return res.Val.(aws.Credentials), false, nil
	case <-ctx.Done():
		return aws.Credentials{}, false, ctx.Err()
	}
}

// forget drops credentials that AWS no longer accepts.
func (c *credCache) forget(k credKey) { c.entries.Remove(k) }
