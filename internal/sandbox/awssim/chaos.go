package awssim

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Chaos is random misbehaviour applied to every call. The zero value
// injects nothing.
type Chaos struct {
	// Latency delays answers; the first rule matching a call applies.
	Latency []Latency `json:"latency,omitempty"`
	// ThrottleRate is the probability that a call answers the service's
	// throttling error: STS "Throttling", SageMaker "ThrottlingException",
	// both HTTP 400 "Rate exceeded", as AWS does.
	ThrottleRate float64 `json:"throttleRate,omitempty"`
	// ErrorRate is the probability that a call answers a server error:
	// "InternalFailure" (500) or "ServiceUnavailable" (503), evenly.
	// ThrottleRate + ErrorRate may not exceed 1; the two are exclusive, so
	// each is exactly the share of calls it names.
	ErrorRate float64 `json:"errorRate,omitempty"`
	// OutageAccounts are accounts (12 digits) where every call fails: an
	// AssumeRole into the account and every SageMaker call made with its
	// credentials.
	OutageAccounts []string `json:"outageAccounts,omitempty"`
	// OutageMode is how an outage fails: OutageUnavailable (the default)
	// answers 503 ServiceUnavailable; OutageReset closes the connection
	// without an answer, as a dead endpoint or a broken network path would.
	OutageMode string `json:"outageMode,omitempty"`
	// Seed seeds the generator (math/rand/v2 PCG) behind every random draw.
	// Calls made one after another with the same seed draw the same faults
	// and delays.
	Seed uint64 `json:"seed"`
}

// Outage modes.
const (
	OutageUnavailable = "unavailable"
	OutageReset       = "reset"
)

// Latency delays the answers of matching calls by Base plus a uniform draw
// in [-Jitter, +Jitter] (never below zero).
type Latency struct {
	// Service ("sts", "sagemaker") and Operation select calls; empty
	// matches anything.
	Service   string        `json:"service,omitempty"`
	Operation string        `json:"operation,omitempty"`
	Base      time.Duration `json:"base"`
	Jitter    time.Duration `json:"jitter,omitempty"`
}

// Validate reports every problem with c at once.
func (c Chaos) Validate() error {
	var errs []error
	rate := func(name string, v float64) {
		if !(v >= 0 && v <= 1) { // also catches NaN
			errs = append(errs, fmt.Errorf("%s must be between 0 and 1, got %v", name, v))
		}
	}
	rate("throttle rate", c.ThrottleRate)
	rate("error rate", c.ErrorRate)
	if c.ThrottleRate+c.ErrorRate > 1 {
		errs = append(errs, fmt.Errorf("throttle rate + error rate must not exceed 1, got %v", c.ThrottleRate+c.ErrorRate))
	}
	for _, l := range c.Latency {
		if l.Base < 0 || l.Jitter < 0 {
			errs = append(errs, fmt.Errorf("latency %s: base and jitter must not be negative", l))
		}
	}
	for _, a := range c.OutageAccounts {
		if !accountIDPattern().MatchString(a) {
			errs = append(errs, fmt.Errorf("outage account must be 12 digits, got %q", a))
		}
	}
	switch c.OutageMode {
	case "", OutageUnavailable, OutageReset:
	default:
		errs = append(errs, fmt.Errorf("outage mode must be %q or %q, got %q", OutageUnavailable, OutageReset, c.OutageMode))
	}
	return errors.Join(errs...)
}

// String describes c for people: "latency *=20ms~5ms, throttle rate 0.3,
// error rate 0.01, outage of 222222222222 (unavailable) (seed 1)", or
// "none".
func (c Chaos) String() string {
	var parts []string
	for _, l := range c.Latency {
		parts = append(parts, "latency "+l.String())
	}
	if c.ThrottleRate > 0 {
		parts = append(parts, fmt.Sprintf("throttle rate %g", c.ThrottleRate))
	}
	if c.ErrorRate > 0 {
		parts = append(parts, fmt.Sprintf("error rate %g", c.ErrorRate))
	}
	if len(c.OutageAccounts) > 0 {
		parts = append(parts, fmt.Sprintf("outage of %s (%s)", strings.Join(c.OutageAccounts, ","), cmp.Or(c.OutageMode, OutageUnavailable)))
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, ", ") + fmt.Sprintf(" (seed %d)", c.Seed)
}

// String writes l in the form ParseLatency reads.
func (l Latency) String() string {
	s := l.Service
	if l.Operation != "" {
		s += ":" + l.Operation
	}
	if s == "" {
		s = "*"
	}
	s += "=" + l.Base.String()
	if l.Jitter != 0 {
		s += "~" + l.Jitter.String()
	}
	return s
}

var latencyRule = lazyRegexp(`^(?:(\*|[a-z0-9]+)(?::([A-Za-z0-9]+))?=)?([^~]+)(?:~(.+))?$`)

// ParseLatency reads a latency rule written [SERVICE[:OPERATION]=]BASE[~JITTER]:
// "20ms", "20ms~5ms", "sts=50ms", "sagemaker:CreatePresignedDomainUrl=30ms~10ms".
// A missing or "*" service matches every call.
func ParseLatency(s string) (Latency, error) {
	m := latencyRule().FindStringSubmatch(s)
	if m == nil {
		return Latency{}, fmt.Errorf("latency %q: want [SERVICE[:OPERATION]=]BASE[~JITTER], e.g. sts:AssumeRole=50ms~10ms", s)
	}
	l := Latency{Service: m[1], Operation: m[2]}
	if l.Service == "*" {
		l.Service = ""
	}
	var err error
	if l.Base, err = time.ParseDuration(m[3]); err != nil {
		return Latency{}, fmt.Errorf("latency %q: %w", s, err)
	}
	if m[4] != "" {
		if l.Jitter, err = time.ParseDuration(m[4]); err != nil {
			return Latency{}, fmt.Errorf("latency %q: %w", s, err)
		}
	}
	if l.Base < 0 || l.Jitter < 0 {
		return Latency{}, fmt.Errorf("latency %q: must not be negative", s)
	}
	return l, nil
}

func (l Latency) matches(rec *CallRecord) bool {
	return (l.Service == "" || l.Service == rec.Service) && (l.Operation == "" || l.Operation == rec.Operation)
}

// latencyJSON is Latency on the wire, durations written as "20ms".
type latencyJSON struct {
	Service   string `json:"service,omitempty"`
	Operation string `json:"operation,omitempty"`
	Base      string `json:"base"`
	Jitter    string `json:"jitter,omitempty"`
}

// MarshalJSON writes durations as Go duration strings.
func (l Latency) MarshalJSON() ([]byte, error) {
	j := latencyJSON{Service: l.Service, Operation: l.Operation, Base: l.Base.String()}
	if l.Jitter != 0 {
		j.Jitter = l.Jitter.String()
	}
	return json.Marshal(j)
}

// UnmarshalJSON reads durations as Go duration strings ("20ms").
func (l *Latency) UnmarshalJSON(b []byte) error {
	var j latencyJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	out := Latency{Service: j.Service, Operation: j.Operation}
	var err error
	if out.Base, err = time.ParseDuration(j.Base); err != nil {
		return fmt.Errorf("latency base: %w", err)
	}
	if j.Jitter != "" {
		if out.Jitter, err = time.ParseDuration(j.Jitter); err != nil {
			return fmt.Errorf("latency jitter: %w", err)
		}
	}
	*l = out
	return nil
}
