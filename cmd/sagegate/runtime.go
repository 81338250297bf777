package main

import (
	"log/slog"
	"math"
	"os"
	"runtime"

	"github.com/sagegate/sagegate/internal/gctune"
)

// tuneRuntime sets the garbage collector for a process that hosts the
// gateway (serve, lambda, dev, an in-process load test) and logs what it
// set. Unless profiles were asked for, it also stops the heap profiler's
// sampling: Go samples an allocation every 512 KB by default, and under
// thousands of launches a second its table of sampled call stacks grew
// to about 2 MB that nothing ever read.
func tuneRuntime(s gctune.Settings, profiling bool, log *slog.Logger) error {
	if !profiling {
		runtime.MemProfileRate = 0
	}
	a, err := gctune.Apply(s, gctune.Host{Env: os.LookupEnv, Cgroup: os.DirFS("/sys/fs/cgroup")})
	if err != nil {
		return err
	}
	attrs := []any{"gcPercent", a.GCPercent, "gcPercentFrom", a.GCFrom, "memoryLimitFrom", a.LimitFrom}
	if a.Limit != math.MaxInt64 {
		attrs = append(attrs, "memoryLimitMiB", a.Limit>>20)
	}
	log.Debug("go runtime tuned", attrs...)
	return nil
}
