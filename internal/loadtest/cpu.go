package loadtest

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// userHZ is the unit of /proc/PID/stat's CPU times: USER_HZ, which Linux
// fixes at 100 for user space on every architecture it exports it on.
const userHZ = 100

// ProcCPU reads the CPU time (user + system, every thread) process pid
// has used so far, from /proc (Linux).
func ProcCPU(pid int) (time.Duration, error) {
	return readProcCPU(fmt.Sprintf("/proc/%d/stat", pid))
}

// SelfCPU is ProcCPU of this process.
func SelfCPU() (time.Duration, error) { return readProcCPU("/proc/self/stat") }

func readProcCPU(path string) (time.Duration, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	// The command name, in parentheses, may hold spaces: count fields
	// after its closing parenthesis. utime and stime are fields 14 and 15.
	i := strings.LastIndexByte(string(b), ')')
	if i < 0 {
		return 0, fmt.Errorf("%s: no command name", path)
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 {
		return 0, fmt.Errorf("%s: %d fields", path, len(f))
	}
	var ticks int64
	for _, s := range f[11:13] {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("%s: %w", path, err)
		}
		ticks += n
	}
	return time.Duration(ticks) * time.Second / userHZ, nil
}

// cpuMeter reads a process's CPU time at the start and the end of the
// measured run.
type cpuMeter struct {
	source string
	read   func() (time.Duration, error)
	start  time.Duration
	ok     bool
}

func (m *cpuMeter) begin() {
	var err error
	m.start, err = m.read()
	m.ok = err == nil
}

// end returns the CPU the process used since begin, over elapsed, for n
// requests; nil if it could not be read.
func (m *cpuMeter) end(elapsed time.Duration, n int) *CPU {
	now, err := m.read()
	if !m.ok || err != nil || elapsed <= 0 {
		return nil
	}
	used := now - m.start
	c := &CPU{Source: m.source, Seconds: used.Seconds(), Cores: used.Seconds() / elapsed.Seconds()}
	if n > 0 {
		c.PerRequestMs = float64(used.Microseconds()) / 1000 / float64(n)
	}
	return c
}
