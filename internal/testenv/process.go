package testenv

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// Server describes an emulator process for Start.
type Server struct {
	// Name labels messages and the log file.
	Name string
	// Path is the executable to run.
	Path string
	// Args returns the command-line arguments for a run on port.
	Args func(port int) []string
	// Env returns extra KEY=VALUE entries for a run on port; may be nil.
	Env func(port int) []string
	// Setup, when set, prepares the working directory dir for a run on port
	// (cognito-local, for one, reads its config from there).
	Setup func(dir string, port int) error
	// ListeningLine returns text that the process prints once it has bound
	// port. At least one of ListeningLine and ReadyPath must be set. Waiting for it, rather than for the port to answer, proves that
	// the listener is this process and not another one that happened to take
	// the same port between our pick and the child's bind.
	ListeningLine func(port int) string
	// ReadyPath, when not empty, is an HTTP path polled on the port after the
	// line appeared until it answers 2xx.
	ReadyPath string
}

// Process is a running emulator, stopped by the cleanup of the test that
// started it.
type Process struct {
	// Port is the TCP port it listens on, on 127.0.0.1.
	Port int
	// Dir is its working directory, private to this process.
	Dir string
	// LogPath holds its combined stdout and stderr.
	LogPath string
}

// Addr returns "127.0.0.1:<port>".
func (p *Process) Addr() string { return fmt.Sprintf("127.0.0.1:%d", p.Port) }

// URL returns "http://127.0.0.1:<port>".
func (p *Process) URL() string { return "http://" + p.Addr() }

const (
	// startTimeout bounds one start attempt. Node emulators listen within a
	// second on an idle machine; CI runs on two cores while other test
	// binaries compile and run, so leave a wide margin. A timeout is a
	// failure, never a reason to proceed.
	startTimeout = 60 * time.Second
	pollInterval = 20 * time.Millisecond
	startTries   = 3
	// maxLogDump caps what a failed test prints of an emulator's output.
	maxLogDump = 32 << 10
)

var (
	// errPortTaken marks a start that lost the race for its port.
	errPortTaken = errors.New("port already in use")
	// errExited marks a process that ended on its own before it was ready.
	errExited = errors.New("exited before it was ready")
)

// Start runs s on a free 127.0.0.1 port, waits until it is ready and returns
// it. The process is killed by t.Cleanup; its output is printed through t.Log
// if the test failed. Start fails the test if the process cannot be started.
func Start(t testing.TB, s Server) *Process {
	t.Helper()
	if s.ListeningLine == nil && s.ReadyPath == "" {
		t.Fatalf("testenv: %s: set ListeningLine or ReadyPath, or Start cannot tell when it is ready", s.Name)
	}
	base := t.TempDir()
	for attempt := 1; attempt <= startTries; attempt++ {
		port, err := freePort()
		if err != nil {
			t.Fatalf("testenv: %s: pick a port: %v", s.Name, err)
		}
		dir := filepath.Join(base, fmt.Sprintf("run%d", attempt))
		if err := os.Mkdir(dir, 0o755); err != nil {
			t.Fatalf("testenv: %s: %v", s.Name, err)
		}
		began := time.Now()
		p, err := startOnce(t, s, dir, port)
		if errors.Is(err, errPortTaken) {
			t.Logf("testenv: %s: port %d was taken before it could bind; retrying on another", s.Name, port)
			continue
		}
		if err != nil {
			t.Fatalf("testenv: %s: %v", s.Name, err)
		}
		t.Logf("testenv: %s listening on %s after %v", s.Name, p.Addr(), time.Since(began).Round(time.Millisecond))
		return p
	}
	t.Fatalf("testenv: %s: every port tried was taken", s.Name)
	return nil
}

// freePort asks the kernel for an unused port. The listener is closed before
// the child binds, so the port can be taken meanwhile: Start detects that
// (the child fails with EADDRINUSE) and retries.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func startOnce(t testing.TB, s Server, dir string, port int) (*Process, error) {
	t.Helper()
	if s.Setup != nil {
		if err := s.Setup(dir, port); err != nil {
			return nil, fmt.Errorf("prepare %s: %w", dir, err)
		}
	}
	logPath := filepath.Join(dir, s.Name+".log")
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	var args []string
	if s.Args != nil {
		args = s.Args(port)
	}
	var extra []string
	if s.Env != nil {
		extra = s.Env(port)
	}
	cmd := exec.Command(s.Path, args...)
	cmd.Dir = dir
	cmd.Env = envWith(extra...)
	cmd.Stdin = nil
	// The child writes straight into the file: no copying goroutine that
	// could lose the last lines when the process dies.
	cmd.Stdout = logFile
	cmd.Stderr = logFile
	detach(cmd)
	if err := cmd.Start(); err != nil {
		logFile.Close()
		return nil, fmt.Errorf("start %s: %w", s.Path, err)
	}
	exited := make(chan struct{})
	var waitErr error
	go func() {
		waitErr = cmd.Wait()
		close(exited)
	}()
	stop := func() {
		select {
		case <-exited:
		default:
			// The emulators keep their state in memory or in dir, which is
			// thrown away: nothing to flush, so a kill is enough.
			_ = cmd.Process.Kill()
			<-exited
		}
		logFile.Close()
	}

	if err := waitListening(s, port, logPath, exited); err != nil {
		stop()
		out := readLog(logPath)
		if errors.Is(err, errExited) {
			if strings.Contains(out, "EADDRINUSE") {
				return nil, errPortTaken
			}
			err = fmt.Errorf("%w (%v)", err, waitErr)
		}
		return nil, fmt.Errorf("%w; output:\n%s", err, out)
	}

	p := &Process{Port: port, Dir: dir, LogPath: logPath}
	t.Cleanup(func() {
		stop()
		if t.Failed() {
			t.Logf("testenv: output of %s (%s):\n%s", s.Name, logPath, readLog(logPath))
		}
	})
	return p, nil
}

// waitListening polls until the process printed its listening line and, if
// asked, answers ReadyPath; it gives up when the process exits or after
// startTimeout.
func waitListening(s Server, port int, logPath string, exited <-chan struct{}) error {
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	tick := time.NewTicker(pollInterval)
	defer tick.Stop()
	var want []byte
	if s.ListeningLine != nil {
		want = []byte(s.ListeningLine(port))
	}
	client := &http.Client{Timeout: 2 * time.Second}
	listening := want == nil
	for {
		if !listening {
			b, _ := os.ReadFile(logPath)
			listening = bytes.Contains(b, want)
		}
		if listening {
			if s.ReadyPath == "" || httpOK(ctx, client, fmt.Sprintf("http://127.0.0.1:%d%s", port, s.ReadyPath)) {
				return nil
			}
		}
		select {
		case <-exited:
			return errExited
		case <-ctx.Done():
			return fmt.Errorf("not ready after %v", startTimeout)
		case <-tick.C:
		}
	}
}

func httpOK(ctx context.Context, client *http.Client, url string) bool {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return false
	}
	resp, err := client.Do(req)
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode >= 200 && resp.StatusCode < 300
}

// ansiColor matches terminal colour codes, which cognito-local's logger
// writes even into a file.
var ansiColor = regexp.MustCompile("\x1b\\[[0-9;]*m")

// readLog returns the end of a log file, enough to diagnose a failure
// without flooding the test output.
func readLog(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Sprintf("(cannot read log: %v)", err)
	}
	b = ansiColor.ReplaceAll(b, nil)
	if len(b) > maxLogDump {
		b = append([]byte("...(truncated)...\n"), b[len(b)-maxLogDump:]...)
	}
	return string(b)
}
