package broker

import (
	"math/rand/v2"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
)

// Retry timing. The SDK's defaults back off for up to 20 s, far longer than
// a person waits on a click; throttling of presign calls clears in tens of
// milliseconds. Full jitter spreads retries of many concurrent launches.
const (
	retryBase = 25 * time.Millisecond
	retryCap  = 400 * time.Millisecond
)

// fullJitter implements retry.BackoffDelayer: a uniform delay in
// [0, min(cap, base*2^attempt)).
type fullJitter struct{}

func (fullJitter) BackoffDelay(attempt int, _ error) (time.Duration, error) {
	ceil := retryCap
	if attempt < 5 {
		ceil = min(retryCap, retryBase<<attempt)
	}
	return rand.N(ceil) + time.Millisecond, nil
}

// newRetryer retries throttling, 5xx and transient network errors (the
// SDK's standard classification) up to maxAttempts, inside the per-call
// deadline set by the caller.
func newRetryer(maxAttempts int) func() aws.Retryer {
	return func() aws.Retryer {
		return retry.NewStandard(func(o *retry.StandardOptions) {
			o.MaxAttempts = maxAttempts
			o.Backoff = fullJitter{}
			// The SDK's client-side retry quota turns a burst of throttling
			// into non-retried failures for everyone; the per-account
			// concurrency cap and the deadline bound the load instead.
			o.RateLimiter = ratelimit.None
		})
	}
}
