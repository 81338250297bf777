// Package loadtest drives a running `sagegate dev` over loopback with many
// users and a mix of valid, invalid and cross-user requests, checks every
// answer, checks every AWS call the simulator saw against the person it was
// made for, and reports throughput, latency, status counts and AWS calls
// per launch.
//
// It is bounded in count and in time: no new request starts once either
// bound is reached, and requests in flight are allowed to finish.
package loadtest

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/sagegate/sagegate/internal/sandbox"
)

// Request classes. Each has its own expected answer.
const (
	// ClassLaunch: GET /launch/{lob} for one of the caller's LOBs; 302 into
	// that LOB's domain.
	ClassLaunch = "launch"
	// ClassStudio: GET /studio; 302 into the domain for a person with one
	// LOB, 409 with several, 404 with none.
	ClassStudio = "studio"
	// ClassInvalid: a token that is not valid (garbage, tampered,
	// truncated, alg none, wrong scheme); 401.
	ClassInvalid = "invalid"
	// ClassCross: GET /studio/{someone else} with one's own token; 403.
	ClassCross = "cross"
	// ClassForeign: GET /launch/{a LOB that is not the caller's}; 404.
	ClassForeign = "foreign"
)

var classes = []string{ClassLaunch, ClassStudio, ClassInvalid, ClassCross, ClassForeign}

// Mix is the relative weight of each request class.
type Mix map[string]int

// DefaultMix is mostly launches, with a fifth of requests that must be
// refused.
func DefaultMix() Mix {
	return Mix{ClassLaunch: 70, ClassStudio: 10, ClassInvalid: 10, ClassCross: 5, ClassForeign: 5}
}

// ParseMix reads "launch=70,studio=10,invalid=10,cross=5,foreign=5"; classes
// left out weigh nothing.
func ParseMix(s string) (Mix, error) {
	m := Mix{}
	for part := range strings.SplitSeq(s, ",") {
		name, w, ok := strings.Cut(strings.TrimSpace(part), "=")
		n, err := strconv.Atoi(w)
		if !ok || err != nil || n < 0 {
			return nil, fmt.Errorf("mix %q: want CLASS=WEIGHT,... with weights >= 0", part)
		}
		if !slices.Contains(classes, name) {
			return nil, fmt.Errorf("mix: unknown class %q (classes: %s)", name, strings.Join(classes, ", "))
		}
		m[name] = n
	}
	return m, m.validate()
}

func (m Mix) validate() error {
	total := 0
	for name, w := range m {
		if !slices.Contains(classes, name) || w < 0 {
			return fmt.Errorf("mix: bad class %q=%d", name, w)
		}
		total += w
	}
	if total == 0 {
		return errors.New("mix: every weight is zero")
	}
	return nil
}

// String writes m in ParseMix's form, classes in a fixed order.
func (m Mix) String() string {
	var parts []string
	for _, c := range classes {
		if m[c] > 0 {
			parts = append(parts, c+"="+strconv.Itoa(m[c]))
		}
	}
	return strings.Join(parts, ",")
}

// Config is one load test.
type Config struct {
	// Target is the base URL of a running `sagegate dev`, e.g.
	// http://127.0.0.1:8080.
	Target string
	// Gateway is the base URL of the gateway under test when it runs as
	// its own process (`sagegate serve` with the configuration `sagegate
	// dev --write-gateway-config` wrote): launches go there, while tokens,
	// the call log and the faults still come from Target. Default Target.
	Gateway string
	// Direct replaces the gateway by the AWS call it makes: each launch is
	// a CreatePresignedDomainUrl sent to Target's simulator with the AWS
	// SDK and the person's assumed-role credentials (assumed once at the
	// start, as the gateway caches them). Its latency is the reference a
	// gateway launch is compared with. Only launches run; Mix is ignored.
	Direct bool
	// InProcess says the sandbox runs in this process, so that this
	// process's figures (memory, CPU) are the sandbox's too.
	InProcess bool
	// Population is the demo population the target was started with
	// (`sagegate dev --demo-users N --demo-lobs M`); every user of it takes
	// part, the named ones included. The warm-up checks that the target
	// agrees.
	Population sandbox.Population
	// Duration and Requests bound the run; whichever is reached first ends
	// it. Defaults 20s and 1,000,000.
	Duration time.Duration
	Requests int
	// Concurrency is the number of requests in flight. Default 32.
	Concurrency int
	// Mix weighs the request classes. Default DefaultMix.
	Mix Mix
	// Seed makes the sequence of requests of each worker reproducible.
	Seed uint64
	// Warmup launches every LOB of every user once before the measured
	// run, so that the figures are those of warm credential caches, and
	// checks the target's routes against Population.
	Warmup bool
	// RequestTimeout bounds one request. Default 30s.
	RequestTimeout time.Duration
	// VerifyInterval is how often the simulator's call log is read while
	// the load runs. The log keeps the last 10,000 calls; calls that drop
	// out of it between two reads are reported as unseen and fail the run.
	// Each read of a full log over HTTP costs the server a few megabytes
	// of JSON, hence not too often. Default 1s.
	VerifyInterval time.Duration
	// AWS reads the simulator's call counts and log. Default: over HTTP
	// from Target's /dev/aws/calls.
	AWS AWSView
	// Memory reads the server's memory at the end; nil skips it.
	Memory func() (*Memory, error)
	// ServerCPU, when set, reads the CPU time the target has used so far
	// (ProcCPU); the report gives its share of the measured run.
	ServerCPU func() (time.Duration, error)
	// OnRun, when set, is called as the measured run starts and the
	// function it returns as the run ends, so that a profile covers the
	// load and not the token fetching and the warm-up.
	OnRun func() (done func())
	// HTTPClient is used for every request; it must not follow
	// redirects. Default: a keep-alive client sized to Concurrency.
	HTTPClient *http.Client
	Logger     *slog.Logger
}

func (c *Config) withDefaults() (Config, error) {
	out := *c
	if out.Target == "" {
		return out, errors.New("loadtest: no target URL")
	}
	out.Target = strings.TrimRight(out.Target, "/")
	out.Gateway = strings.TrimRight(out.Gateway, "/")
	if out.Gateway == "" {
		out.Gateway = out.Target
	}
	if out.Direct && out.Gateway != out.Target {
		return out, errors.New("loadtest: a direct run calls the simulator, not a gateway")
	}
	if err := out.Population.Validate(); err != nil {
		return out, err
	}
	if out.Duration <= 0 {
		out.Duration = 20 * time.Second
	}
	if out.Requests <= 0 {
		out.Requests = 1_000_000
	}
	if out.Concurrency <= 0 {
		out.Concurrency = 32
	}
	if out.Mix == nil {
		out.Mix = DefaultMix()
	}
	if out.Direct {
		out.Mix = Mix{ClassLaunch: 1}
	}
	if err := out.Mix.validate(); err != nil {
		return out, err
	}
	if out.RequestTimeout <= 0 {
		out.RequestTimeout = 30 * time.Second
	}
	if out.VerifyInterval <= 0 {
		out.VerifyInterval = time.Second
	}
	if out.HTTPClient == nil {
		out.HTTPClient = newClient(out.Concurrency)
	}
	if out.AWS == nil {
		out.AWS = &HTTPView{Base: out.Target, Client: out.HTTPClient}
	}
	if out.Logger == nil {
		out.Logger = slog.New(slog.DiscardHandler)
	}
	return out, nil
}

// newClient keeps one connection per worker alive and never follows a
// redirect: the 302 is the answer under test.
func newClient(concurrency int) *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConns = 2 * concurrency
	tr.MaxIdleConnsPerHost = 2 * concurrency
	tr.DisableCompression = true
	// A load test through a proxy would measure the proxy.
	tr.Proxy = nil
	return &http.Client{
		Transport:     tr,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}
