package broker

import (
	"context"
	"time"
)

// sweepInterval is how often Run looks for credentials to refresh ahead.
const sweepInterval = 30 * time.Second

// refreshInBackground re-assumes k's role without any launch waiting on it.
// A failure is logged and the old credentials stay in use until they are
// too close to expiry, when a launch will try again itself.
func (b *Broker) refreshInBackground(k credKey) {
	go func() {
		ctx := context.Background()
		if err := b.creds.refresh(ctx, k, b.assume); err != nil {
			b.log.WarnContext(ctx, "background credential refresh failed", "role", k.role, "session", stsName(k.user), "err", err)
		}
		if b.afterRefresh != nil {
			b.afterRefresh()
		}
	}()
}

// Run keeps the credentials of active people fresh until ctx ends.
func (b *Broker) Run(ctx context.Context) {
	t := time.NewTicker(sweepInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			b.creds.sweep()
		}
	}
}
