package oidclogin

import (
	"context"
	"os"
	"os/exec"
	"runtime"
	"strings"
)

// OpenBrowser opens url in the person's browser: $BROWSER when set, else
// the platform's opener. It does not wait for the browser, which on some
// desktops runs for as long as the window stays open.
func OpenBrowser(_ context.Context, url string) error {
	var cmd *exec.Cmd
	switch b := strings.Fields(os.Getenv("BROWSER")); {
	case len(b) > 0:
		cmd = exec.Command(b[0], append(b[1:], url)...)
	case runtime.GOOS == "darwin":
		cmd = exec.Command("open", url)
	case runtime.GOOS == "windows":
		cmd = exec.Command("rundll32", "url.dll,FileProtocolHandler", url)
	default:
		cmd = exec.Command("xdg-open", url)
	}
	if err := cmd.Start(); err != nil {
		return err
	}
	go func() { _ = cmd.Wait() }()
	return nil
}
