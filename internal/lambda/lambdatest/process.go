package lambdatest

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/sagegate/sagegate/internal/testutil"
)

// Package is the import path of the sagegate command.
const Package = "github.com/sagegate/sagegate/cmd/sagegate"

// Build compiles the sagegate command into dir as a Lambda bootstrap would
// be built (tag lambda.norpc, trimmed paths) and returns its path.
func Build(tb testing.TB, dir string) string {
	tb.Helper()
	bin := filepath.Join(dir, "bootstrap")
	if runtime.GOOS == "windows" {
		bin += ".exe"
	}
	cmd := exec.Command("go", "build", "-tags", "lambda.norpc", "-trimpath", "-ldflags", "-s -w", "-o", bin, Package)
	if out, err := cmd.CombinedOutput(); err != nil {
		tb.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// Process is a running function binary.
type Process struct {
	cmd    *exec.Cmd
	Stdout *testutil.SyncBuffer
	Stderr *testutil.SyncBuffer
	// Exited is done when the process has exited; its cause says how.
	Exited context.Context
	waited chan struct{}
	err    error
}

// Start runs bin with exactly env (nothing inherited, so the host's AWS
// configuration cannot leak in) and no arguments, as Lambda runs a
// bootstrap. It is killed when the test ends, if still running.
func Start(tb testing.TB, bin string, env []string) *Process {
	tb.Helper()
	p := &Process{Stdout: &testutil.SyncBuffer{}, Stderr: &testutil.SyncBuffer{}, waited: make(chan struct{})}
	p.cmd = exec.Command(bin)
	p.cmd.Env = env
	p.cmd.Stdout, p.cmd.Stderr = p.Stdout, p.Stderr
	if err := p.cmd.Start(); err != nil {
		tb.Fatalf("starting %s: %v", bin, err)
	}
	exited, cancel := context.WithCancelCause(context.Background())
	p.Exited = exited
	go func() {
		p.err = p.cmd.Wait()
		cancel(errors.New("the function process exited: " + errString(p.err)))
		close(p.waited)
	}()
	tb.Cleanup(func() { p.Stop() })
	return p
}

func errString(err error) string {
	if err == nil {
		return "exit status 0"
	}
	return err.Error()
}

// Stop kills the process and waits until its output is all read.
func (p *Process) Stop() {
	_ = p.cmd.Process.Signal(os.Kill)
	<-p.waited
}

// Wait waits for the process to exit by itself and returns how it did.
func (p *Process) Wait() error {
	<-p.waited
	return p.err
}
