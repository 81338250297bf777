package testenv

import (
	"os/exec"
	"syscall"
)

// detach makes the kernel kill the emulator when the test binary dies
// without running its cleanups (a -timeout panic, a crash), so no orphaned
// emulator outlives the run. Pdeathsig follows the OS thread that started
// the child; Go only retires a thread when a goroutine exits while locked
// to it, which a test seldom does: should one, the emulator dies early
// and the test fails loudly rather than leaking a process.
func detach(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
