package sandbox

import (
	"context"
	"io"
	"net"
	"net/http"
	"reflect"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/sagegate/sagegate/internal/config"
	"github.com/sagegate/sagegate/internal/gateway"
)

// TestGatewayConfigRunsTheSandboxGatewayApart builds a gateway from the
// generated configuration, as `sagegate serve` would (the simulator's keys
// in place of the environment's), next to a running sandbox: it verifies
// the sandbox's tokens, routes its population and presigns through its
// simulator.
func TestGatewayConfigRunsTheSandboxGatewayApart(t *testing.T) {
	pop := Population{Users: 6, LOBs: 3}
	dev, _ := startDevWith(t, Options{Population: pop})
	body, err := GatewayConfig(pop, dev.URL, "127.0.0.1:18181", config.Log{Level: "warn"})
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Parse(body, func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatalf("the generated config does not load: %v\n%s", err, body)
	}
	if cfg.Login != nil || cfg.Server.Addr != "127.0.0.1:18181" || cfg.Log.Level != "warn" {
		t.Errorf("login %+v, addr %q, log %+v: want no login, the given address and level", cfg.Login, cfg.Server.Addr, cfg.Log)
	}
	if !reflect.DeepEqual(cfg.Limits, dev.Config.Limits) || !reflect.DeepEqual(cfg.Routing.File.Users, dev.Config.Routing.File.Users) ||
		!reflect.DeepEqual(cfg.AWS.Endpoints, dev.Config.AWS.Endpoints) || !reflect.DeepEqual(cfg.Identity, dev.Config.Identity) {
		t.Errorf("the generated gateway differs from the sandbox's:\n%s", body)
	}
	if strings.Contains(string(body), "cookieKeys") {
		t.Error("a cookie key was written")
	}

	awsCfg := aws.Config{Credentials: credentials.NewStaticCredentialsProvider(GatewayAccessKey, GatewaySecretKey, "")}
	gw, err := gateway.Build(context.Background(), cfg, gateway.Deps{AWS: &awsCfg, AuditWriter: io.Discard})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: gw.Handler}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })

	apart := "http://" + ln.Addr().String()
	before := dev.Sim.Calls().Total
	resp := launchWith(t, apart, tokenFor(t, dev, "user-0003"), "/studio")
	if loc := resp.Header.Get("Location"); resp.StatusCode != http.StatusFound || !strings.HasPrefix(loc, dev.URL+"/dev/studio/d-lob0000003/auth?token=") {
		t.Errorf("user-0003 through the gateway apart: %s %q", resp.Status, loc)
	}
	if resp := launchWith(t, apart, tokenFor(t, dev, "user-0003"), "/studio/user-0001"); resp.StatusCode != http.StatusForbidden {
		t.Errorf("another person's path: %s", resp.Status)
	}
	if calls := dev.Sim.Calls(); calls.Total-before != 2 || calls.Count("sts", "AssumeRole", "300000000003") != 1 {
		t.Errorf("AWS calls = %+v, want the gateway apart's AssumeRole and presign in the sandbox's simulator", calls)
	}
}

// launchWith asks base for path with a bearer token, without following
// the redirect.
func launchWith(t *testing.T, base, token, path string) *http.Response {
	t.Helper()
	req, _ := http.NewRequest("GET", base+path, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := (&http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp
}
