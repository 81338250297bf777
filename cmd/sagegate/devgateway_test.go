package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/sagegate/sagegate/internal/config"
	"github.com/sagegate/sagegate/internal/sandbox"
)

func TestWriteGatewayConfigIsWhatServeLoads(t *testing.T) {
	path := filepath.Join(t.TempDir(), "gw.yaml")
	if err := os.WriteFile(path, []byte("stale"), 0o600); err != nil {
		t.Fatal(err)
	}
	pop := sandbox.Population{Users: 3, LOBs: 3}
	if err := writeGatewayConfig(path, pop, "http://127.0.0.1:18080", "127.0.0.1:18081", "warn"); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(path, func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatalf("serve would refuse it: %v", err)
	}
	if cfg.Server.Addr != "127.0.0.1:18081" || cfg.AWS.Endpoints.STS != "http://127.0.0.1:18080/dev/aws" || len(cfg.Routing.File.Users) != 6 {
		t.Errorf("config: addr %q, endpoints %+v, %d users", cfg.Server.Addr, cfg.AWS.Endpoints, len(cfg.Routing.File.Users))
	}
	// Nothing is left behind next to it.
	if entries, _ := os.ReadDir(filepath.Dir(path)); len(entries) != 1 {
		t.Errorf("files next to the config: %v", entries)
	}
}
