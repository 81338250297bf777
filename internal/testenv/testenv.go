// Package testenv starts the real emulators that sagegate's tests run
// against (cognito-local, dynalite, a Debian Chromium) and hands their
// addresses to the test.
//
// Every emulator is a separate process bound to 127.0.0.1 on a port picked
// at run time, because `go test ./...` runs packages in parallel and a fixed
// port would make them collide. Each process lives exactly as long as the
// test (or subtest) that asked for it; its output goes to a file in that
// test's temporary directory and is printed only when the test fails, so
// passing runs stay quiet.
//
// When an emulator is not installed the helper skips the test and says how
// to install it, so `go test` works on a bare checkout. With CI=true it fails
// the test instead: CI installs everything, and a skip there would hide a
// broken install step behind a green run.
package testenv

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// InstallHint is the command that installs every npm-packaged emulator.
const InstallHint = "./scripts/test.sh (or: npm ci, at the repository root)"

// InCI reports whether the CI environment variable says we are in CI, where
// a missing emulator is a failure rather than a reason to skip.
func InCI() bool {
	ci, err := strconv.ParseBool(os.Getenv("CI"))
	return err == nil && ci
}

// Missing ends the test because something it needs is not installed: a skip
// on a developer machine, a failure in CI. The message should say how to
// install the missing piece.
func Missing(t testing.TB, format string, args ...any) {
	t.Helper()
	msg := fmt.Sprintf(format, args...)
	if InCI() {
		t.Fatalf("testenv: %s (CI=true, so this is a failure, not a skip)", msg)
	}
	t.Skipf("testenv: %s", msg)
}

// RepoRoot returns the directory holding the module's go.mod, found by
// walking up from the working directory (go test runs each package in its
// own directory, so the depth varies). The walk is a few stat calls, too
// cheap to cache in package state.
func RepoRoot(t testing.TB) string {
	t.Helper()
	dir, err := findRepoRoot()
	if err != nil {
		t.Fatalf("testenv: %v", err)
	}
	return dir
}

func findRepoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod found above the working directory")
		}
		dir = parent
	}
}

// Node returns the path of the node executable, or ends the test through
// Missing when there is none.
func Node(t testing.TB) string {
	t.Helper()
	p, err := exec.LookPath("node")
	if err != nil {
		Missing(t, "node is not on PATH; install Node.js 20 or newer (Debian: apt-get install -y nodejs npm)")
	}
	return p
}

// NodeBin returns the path of an executable installed by npm under
// node_modules/.bin at the repository root, or ends the test through Missing
// when node or the package is not installed.
func NodeBin(t testing.TB, name string) string {
	t.Helper()
	Node(t) // the .bin entries are node scripts: without node they cannot run
	p := filepath.Join(RepoRoot(t), "node_modules", ".bin", name)
	if _, err := os.Stat(p); err != nil {
		Missing(t, "%s is not installed (%s missing); run %s", name, p, InstallHint)
	}
	return p
}

// NodeModule returns the directory of an npm package installed at the
// repository root, for tests that run their own node script against a
// library such as oidc-provider or playwright-core.
func NodeModule(t testing.TB, name string) string {
	t.Helper()
	Node(t)
	p := filepath.Join(RepoRoot(t), "node_modules", filepath.FromSlash(name))
	if _, err := os.Stat(filepath.Join(p, "package.json")); err != nil {
		Missing(t, "npm package %s is not installed; run %s", name, InstallHint)
	}
	return p
}

// Chromium returns the path of Debian's chromium browser, or ends the test
// through Missing when it is not installed. Tests drive it with
// playwright-core's executablePath; a browser is never downloaded.
func Chromium(t testing.TB) string {
	t.Helper()
	const debianPath = "/usr/bin/chromium"
	if st, err := os.Stat(debianPath); err == nil && !st.IsDir() {
		return debianPath
	}
	if p, err := exec.LookPath("chromium"); err == nil {
		return p
	}
	Missing(t, "chromium is not installed; run ./scripts/test.sh as root, or: apt-get update && apt-get install -y chromium")
	return ""
}

// envWith returns the current environment with the given KEY=VALUE entries
// set, replacing any inherited value so the child sees exactly ours.
func envWith(extra ...string) []string {
	keys := make(map[string]bool, len(extra))
	for _, kv := range extra {
		k, _, _ := strings.Cut(kv, "=")
		keys[k] = true
	}
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if !keys[k] {
			env = append(env, kv)
		}
	}
	return append(env, extra...)
}
