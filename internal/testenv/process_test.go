package testenv

import (
	"errors"
	"net"
	"os"
	"path/filepath"
	"testing"
)

// TestStartPortTaken checks that losing the race for a port is recognised,
// which is what lets Start retry on another port instead of failing.
func TestStartPortTaken(t *testing.T) {
	t.Parallel()
	bin := NodeBin(t, "dynalite")
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	port := l.Addr().(*net.TCPAddr).Port
	dir := filepath.Join(t.TempDir(), "run")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	p, err := startOnce(t, dynaliteServer(bin), dir, port)
	if !errors.Is(err, errPortTaken) {
		t.Fatalf("startOnce on a taken port = %+v, %v; want errPortTaken", p, err)
	}
}
