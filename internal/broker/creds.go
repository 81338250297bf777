package broker

import (
	"context"
	"sync/atomic"
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
	// account is the target's account, whose guard an AssumeRole that a
	// launch waits for runs under (assumeGuarded).
	account string
}

func (k credKey) String() string {
	return k.account + "\x00" + k.role + "\x00" + k.externalID + "\x00" + k.user
}

type credEntry struct {
	creds      aws.Credentials
	lastUsed   atomic.Int64 // unix nanoseconds of the last launch using it
	refreshing atomic.Bool  // a background refresh is scheduled or running
}

// fetchFunc assumes the role for k.
type fetchFunc func(context.Context, credKey) (aws.Credentials, error)

// credCache holds assumed-role credentials. Within refreshAhead of expiry
// they are still served while a background refresh replaces them; within
// refreshBefore they are no longer trusted and a launch waits for a fresh
// AssumeRole. Concurrent fetches for one key share a single call.
type credCache struct {
	entries       *lru.Cache[credKey, *credEntry]
	group         singleflight.Group
	now           func() time.Time
	refreshBefore time.Duration
	refreshAhead  time.Duration
	keepWarm      time.Duration
	// background schedules an asynchronous refresh of k.
	background func(k credKey)
}

func newCredCache(size int, refreshBefore, refreshAhead, keepWarm time.Duration, now func() time.Time, background func(credKey)) *credCache {
	c, err := lru.New[credKey, *credEntry](size)
	if err != nil {
		// Only a non-positive size errors, and the caller clamps it.
		panic(err)
	}
	return &credCache{entries: c, now: now, refreshBefore: refreshBefore, refreshAhead: refreshAhead, keepWarm: keepWarm, background: background}
}

func (c *credCache) remaining(e *credEntry) time.Duration {
	if !e.creds.CanExpire {
		return time.Duration(1<<63 - 1)
	}
	return e.creds.Expires.Sub(c.now())
}

// get returns usable credentials for k, fetching them when there are none.
// cached is true when no fetch was waited for.
func (c *credCache) get(ctx context.Context, k credKey, fetch fetchFunc) (creds aws.Credentials, cached bool, err error) {
	if e, ok := c.entries.Get(k); ok {
		if left := c.remaining(e); left > c.refreshBefore {
			e.lastUsed.Store(c.now().UnixNano())
			if left <= c.refreshAhead {
				c.schedule(k, e)
			}
			return e.creds, true, nil
		}
	}
	ch := c.group.DoChan(k.String(), func() (any, error) {
		// Another caller may have filled the entry while we queued.
		if e, ok := c.entries.Get(k); ok && c.remaining(e) > c.refreshBefore {
			return e.creds, nil
		}
		// Detached from this caller's cancellation: a person closing their
		// tab must not fail the launch of another waiting on the same call.
		return c.fill(context.WithoutCancel(ctx), k, fetch)
	})
	select {
	case res := <-ch:
		if res.Err != nil {
			return aws.Credentials{}, false, res.Err
		}
		if e, ok := c.entries.Peek(k); ok {
			e.lastUsed.Store(c.now().UnixNano())
		}
		return res.Val.(aws.Credentials), false, nil
	case <-ctx.Done():
		return aws.Credentials{}, false, ctx.Err()
	}
}

// fill fetches and stores credentials, keeping the entry's usage history.
func (c *credCache) fill(ctx context.Context, k credKey, fetch fetchFunc) (aws.Credentials, error) {
	creds, err := fetch(ctx, k)
	if err != nil {
		return aws.Credentials{}, err
	}
	e := &credEntry{creds: creds}
	if old, ok := c.entries.Peek(k); ok {
		e.lastUsed.Store(old.lastUsed.Load())
	}
	c.entries.Add(k, e)
	return creds, nil
}

// refresh replaces k's credentials now, sharing the call with any launch
// that is fetching the same key.
func (c *credCache) refresh(ctx context.Context, k credKey, fetch fetchFunc) error {
	_, err, _ := c.group.Do(k.String(), func() (any, error) {
		return c.fill(ctx, k, fetch)
	})
	if e, ok := c.entries.Peek(k); ok {
		e.refreshing.Store(false)
	}
	return err
}

// schedule asks for one background refresh of k at a time.
func (c *credCache) schedule(k credKey, e *credEntry) {
	if c.background != nil && e.refreshing.CompareAndSwap(false, true) {
		c.background(k)
	}
}

// sweep schedules a refresh of every entry used within keepWarm that is
// inside the refresh-ahead window, so people who launch regularly never
// wait on STS even when their last launch was long enough ago.
func (c *credCache) sweep() int {
	n := 0
	now := c.now()
	for _, k := range c.entries.Keys() {
		e, ok := c.entries.Peek(k)
		if !ok || now.Sub(time.Unix(0, e.lastUsed.Load())) > c.keepWarm {
			continue
		}
		if c.remaining(e) <= c.refreshAhead {
			c.schedule(k, e)
			n++
		}
	}
	return n
}

// forget drops credentials that AWS no longer accepts.
func (c *credCache) forget(k credKey) { c.entries.Remove(k) }
