package main

import (
	"time"

	"github.com/spf13/cobra"

	"github.com/sagegate/sagegate/internal/sandbox/awssim"
)

// faultFlags are the simulated AWS's misbehaviour, shared by `sagegate dev`
// and the in-process sandbox of `sagegate loadtest`.
type faultFlags struct {
	latency      time.Duration
	jitter       time.Duration
	opLatency    []string
	throttleRate float64
	errorRate    float64
	outage       []string
	outageMode   string
	seed         uint64
}

// faultFlagNames lets a command tell whether any was set.
var faultFlagNames = []string{"aws-latency", "aws-jitter", "aws-op-latency", "aws-throttle-rate", "aws-error-rate", "aws-outage-account", "aws-outage-mode", "fault-seed"}

func (f *faultFlags) register(cmd *cobra.Command) {
	fs := cmd.Flags()
	fs.DurationVar(&f.latency, "aws-latency", 0, "simulated AWS latency of every call, e.g. 20ms")
	fs.DurationVar(&f.jitter, "aws-jitter", 0, "uniform jitter (±) around --aws-latency, e.g. 5ms")
	fs.StringArrayVar(&f.opLatency, "aws-op-latency", nil, "latency of some calls, SERVICE[:OPERATION]=BASE[~JITTER], e.g. sts:AssumeRole=50ms~10ms (repeatable; wins over --aws-latency)")
	fs.Float64Var(&f.throttleRate, "aws-throttle-rate", 0, "share of simulated AWS calls answered with the service's throttling error (0..1)")
	fs.Float64Var(&f.errorRate, "aws-error-rate", 0, "share of simulated AWS calls answered with a 500 InternalFailure or 503 ServiceUnavailable (0..1)")
	fs.StringArrayVar(&f.outage, "aws-outage-account", nil, "account id where every simulated AWS call fails (repeatable)")
	fs.StringVar(&f.outageMode, "aws-outage-mode", awssim.OutageUnavailable, `how an outage fails: "unavailable" (503) or "reset" (connection closed)`)
	fs.Uint64Var(&f.seed, "fault-seed", 1, "seed of the random faults and jitter")
}

// chaos turns the flags into the simulator's Chaos, validated.
func (f *faultFlags) chaos() (awssim.Chaos, error) {
	c := awssim.Chaos{
		ThrottleRate:   f.throttleRate,
		ErrorRate:      f.errorRate,
		OutageAccounts: f.outage,
		OutageMode:     f.outageMode,
		Seed:           f.seed,
	}
	for _, s := range f.opLatency {
		l, err := awssim.ParseLatency(s)
		if err != nil {
			return awssim.Chaos{}, err
		}
		c.Latency = append(c.Latency, l)
	}
	if f.latency != 0 || f.jitter != 0 {
		c.Latency = append(c.Latency, awssim.Latency{Base: f.latency, Jitter: f.jitter})
	}
	return c, c.Validate()
}
