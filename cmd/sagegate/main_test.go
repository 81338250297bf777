package main

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func run(t *testing.T, args ...string) (string, string, error) {
	t.Helper()
	root := newRoot()
	var out, errOut bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&errOut)
	root.SetArgs(args)
	err := root.Execute()
	return out.String(), errOut.String(), err
}

func TestConfigCheck(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(bad, []byte("server: {adr: x}\naws: {maxAttempts: 99}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, stderr, err := run(t, "config", "check", bad)
	var code exitCode
	if !errors.As(err, &code) || code != 1 {
		t.Fatalf("err = %v, want exit code 1", err)
	}
	if !strings.Contains(stderr, "server.adr: unknown key") {
		t.Errorf("stderr = %q", stderr)
	}

	t.Setenv("SAGEGATE_COOKIE_KEY", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=")
	stdout, _, err := run(t, "config", "check", filepath.Join("..", "..", "examples", "sagegate.yaml"))
	if err != nil || !strings.Contains(stdout, ": ok") {
		t.Errorf("example: %v %q", err, stdout)
	}

	if _, _, err := run(t, "config", "check", filepath.Join(dir, "missing.yaml")); err == nil || errors.As(err, &code) {
		t.Errorf("missing file: %v", err)
	}
}

func TestVersion(t *testing.T) {
	stdout, _, err := run(t, "version")
	if err != nil || stdout != "sagegate dev\n" {
		t.Errorf("version = %q, %v", stdout, err)
	}
}

func TestServeNeedsConfig(t *testing.T) {
	if _, _, err := run(t, "serve"); err == nil || !strings.Contains(err.Error(), "config") {
		t.Errorf("serve without --config: %v", err)
	}
}
