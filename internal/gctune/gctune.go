// Package gctune sets the Go runtime's garbage collector for a gateway
// process: its GC percent (GOGC) and its soft memory limit (GOMEMLIMIT).
//
// The gateway's live heap is small (about 8 MB of AWS SDK tables plus a
// kilobyte or so per active person), while every launch allocates tens of
// kilobytes in the SDK's middleware. With Go's default GOGC=100 the heap
// grows to twice the live data between collections, so the collector's
// headroom, not the data, decides how much memory the process holds. A
// lower default buys a leaner process for some CPU (BENCHMARKS.md has the
// figures). A soft memory limit sized to the container or Lambda function
// keeps the process from being killed for memory when the population is
// larger than planned: the collector works harder instead.
//
// The environment wins: GOGC or GOMEMLIMIT set by the operator are left
// as the runtime read them.
package gctune

import (
	"errors"
	"fmt"
	"io/fs"
	"math"
	"runtime/debug"
	"strconv"
	"strings"
)

// DefaultGCPercent is the GC percent when neither the configuration nor
// GOGC sets one. With 5,000 people launching (BENCHMARKS.md) the gateway
// peaked at about 77 MiB at Go's 100, 65 at 50, 61 at 40 and 58 at 30.
// The price is CPU: the collector's share grows as 100/GCPercent, so a
// gateway running flat out served about a fifth fewer launches per second
// than at 100; at the rates people click, it is noise.
const DefaultGCPercent = 30

// autoPercent of the container's or function's memory becomes the soft
// limit: the rest is left for what the Go runtime does not count (the
// mapped executable) and for the limit's own overshoot.
const autoPercent = 90

// Limit values with a meaning of their own.
const (
	LimitAuto = "auto" // from the cgroup or Lambda function; the default
	LimitOff  = "off"  // no soft limit
)

// Settings are the configured values; zero values mean the defaults.
type Settings struct {
	// GCPercent; 0 means DefaultGCPercent.
	GCPercent int
	// MemoryLimit: LimitAuto (or ""), LimitOff, or a size ("256MiB").
	MemoryLimit string
}

// Validate reports every setting Apply would refuse, each prefixed with
// its configuration key.
func (s Settings) Validate() []error {
	var errs []error
	if s.GCPercent != 0 && (s.GCPercent < 10 || s.GCPercent > 1000) {
		errs = append(errs, fmt.Errorf("gcPercent: want 10 to 1000, got %d", s.GCPercent))
	}
	switch s.MemoryLimit {
	case "", LimitAuto, LimitOff:
	default:
		if _, err := ParseSize(s.MemoryLimit); err != nil {
			errs = append(errs, fmt.Errorf("memoryLimit: %w", err))
		}
	}
	return errs
}

// Host is where Apply looks for the memory the process may use.
type Host struct {
	// Env is os.LookupEnv's shape.
	Env func(string) (string, bool)
	// Cgroup is the cgroup file system as the process sees it (os.DirFS
	// of /sys/fs/cgroup: v2's memory.max at its root, v1's
	// memory/memory.limit_in_bytes); nil when there is none to read.
	Cgroup fs.FS
}

// Applied says what Apply did, for the start-up log line.
type Applied struct {
	GCPercent int    // in force; -1 when GOGC=off
	GCFrom    string // "config", "default" or "GOGC"
	Limit     int64  // in force, bytes; math.MaxInt64 when none
	LimitFrom string // "config", "cgroup", "lambda", "GOMEMLIMIT" or "none"
}

// Apply sets the runtime's GC percent and memory limit from s, except
// where the environment already set them.
func Apply(s Settings, h Host) (Applied, error) {
	if errs := s.Validate(); len(errs) > 0 {
		return Applied{}, errors.Join(errs...)
	}
	env := h.Env
	if env == nil {
		env = func(string) (string, bool) { return "", false }
	}
	var a Applied
	if v, ok := env("GOGC"); ok && v != "" {
		// The runtime parsed it at start; reading it back leaves it alone.
		a.GCPercent, a.GCFrom = debug.SetGCPercent(-1), "GOGC"
		debug.SetGCPercent(a.GCPercent)
	} else {
		a.GCPercent, a.GCFrom = s.GCPercent, "config"
		if a.GCPercent == 0 {
			a.GCPercent, a.GCFrom = DefaultGCPercent, "default"
		}
		debug.SetGCPercent(a.GCPercent)
	}

	if v, ok := env("GOMEMLIMIT"); ok && v != "" {
		a.Limit, a.LimitFrom = debug.SetMemoryLimit(-1), "GOMEMLIMIT"
		return a, nil
	}
	a.Limit, a.LimitFrom = math.MaxInt64, "none"
	switch s.MemoryLimit {
	case LimitOff:
	case "", LimitAuto:
		if n, from := available(h.Cgroup, env); n > 0 {
			a.Limit, a.LimitFrom = n/100*autoPercent, from
		}
	default:
		n, _ := ParseSize(s.MemoryLimit) // validated above
		a.Limit, a.LimitFrom = n, "config"
	}
	debug.SetMemoryLimit(a.Limit)
	return a, nil
}

// available is the memory the process may use and where that was read:
// a Lambda function's configured size, else its container's cgroup
// limit (v2 memory.max, or v1 memory.limit_in_bytes). Zero when neither
// bounds it.
func available(cgroup fs.FS, env func(string) (string, bool)) (int64, string) {
	if v, ok := env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE"); ok {
		if mb, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64); err == nil && mb > 0 {
			return mb << 20, "lambda"
		}
	}
	if cgroup == nil {
		return 0, ""
	}
	for _, name := range []string{"memory.max", "memory/memory.limit_in_bytes"} {
		b, err := fs.ReadFile(cgroup, name)
		if err != nil {
			continue
		}
		// v2 writes "max" for no limit (it fails to parse); v1 writes a
		// number near MaxInt64.
		n, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
		if err != nil || n <= 0 || n >= unlimited {
			return 0, ""
		}
		return n, "cgroup"
	}
	return 0, ""
}

// unlimited and above is how cgroup v1 says "no limit" (it writes
// MaxInt64 rounded down to a page).
const unlimited = 1 << 60

var units = []struct {
	suffix string
	shift  uint
}{
	// Longest first, so "MiB" is not read as "B".
	{"KiB", 10}, {"MiB", 20}, {"GiB", 30}, {"TiB", 40},
	{"B", 0},
}

// ParseSize reads a byte size as GOMEMLIMIT writes it: an integer with an
// optional B, KiB, MiB, GiB or TiB suffix.
func ParseSize(s string) (int64, error) {
	num, shift := strings.TrimSpace(s), uint(0)
	for _, u := range units {
		if rest, ok := strings.CutSuffix(num, u.suffix); ok {
			num, shift = strings.TrimSpace(rest), u.shift
			break
		}
	}
	n, err := strconv.ParseInt(num, 10, 64)
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("want a positive size such as 256MiB or 1GiB, got %q", s)
	}
	if n > math.MaxInt64>>shift {
		return 0, fmt.Errorf("size %q is too large", s)
	}
	return n << shift, nil
}
