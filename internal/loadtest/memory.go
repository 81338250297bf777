package loadtest

import (
	"bufio"
	"fmt"
	"os"
	"runtime/metrics"
	"strconv"
	"strings"
)

// ProcMemory reads the peak and current resident set size of process pid
// from /proc (Linux).
func ProcMemory(pid int) (*Memory, error) {
	m, err := readProcStatus(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return nil, err
	}
	m.Source = fmt.Sprintf("/proc/%d/status", pid)
	return m, nil
}

// SelfMemory reads this process: the server and the load generator
// together when the sandbox runs in-process. The Go runtime's figures are
// added; without /proc they are all there is.
func SelfMemory() (*Memory, error) {
	m, err := readProcStatus("/proc/self/status")
	if err != nil {
		m = &Memory{}
	}
	m.Source = "this process: server and load generator together"
	samples := []metrics.Sample{
		{Name: "/memory/classes/heap/objects:bytes"},
		{Name: "/memory/classes/total:bytes"},
		{Name: "/memory/classes/heap/released:bytes"},
	}
	metrics.Read(samples)
	if samples[0].Value.Kind() == metrics.KindUint64 {
		m.GoHeapBytes = samples[0].Value.Uint64()
	}
	if samples[1].Value.Kind() == metrics.KindUint64 && samples[2].Value.Kind() == metrics.KindUint64 {
		// Released pages are mapped but not resident.
		m.GoTotalBytes = samples[1].Value.Uint64() - samples[2].Value.Uint64()
	}
	return m, nil
}

func readProcStatus(path string) (*Memory, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	m := &Memory{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		key, val, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		var dst *int64
		switch key {
		case "VmHWM":
			dst = &m.VmHWMBytes
		case "VmRSS":
			dst = &m.VmRSSBytes
		default:
			continue
		}
		// "  123456 kB"
		fields := strings.Fields(val)
		if len(fields) != 2 || fields[1] != "kB" {
			return nil, fmt.Errorf("%s: unexpected %s line %q", path, key, val)
		}
		kb, err := strconv.ParseInt(fields[0], 10, 64)
		if err != nil {
			return nil, fmt.Errorf("%s: %s: %w", path, key, err)
		}
		*dst = kb << 10
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if m.VmHWMBytes == 0 {
		return nil, fmt.Errorf("%s: no VmHWM line", path)
	}
	return m, nil
}
