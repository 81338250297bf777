package gctune

import (
	"math"
	"runtime/debug"
	"strings"
	"testing"
	"testing/fstest"
)

// restore puts back the runtime's settings a test changed; tests here do
// not run in parallel because the settings are the process's.
func restore(t *testing.T) {
	t.Helper()
	gc := debug.SetGCPercent(100)
	limit := debug.SetMemoryLimit(-1)
	t.Cleanup(func() {
		debug.SetGCPercent(gc)
		debug.SetMemoryLimit(limit)
	})
}

func env(kv ...string) func(string) (string, bool) {
	m := map[string]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

func TestApply(t *testing.T) {
	cgroupV2 := fstest.MapFS{"memory.max": {Data: []byte("268435456\n")}}
	cgroupV1 := fstest.MapFS{"memory/memory.limit_in_bytes": {Data: []byte("536870912\n")}}
	for _, tc := range []struct {
		name      string
		s         Settings
		host      Host
		gc        int
		gcFrom    string
		limit     int64
		limitFrom string
	}{
		{"defaults without a bound", Settings{}, Host{Env: env()},
			DefaultGCPercent, "default", math.MaxInt64, "none"},
		{"configured", Settings{GCPercent: 80, MemoryLimit: "96MiB"}, Host{Env: env(), Cgroup: cgroupV2},
			80, "config", 96 << 20, "config"},
		{"auto from cgroup v2", Settings{}, Host{Env: env(), Cgroup: cgroupV2},
			DefaultGCPercent, "default", (256 << 20) / 100 * autoPercent, "cgroup"},
		{"auto from cgroup v1", Settings{MemoryLimit: LimitAuto}, Host{Env: env(), Cgroup: cgroupV1},
			DefaultGCPercent, "default", (512 << 20) / 100 * autoPercent, "cgroup"},
		{"cgroup v2 without a limit", Settings{}, Host{Env: env(), Cgroup: fstest.MapFS{"memory.max": {Data: []byte("max\n")}}},
			DefaultGCPercent, "default", math.MaxInt64, "none"},
		{"cgroup v1 without a limit", Settings{}, Host{Env: env(), Cgroup: fstest.MapFS{"memory/memory.limit_in_bytes": {Data: []byte("9223372036854771712\n")}}},
			DefaultGCPercent, "default", math.MaxInt64, "none"},
		{"lambda's size before the cgroup", Settings{}, Host{Env: env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128"), Cgroup: cgroupV2},
			DefaultGCPercent, "default", (128 << 20) / 100 * autoPercent, "lambda"},
		{"off", Settings{MemoryLimit: LimitOff}, Host{Env: env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")},
			DefaultGCPercent, "default", math.MaxInt64, "none"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			restore(t)
			a, err := Apply(tc.s, tc.host)
			if err != nil {
				t.Fatal(err)
			}
			want := Applied{GCPercent: tc.gc, GCFrom: tc.gcFrom, Limit: tc.limit, LimitFrom: tc.limitFrom}
			if a != want {
				t.Errorf("Apply = %+v, want %+v", a, want)
			}
			if got := debug.SetGCPercent(-1); got != tc.gc {
				t.Errorf("runtime GC percent %d, want %d", got, tc.gc)
			}
			if got := debug.SetMemoryLimit(-1); got != tc.limit {
				t.Errorf("runtime memory limit %d, want %d", got, tc.limit)
			}
		})
	}
}

// What the operator set in the environment stays as the runtime read it,
// whatever the configuration says.
func TestApplyLeavesTheEnvironmentsSettings(t *testing.T) {
	restore(t)
	debug.SetGCPercent(150)         // as GOGC=150 would have at start
	debug.SetMemoryLimit(300 << 20) // as GOMEMLIMIT=300MiB would have
	a, err := Apply(Settings{GCPercent: 20, MemoryLimit: "64MiB"},
		Host{Env: env("GOGC", "150", "GOMEMLIMIT", "300MiB")})
	if err != nil {
		t.Fatal(err)
	}
	want := Applied{GCPercent: 150, GCFrom: "GOGC", Limit: 300 << 20, LimitFrom: "GOMEMLIMIT"}
	if a != want {
		t.Errorf("Apply = %+v, want %+v", a, want)
	}
	if got := debug.SetGCPercent(-1); got != 150 {
		t.Errorf("runtime GC percent %d, want 150", got)
	}
	if got := debug.SetMemoryLimit(-1); got != 300<<20 {
		t.Errorf("runtime memory limit %d, want %d", got, 300<<20)
	}
}

func TestApplyRefusesBadSettingsAndChangesNothing(t *testing.T) {
	restore(t)
	for _, s := range []Settings{
		{GCPercent: 5},
		{GCPercent: 5000},
		{MemoryLimit: "lots"},
		{MemoryLimit: "-1MiB"},
	} {
		if _, err := Apply(s, Host{Env: env()}); err == nil {
			t.Errorf("Apply(%+v) succeeded", s)
		}
		if got := debug.SetGCPercent(-1); got != 100 {
			t.Fatalf("Apply(%+v) changed the GC percent to %d", s, got)
		}
		debug.SetGCPercent(100)
	}
}

func TestParseSize(t *testing.T) {
	for in, want := range map[string]int64{
		"1024":    1024,
		"512B":    512,
		"64KiB":   64 << 10,
		"256MiB":  256 << 20,
		" 2GiB ":  2 << 30,
		"1 TiB":   1 << 40,
		"100 MiB": 100 << 20,
	} {
		got, err := ParseSize(in)
		if err != nil || got != want {
			t.Errorf("ParseSize(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "MiB", "0", "-5MiB", "1.5GiB", "12MB", "9999999999TiB"} {
		if _, err := ParseSize(in); err == nil {
			t.Errorf("ParseSize(%q) succeeded", in)
		} else if !strings.Contains(err.Error(), in) && in != "" {
			t.Errorf("ParseSize(%q): error %q does not name the input", in, err)
		}
	}
}
