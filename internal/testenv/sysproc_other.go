//go:build !linux

package testenv

import "os/exec"

// detach has no portable equivalent of Linux's parent-death signal; an
// emulator can outlive a test binary that crashed.
func detach(*exec.Cmd) {}
