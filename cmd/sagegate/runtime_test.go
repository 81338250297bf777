package main

import (
	"io"
	"log/slog"
	"runtime"
	"runtime/debug"
	"testing"

	"github.com/sagegate/sagegate/internal/gctune"
)

// tuneRuntime stops heap profiling unless profiles were asked for, and
// applies the GC settings; the settings it changes are the process's, so
// the test puts them back.
func TestTuneRuntime(t *testing.T) {
	rate, gc, limit := runtime.MemProfileRate, debug.SetGCPercent(100), debug.SetMemoryLimit(-1)
	t.Cleanup(func() {
		runtime.MemProfileRate = rate
		debug.SetGCPercent(gc)
		debug.SetMemoryLimit(limit)
	})
	t.Setenv("GOGC", "")
	t.Setenv("GOMEMLIMIT", "")
	log := slog.New(slog.NewTextHandler(io.Discard, nil))

	runtime.MemProfileRate = 512 << 10
	if err := tuneRuntime(gctune.Settings{GCPercent: 70, MemoryLimit: "200MiB"}, true, log); err != nil {
		t.Fatal(err)
	}
	if runtime.MemProfileRate != 512<<10 {
		t.Errorf("profiling asked for, yet MemProfileRate = %d", runtime.MemProfileRate)
	}
	if got := debug.SetGCPercent(-1); got != 70 {
		t.Errorf("GC percent %d, want 70", got)
	}
	if got := debug.SetMemoryLimit(-1); got != 200<<20 {
		t.Errorf("memory limit %d, want %d", got, 200<<20)
	}

	if err := tuneRuntime(gctune.Settings{}, false, log); err != nil {
		t.Fatal(err)
	}
	if runtime.MemProfileRate != 0 {
		t.Errorf("no profiles asked for, yet MemProfileRate = %d", runtime.MemProfileRate)
	}
	if got := debug.SetGCPercent(-1); got != gctune.DefaultGCPercent {
		t.Errorf("GC percent %d, want the default %d", got, gctune.DefaultGCPercent)
	}

	if err := tuneRuntime(gctune.Settings{GCPercent: 1}, false, log); err == nil {
		t.Error("a GC percent of 1 was applied")
	}
}
