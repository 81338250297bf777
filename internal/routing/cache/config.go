package cache

import (
	"fmt"
	"time"

	"github.com/sagegate/sagegate/internal/routing"
)

// Defaults.
const (
	// DefaultTTL: a route change reaches every gateway within 30 s, while
	// a warm gateway reads its store once per person per 30 s at most.
	DefaultTTL = 30 * time.Second
	// DefaultNegativeTTL is short, so that a person just added to the
	// table does not wait long for their first launch.
	DefaultNegativeTTL = 5 * time.Second
	// DefaultStaleMaxAge lets launches ride out a store outage of 15 min
	// with the routes they had, without trusting a route for hours.
	DefaultStaleMaxAge = 15 * time.Minute
	// DefaultMaxEntries bounds memory per kind of record.
	DefaultMaxEntries = 100_000
)

// Config is the routing.cache section of the configuration file.
type Config struct {
	// TTL of found records. Default 30s.
	TTL routing.Duration `json:"ttl,omitempty"`
	// NegativeTTL of "no such record" (and of an unmapped group). It is
	// also how long a failing store is left alone before it is tried
	// again. Default 5s.
	NegativeTTL routing.Duration `json:"negativeTtl,omitempty"`
	// StaleMaxAge: while the store fails, records fetched at most this
	// long ago keep being served. Default 15m.
	StaleMaxAge routing.Duration `json:"staleMaxAge,omitempty"`
	// MaxEntries per kind of record (users, LOBs, groups). Default 100000.
	MaxEntries int `json:"maxEntries,omitempty"`
}

// Validate reports every problem with c, each naming its key.
func (c Config) Validate() []error {
	var errs []error
	for _, d := range []struct {
		key string
		v   routing.Duration
	}{{"ttl", c.TTL}, {"negativeTtl", c.NegativeTTL}, {"staleMaxAge", c.StaleMaxAge}} {
		if d.v < 0 {
			errs = append(errs, fmt.Errorf("%s: must not be negative", d.key))
		}
	}
	o := c.Options()
	if o.StaleMaxAge < o.TTL {
		errs = append(errs, fmt.Errorf("staleMaxAge: must be at least ttl (%s), got %s", routing.Duration(o.TTL), routing.Duration(o.StaleMaxAge)))
	}
	if c.MaxEntries < 0 {
		errs = append(errs, fmt.Errorf("maxEntries: must not be negative"))
	}
	return errs
}

// Options returns c as Options, defaults applied.
func (c Config) Options() Options {
	return Options{
		TTL:         c.TTL.D(),
		NegativeTTL: c.NegativeTTL.D(),
		StaleMaxAge: c.StaleMaxAge.D(),
		MaxEntries:  c.MaxEntries,
	}.withDefaults()
}
