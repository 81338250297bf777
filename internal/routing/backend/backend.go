// Package backend opens the routing store a configuration names, so that
// the gateway and the admin CLI agree on what "the routes" are.
package backend

import (
	"fmt"
	"log/slog"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/sagegate/sagegate/internal/config"
	"github.com/sagegate/sagegate/internal/routing"
	"github.com/sagegate/sagegate/internal/routing/cache"
	"github.com/sagegate/sagegate/internal/routing/dynamodb"
	"github.com/sagegate/sagegate/internal/routing/file"
)

// Mode says who the store is for.
type Mode int

const (
	// Serve: the gateway. A routes file with any problem is refused, so a
	// gateway never starts on routes that are partly wrong.
	Serve Mode = iota
	// Admin: the `sagegate routes` CLI. A routes file with bad records
	// opens, so that they can be listed and repaired.
	Admin
)

// Open returns the store cfg.Routing names. awsCfg carries the AWS
// credentials of a remote backend. It makes no network call.
func Open(cfg *config.Config, awsCfg aws.Config, mode Mode, log *slog.Logger) (routing.Store, error) {
	d := cfg.RoutingDefaults()
	switch cfg.Routing.Type {
	case "file", "":
		if cfg.Routing.File == nil {
			return nil, fmt.Errorf("routing.file: required when routing.type is file")
		}
		if mode == Admin {
			return file.Open(*cfg.Routing.File, d)
		}
		return file.New(*cfg.Routing.File, d)
	case "dynamodb":
		var c dynamodb.Config
		if cfg.Routing.DynamoDB != nil {
			c = *cfg.Routing.DynamoDB
		}
		if c.Region == "" {
			c.Region = cfg.AWS.Region
		}
		return dynamodb.New(awsCfg, c, d, dynamodb.Options{
			CallTimeout: cfg.AWS.CallTimeout.D(),
			Logger:      logger(log).With("component", "routing/dynamodb"),
		}), nil
	}
	return nil, fmt.Errorf("routing.type: unknown backend %q", cfg.Routing.Type)
}

// Reader is what the resolver of a gateway should read: the file store
// itself, which already answers from memory, or a cache (routing.cache)
// in front of a remote store. obs may be nil.
func Reader(cfg *config.Config, store routing.Store, now func() time.Time, log *slog.Logger, obs cache.Observer) routing.Reader {
	if _, inMemory := store.(*file.Store); inMemory {
		return store
	}
	o := cfg.Routing.Cache.Options()
	o.Now, o.Logger, o.Observer = now, logger(log).With("component", "routing/cache"), obs
	return cache.New(store, o)
}

func logger(l *slog.Logger) *slog.Logger {
	if l == nil {
		return slog.New(slog.DiscardHandler)
	}
	return l
}
