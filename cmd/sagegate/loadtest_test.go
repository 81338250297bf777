package main

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/sagegate/sagegate/internal/loadtest"
)

func TestLoadtestInProcessWithFaults(t *testing.T) {
	stdout, stderr, err := run(t, "loadtest", "--users", "6", "--lobs", "3", "--requests", "120", "--duration", "1m",
		"--concurrency", "4", "--aws-latency", "1ms", "--aws-jitter", "500us", "--aws-throttle-rate", "0.2", "--fault-seed", "7", "--json")
	if err != nil {
		t.Fatalf("loadtest: %v\n%s\n%s", err, stdout, stderr)
	}
	var rep loadtest.Report
	if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
		t.Fatalf("--json output: %v\n%s", err, stdout)
	}
	if !rep.OK || !rep.InProcess || rep.Requests != 120 || rep.People != 10 {
		t.Errorf("report: ok=%v inProcess=%v requests=%d people=%d", rep.OK, rep.InProcess, rep.Requests, rep.People)
	}
	if rep.Faults == nil || rep.Faults.ThrottleRate != 0.2 || rep.Faults.Seed != 7 || len(rep.Faults.Latency) != 1 {
		t.Errorf("faults in the report: %+v", rep.Faults)
	}
	if rep.AWS.Errors["ThrottlingException"] == 0 {
		t.Errorf("20%% throttling injected, none seen: %+v", rep.AWS)
	}
}

func TestLoadtestFlagMistakes(t *testing.T) {
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"loadtest", "--target", "http://127.0.0.1:1", "--aws-throttle-rate", "0.3"}, "pass it to `sagegate dev`"},
		{[]string{"loadtest", "--pid", "1"}, "--pid needs --target"},
		{[]string{"loadtest", "--gateway", "http://127.0.0.1:1"}, "--gateway needs --target"},
		{[]string{"loadtest", "--target", "http://127.0.0.1:1", "--gateway", "http://127.0.0.1:2", "--direct"}, "drop --gateway"},
		{[]string{"serve", "--config", "x.yaml", "--pprof", "0.0.0.0:6060"}, "loopback"},
		{[]string{"loadtest", "--mix", "launch=1,teleport=2"}, "unknown class"},
		{[]string{"loadtest", "--aws-throttle-rate", "0.8", "--aws-error-rate", "0.5"}, "must not exceed 1"},
		{[]string{"loadtest", "--aws-op-latency", "sts=soon"}, "latency"},
		{[]string{"loadtest", "--users", "-3"}, "demo users"},
		{[]string{"dev", "--aws-outage-account", "22", "--addr", "127.0.0.1:0"}, "12 digits"},
		{[]string{"dev", "--demo-users", "-1", "--addr", "127.0.0.1:0"}, "demo users"},
	}
	for _, tc := range cases {
		_, _, err := run(t, tc.args...)
		var code exitCode
		if err == nil || errors.As(err, &code) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: err = %v, want one mentioning %q", tc.args, err, tc.want)
		}
	}
}
