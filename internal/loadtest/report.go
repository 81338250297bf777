package loadtest

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/sagegate/sagegate/internal/sandbox"
	"github.com/sagegate/sagegate/internal/sandbox/awssim"
)

// maxExamples bounds the example messages a report keeps per kind.
const maxExamples = 20

// Report is the outcome of a load test. OK is the verdict: no violation,
// no wrong answer, and every AWS call of the run was checked.
type Report struct {
	OK     bool   `json:"ok"`
	Target string `json:"target"`
	// Gateway received the launches (Target unless the gateway runs as
	// its own process); Direct runs sent them to AWS instead.
	Gateway     string             `json:"gateway"`
	Direct      bool               `json:"direct,omitempty"`
	InProcess   bool               `json:"inProcess"`
	Population  sandbox.Population `json:"population"`
	People      int                `json:"people"`
	Concurrency int                `json:"concurrency"`
	Mix         string             `json:"mix"`
	Seed        uint64             `json:"seed"`
	Faults      *awssim.Chaos      `json:"faults,omitempty"`

	// The measured run (after the warm-up).
	ElapsedSeconds float64                 `json:"elapsedSeconds"`
	Requests       int                     `json:"requests"`
	Throughput     float64                 `json:"requestsPerSecond"`
	Statuses       map[string]int          `json:"statuses"`
	Outcomes       map[string]int          `json:"outcomes"`
	Latency        Latency                 `json:"latency"`
	Classes        map[string]*ClassReport `json:"classes"`
	Launches       Launches                `json:"launches"`
	AWS            AWSFigures              `json:"aws"`
	// Warmup is the warm-up phase, checked like the run but not timed.
	Warmup *Phase `json:"warmup,omitempty"`

	Verification Verification `json:"verification"`
	Violations   int          `json:"violations"`
	// ViolationExamples name who got what; never a URL or a token.
	ViolationExamples []string `json:"violationExamples,omitempty"`
	Wrong             int      `json:"wrong"`
	WrongExamples     []string `json:"wrongExamples,omitempty"`
	Memory            *Memory  `json:"memory,omitempty"`
	// ServerCPU is the CPU the target (--pid) used during the measured
	// run; LoadCPU is this process's (everything, in-process).
	ServerCPU *CPU `json:"serverCpu,omitempty"`
	LoadCPU   *CPU `json:"loadCpu,omitempty"`
}

// CPU is a process's CPU time over the measured run.
type CPU struct {
	Source  string  `json:"source"`
	Seconds float64 `json:"seconds"`
	// Cores is Seconds over the run's wall time: 2 is both cores of a
	// 2-core machine, busy all the time.
	Cores        float64 `json:"cores"`
	PerRequestMs float64 `json:"perRequestMs"`
}

// Latency is a latency distribution in milliseconds.
type Latency struct {
	P50 float64 `json:"p50Ms"`
	P99 float64 `json:"p99Ms"`
	Max float64 `json:"maxMs"`
}

// ClassReport is one request class of the run.
type ClassReport struct {
	Requests int            `json:"requests"`
	Statuses map[string]int `json:"statuses"`
	Outcomes map[string]int `json:"outcomes"`
	Latency  Latency        `json:"latency"`
}

// Launches are the requests whose right answer is a presigned URL.
type Launches struct {
	Attempted int     `json:"attempted"`
	Granted   int     `json:"granted"`
	Limited   int     `json:"limited"`
	Shed      int     `json:"shed"`
	Failed    int     `json:"failed"`
	PerSecond float64 `json:"grantedPerSecond"`
	// SuccessRate is Granted / Attempted.
	SuccessRate float64 `json:"successRate"`
	// UnlimitedSuccessRate is Granted / (Attempted - Limited): the share
	// of launches the gateway let through that AWS faults did not stop.
	UnlimitedSuccessRate float64 `json:"unlimitedSuccessRate"`
}

// AWSFigures are the simulator's call counts over the measured run.
type AWSFigures struct {
	Calls      map[string]int `json:"calls"` // by operation
	Total      int            `json:"total"`
	PerGranted float64        `json:"callsPerGrantedLaunch"`
	PerAttempt float64        `json:"callsPerAttemptedLaunch"`
	// Errors counts the error codes the simulator answered (injected
	// faults among them), over warm-up and run.
	Errors map[string]int `json:"errors,omitempty"`
}

// Verification says how much of the AWS traffic was checked against the
// people it was made for.
type Verification struct {
	CallsSeen int `json:"callsSeen"`
	// CallsUnseen dropped out of the simulator's bounded log before they
	// could be read; nonzero fails the run.
	CallsUnseen       int `json:"callsUnseen"`
	AssumeRoleChecked int `json:"assumeRoleChecked"`
	PresignChecked    int `json:"presignChecked"`
	// Unattributed are failed calls whose identity the simulator never
	// read (an AssumeRole refused before its parameters were looked at).
	Unattributed int `json:"unattributed"`
}

// Phase is the warm-up's tally.
type Phase struct {
	Requests int            `json:"requests"`
	Outcomes map[string]int `json:"outcomes"`
}

// Memory is the server's memory at the end of the run.
type Memory struct {
	Source string `json:"source"`
	// VmHWM is the peak resident set size, VmRSS the current one.
	VmHWMBytes int64 `json:"vmHWMBytes,omitempty"`
	VmRSSBytes int64 `json:"vmRSSBytes,omitempty"`
	// Go runtime figures, in-process only.
	GoHeapBytes  uint64 `json:"goHeapBytes,omitempty"`
	GoTotalBytes uint64 `json:"goTotalBytes,omitempty"`
}

// tally accumulates one worker's results; workers merge at the end.
type tally struct {
	durations map[string][]time.Duration
	statuses  map[string]map[int]int
	outcomes  map[string][]int
	// launches counts the outcomes of requests whose right answer was a
	// presigned URL.
	launches  [len(outcomeNames)]int
	wrong     []string
	nWrong    int
	violation []string
	nViol     int
}

func newTally() *tally {
	return &tally{durations: map[string][]time.Duration{}, statuses: map[string]map[int]int{}, outcomes: map[string][]int{}}
}

func (t *tally) add(class string, grant bool, status int, d time.Duration, o Outcome, detail string) {
	t.durations[class] = append(t.durations[class], d)
	if grant {
		t.launches[o]++
	}
	if t.statuses[class] == nil {
		t.statuses[class] = map[int]int{}
		t.outcomes[class] = make([]int, len(outcomeNames))
	}
	t.statuses[class][status]++
	t.outcomes[class][o]++
	switch o {
	case Wrong:
		t.nWrong++
		if len(t.wrong) < maxExamples {
			t.wrong = append(t.wrong, detail)
		}
	case Violation:
		t.nViol++
		if len(t.violation) < maxExamples {
			t.violation = append(t.violation, detail)
		}
	}
}

func (t *tally) merge(o *tally) {
	for c, ds := range o.durations {
		t.durations[c] = append(t.durations[c], ds...)
	}
	for c, m := range o.statuses {
		if t.statuses[c] == nil {
			t.statuses[c] = map[int]int{}
			t.outcomes[c] = make([]int, len(outcomeNames))
		}
		for s, n := range m {
			t.statuses[c][s] += n
		}
		for i, n := range o.outcomes[c] {
			t.outcomes[c][i] += n
		}
	}
	for i, n := range o.launches {
		t.launches[i] += n
	}
	t.nWrong += o.nWrong
	t.nViol += o.nViol
	t.wrong = appendExamples(t.wrong, o.wrong)
	t.violation = appendExamples(t.violation, o.violation)
}

func appendExamples(dst, src []string) []string {
	for _, s := range src {
		if len(dst) >= maxExamples {
			break
		}
		if !slices.Contains(dst, s) {
			dst = append(dst, s)
		}
	}
	return dst
}

func (t *tally) requests() int {
	n := 0
	for _, ds := range t.durations {
		n += len(ds)
	}
	return n
}

func (t *tally) outcomeMap(class string) map[string]int {
	out := map[string]int{}
	for _, c := range t.classNames(class) {
		for i, n := range t.outcomes[c] {
			if n > 0 {
				out[Outcome(i).String()] += n
			}
		}
	}
	return out
}

func (t *tally) statusMap(class string) map[string]int {
	out := map[string]int{}
	for _, c := range t.classNames(class) {
		for s, n := range t.statuses[c] {
			out[statusName(s)] += n
		}
	}
	return out
}

// classNames is one class, or all of them for "".
func (t *tally) classNames(class string) []string {
	if class != "" {
		return []string{class}
	}
	return slices.Sorted(maps.Keys(t.durations))
}

// statusNone stands for a request that got no HTTP answer.
const statusNone = 0

func statusName(s int) string {
	if s == statusNone {
		return "no answer"
	}
	return strconv.Itoa(s)
}

func latencyOf(ds []time.Duration) Latency {
	if len(ds) == 0 {
		return Latency{}
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	// Nearest rank.
	rank := func(p float64) time.Duration {
		i := int(p*float64(len(s))+0.999999) - 1
		return s[min(max(i, 0), len(s)-1)]
	}
	return Latency{P50: ms(rank(0.50)), P99: ms(rank(0.99)), Max: ms(s[len(s)-1])}
}

// WriteText writes the report for people.
func (r *Report) WriteText(w io.Writer) {
	verdict := "PASS"
	if !r.OK {
		verdict = "FAIL"
	}
	mode := "external"
	if r.InProcess {
		mode = "in-process"
	}
	fmt.Fprintf(w, "sagegate load test: %s\n", verdict)
	fmt.Fprintf(w, "  target        %s (%s), %d people (%d generated over %d LOBs), concurrency %d, seed %d\n",
		r.Target, mode, r.People, r.Population.Users, max(r.Population.LOBs, 2), r.Concurrency, r.Seed)
	switch {
	case r.Direct:
		fmt.Fprintf(w, "  direct        no gateway: each launch is one CreatePresignedDomainUrl to the simulator (AWS SDK, assumed-role credentials)\n")
	case r.Gateway != "" && r.Gateway != r.Target:
		fmt.Fprintf(w, "  gateway       %s (its own process; tokens and AWS from the target)\n", r.Gateway)
	}
	fmt.Fprintf(w, "  mix           %s\n", r.Mix)
	if r.Faults != nil {
		fmt.Fprintf(w, "  AWS faults    %s\n", r.Faults)
	}
	fmt.Fprintf(w, "  run           %d requests in %.2fs: %.0f requests/s\n", r.Requests, r.ElapsedSeconds, r.Throughput)
	fmt.Fprintf(w, "  launches      %d attempted, %d granted (%.3f%%; %.3f%% of those not rate-limited), %d limited (429), %d shed (503/504), %d failed; %.0f granted/s\n",
		r.Launches.Attempted, r.Launches.Granted, 100*r.Launches.SuccessRate, 100*r.Launches.UnlimitedSuccessRate,
		r.Launches.Limited, r.Launches.Shed, r.Launches.Failed, r.Launches.PerSecond)
	fmt.Fprintf(w, "  latency       p50 %.2fms  p99 %.2fms  max %.2fms (all requests)\n", r.Latency.P50, r.Latency.P99, r.Latency.Max)
	fmt.Fprintf(w, "  %-8s %9s %9s %9s %9s   %s\n", "class", "requests", "p50 ms", "p99 ms", "max ms", "statuses")
	for _, c := range classes {
		cr := r.Classes[c]
		if cr == nil {
			continue
		}
		fmt.Fprintf(w, "  %-8s %9d %9.2f %9.2f %9.2f   %s\n", c, cr.Requests, cr.Latency.P50, cr.Latency.P99, cr.Latency.Max, formatCounts(cr.Statuses))
	}
	fmt.Fprintf(w, "  statuses      %s\n", formatCounts(r.Statuses))
	fmt.Fprintf(w, "  outcomes      %s\n", formatCounts(r.Outcomes))
	fmt.Fprintf(w, "  AWS calls     %d in the run: %.3f per granted launch, %.3f per attempted launch (%s)\n",
		r.AWS.Total, r.AWS.PerGranted, r.AWS.PerAttempt, formatCounts(r.AWS.Calls))
	if len(r.AWS.Errors) > 0 {
		fmt.Fprintf(w, "  AWS errors    %s\n", formatCounts(r.AWS.Errors))
	}
	v := r.Verification
	fmt.Fprintf(w, "  call log      %d calls checked against their person (%d AssumeRole, %d presign, %d failed before naming anyone), %d unseen\n",
		v.CallsSeen, v.AssumeRoleChecked, v.PresignChecked, v.Unattributed, v.CallsUnseen)
	if r.Warmup != nil {
		fmt.Fprintf(w, "  warm-up       %d requests: %s\n", r.Warmup.Requests, formatCounts(r.Warmup.Outcomes))
	}
	if r.Memory != nil {
		fmt.Fprintf(w, "  memory        peak RSS %.1f MiB, RSS %.1f MiB", mib(r.Memory.VmHWMBytes), mib(r.Memory.VmRSSBytes))
		if r.Memory.GoTotalBytes > 0 {
			fmt.Fprintf(w, ", Go heap %.1f MiB of %.1f MiB", mib(int64(r.Memory.GoHeapBytes)), mib(int64(r.Memory.GoTotalBytes)))
		}
		fmt.Fprintf(w, " (%s)\n", r.Memory.Source)
	}
	for _, c := range []struct {
		name string
		cpu  *CPU
	}{{"server CPU", r.ServerCPU}, {"loadtest CPU", r.LoadCPU}} {
		if c.cpu != nil {
			fmt.Fprintf(w, "  %-13s %.1fs, %.2f cores, %.3f ms per request (%s)\n", c.name, c.cpu.Seconds, c.cpu.Cores, c.cpu.PerRequestMs, c.cpu.Source)
		}
	}
	fmt.Fprintf(w, "  violations    %d (launches granted to the wrong person or domain)\n", r.Violations)
	for _, e := range r.ViolationExamples {
		fmt.Fprintf(w, "    - %s\n", e)
	}
	fmt.Fprintf(w, "  wrong answers %d (run and warm-up)\n", r.Wrong)
	for _, e := range r.WrongExamples {
		fmt.Fprintf(w, "    - %s\n", e)
	}
}

func mib(b int64) float64 { return float64(b) / (1 << 20) }

func formatCounts(m map[string]int) string {
	if len(m) == 0 {
		return "-"
	}
	keys := slices.Sorted(maps.Keys(m))
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + ":" + strconv.Itoa(m[k])
	}
	return strings.Join(parts, " ")
}
