package loadtest

import (
	"context"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/sagegate/sagegate/internal/config"
	"github.com/sagegate/sagegate/internal/gateway"
	"github.com/sagegate/sagegate/internal/sandbox"
)

// counting counts the requests a handler serves, by path prefix.
type counting struct {
	h                  http.Handler
	launches, devCalls atomic.Int64
}

func (c *counting) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if strings.HasPrefix(r.URL.Path, "/dev/") {
		c.devCalls.Add(1)
	} else if strings.HasPrefix(r.URL.Path, "/launch/") || strings.HasPrefix(r.URL.Path, "/studio") {
		c.launches.Add(1)
	}
	c.h.ServeHTTP(w, r)
}

// startGatewayApart runs the gateway of `sagegate dev --write-gateway-config`
// on its own listener, as `sagegate serve` would, against dev.
func startGatewayApart(t *testing.T, dev *sandbox.Dev, pop sandbox.Population) (string, *counting) {
	t.Helper()
	body, err := sandbox.GatewayConfig(pop, dev.URL, "127.0.0.1:0", config.Log{})
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Parse(body, func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatal(err)
	}
	awsCfg := aws.Config{Credentials: credentials.NewStaticCredentialsProvider(sandbox.GatewayAccessKey, sandbox.GatewaySecretKey, "")}
	gw, err := gateway.Build(context.Background(), cfg, gateway.Deps{AWS: &awsCfg, AuditWriter: io.Discard})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	c := &counting{h: gw.Handler}
	srv := &http.Server{Handler: c}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return "http://" + ln.Addr().String(), c
}

func TestRunAgainstAGatewayApart(t *testing.T) {
	pop := sandbox.Population{Users: 8, LOBs: 3}
	var inside *counting
	dev := startSandbox(t, pop, func(h http.Handler) http.Handler { inside = &counting{h: h}; return inside })
	apart, c := startGatewayApart(t, dev, pop)
	cfg := smallRun(dev, pop)
	cfg.Gateway = apart
	rep, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if !rep.OK || rep.Gateway != apart || rep.Launches.Granted == 0 {
		t.Fatalf("run through the gateway apart: ok=%v gateway=%q granted=%d %v %v", rep.OK, rep.Gateway, rep.Launches.Granted, rep.WrongExamples, rep.ViolationExamples)
	}
	// Every launch went to the gateway apart; the sandbox only issued
	// tokens, simulated AWS and showed its call log.
	if inside.launches.Load() != 0 || c.launches.Load() == 0 || inside.devCalls.Load() == 0 {
		t.Errorf("launches: %d in the sandbox's gateway, %d in the gateway apart", inside.launches.Load(), c.launches.Load())
	}
	if rep.AWS.Calls["CreatePresignedDomainUrl"] != rep.Launches.Granted {
		t.Errorf("AWS calls %+v for %d granted launches", rep.AWS, rep.Launches.Granted)
	}
}

func TestDirectRunCallsAWSWithoutAGateway(t *testing.T) {
	pop := sandbox.Population{Users: 6, LOBs: 3}
	var inside *counting
	dev := startSandbox(t, pop, func(h http.Handler) http.Handler { inside = &counting{h: h}; return inside })
	cfg := smallRun(dev, pop)
	cfg.Direct = true
	cfg.Mix = Mix{ClassInvalid: 1} // ignored: a direct run only launches
	rep, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if !rep.OK || !rep.Direct || rep.Launches.Granted != cfg.Requests || rep.Classes[ClassLaunch] == nil || len(rep.Classes) != 1 {
		t.Fatalf("direct run: ok=%v direct=%v granted=%d classes=%v %v", rep.OK, rep.Direct, rep.Launches.Granted, rep.Classes, rep.WrongExamples)
	}
	if inside.launches.Load() != 0 {
		t.Errorf("%d requests reached the gateway", inside.launches.Load())
	}
	// One AssumeRole per LOB membership (10: user-lob-a and user-lob-b one
	// each, user-both two, the 6 generated one each), every one checked.
	if rep.Verification.AssumeRoleChecked != 10 || rep.AWS.Total != cfg.Requests || rep.Violations != 0 {
		t.Errorf("verification %+v, AWS %+v", rep.Verification, rep.AWS)
	}
	if _, err := Run(context.Background(), Config{Target: dev.URL, Gateway: "http://127.0.0.1:1", Direct: true, Population: pop}); err == nil {
		t.Error("a direct run through a gateway was accepted")
	}
}

func TestReadProcCPU(t *testing.T) {
	dir := t.TempDir()
	stat := filepath.Join(dir, "stat")
	// The command name may hold spaces and parentheses; utime 250 and
	// stime 50 ticks are 3 s.
	line := "4242 (sage gate) (x) S 1 4242 4242 0 -1 4194560 100 0 0 0 250 50 0 0 20 0 12 0 100 0 0\n"
	if err := os.WriteFile(stat, []byte(line), 0o600); err != nil {
		t.Fatal(err)
	}
	if d, err := readProcCPU(stat); err != nil || d != 3*time.Second {
		t.Errorf("readProcCPU = %v, %v; want 3s", d, err)
	}
	if err := os.WriteFile(stat, []byte("4242 (x) S 1 2\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := readProcCPU(stat); err == nil {
		t.Error("a short stat line was accepted")
	}
	if _, err := SelfCPU(); err != nil {
		t.Skip("no /proc here:", err)
	}
}
