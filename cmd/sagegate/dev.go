package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/sagegate/sagegate/internal/config"
	"github.com/sagegate/sagegate/internal/gctune"
	"github.com/sagegate/sagegate/internal/sandbox"
	"github.com/sagegate/sagegate/internal/sandbox/awssim"
	"github.com/sagegate/sagegate/internal/server"
)

const defaultDevAddr = "127.0.0.1:8080"

func newDev() *cobra.Command {
	var addr, level, gatewayConfig, gatewayAddr string
	var notebookDelay time.Duration
	var faults faultFlags
	var pop sandbox.Population
	cmd := &cobra.Command{
		Use:   "dev",
		Short: "Run the whole flow locally: gateway, OIDC issuer, simulated AWS and Studio",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			// The sandbox is for people at a terminal: readable text logs.
			log := newLogger(cmd.ErrOrStderr(), config.Log{Level: level, Format: "text"})
			if err := tuneRuntime(gctune.Settings{}, false, log); err != nil {
				return err
			}
			chaos, err := faults.chaos()
			if err != nil {
				return err
			}
			opts := sandbox.Options{AuditWriter: cmd.OutOrStdout(), Logger: log, Population: pop, Chaos: chaos, NotebookDelay: notebookDelay}
			if notebookDelay == 0 {
				opts.NotebookDelay = -1 // instant; the option's zero means the default
			}
			ln, err := net.Listen("tcp", addr)
			if err != nil {
				return err
			}
			base := "http://" + ln.Addr().String()
			dev, err := sandbox.New(cmd.Context(), base, ln.Addr().String(), opts)
			if err != nil {
				ln.Close()
				return err
			}
			if gatewayConfig != "" {
				// Written before serving: once the sandbox answers, the file is there.
				if err := writeGatewayConfig(gatewayConfig, pop, base, gatewayAddr, level); err != nil {
					ln.Close()
					return fmt.Errorf("--write-gateway-config: %w", err)
				}
				fmt.Fprintf(cmd.ErrOrStderr(), "Wrote a `sagegate serve` config for a gateway on %s to %s; run it with\n  AWS_ACCESS_KEY_ID=%s AWS_SECRET_ACCESS_KEY=%s sagegate serve --config %[2]s\n",
					gatewayAddr, gatewayConfig, sandbox.GatewayAccessKey, sandbox.GatewaySecretKey)
			}
			printWelcome(cmd.ErrOrStderr(), base, ln.Addr().String(), opts)
			return runSandbox(cmd.Context(), ln, dev, log)
		},
	}
	cmd.Flags().StringVar(&addr, "addr", defaultDevAddr, "address to listen on (loopback only is wise: demo users need no password)")
	cmd.Flags().StringVar(&level, "log-level", "info", "debug, info, warn or error (warn keeps a load test's logs quiet)")
	cmd.Flags().IntVar(&pop.Users, "demo-users", 0, "generate this many demo users (user-0001, ...) besides the four named ones")
	cmd.Flags().IntVar(&pop.LOBs, "demo-lobs", 0, "spread the generated users over this many LOBs: lob-a, lob-b, lob-003, ... (default 2)")
	cmd.Flags().StringVar(&gatewayConfig, "write-gateway-config", "", "write a `sagegate serve` config equivalent to this sandbox's gateway (same issuer, routes and limits; the simulator as AWS) to FILE, to run the gateway as its own process")
	cmd.Flags().StringVar(&gatewayAddr, "gateway-addr", "127.0.0.1:8081", "listen address written into --write-gateway-config")
	cmd.Flags().DurationVar(&notebookDelay, "notebook-delay", sandbox.DefaultNotebookDelay, "how long a simulated notebook instance takes to start (half of it to stop); 0s is instant")
	faults.register(cmd)
	cmd.AddCommand(newDevToken())
	return cmd
}

// runSandbox serves a built sandbox on ln until ctx ends, with the
// gateway's background work (credential refresh) running.
func runSandbox(ctx context.Context, ln net.Listener, dev *sandbox.Dev, log *slog.Logger) error {
	go dev.Gateway.Run(ctx)
	return server.Serve(ctx, ln, dev.Handler, dev.Config.Server.ShutdownTimeout.D(), log)
}

func printWelcome(w io.Writer, base, addr string, opts sandbox.Options) {
	var users []string
	for _, u := range sandbox.DemoUsers {
		users = append(users, u.Username)
	}
	if p := opts.Population; p.Users > 0 {
		users = append(users, fmt.Sprintf("and %d generated: %s .. %s", p.Users, p.UserName(1), p.UserName(p.Users)))
	}
	addrFlag := ""
	if addr != defaultDevAddr {
		addrFlag = " --addr " + addr
	}
	fmt.Fprintf(w, `
sagegate dev is running: gateway, OIDC issuer, simulated AWS and Studio on %[1]s

  Browser:  open %[1]s/ and sign in as a demo user (password "demo")
  Users:    %[2]s
  curl:     TOKEN=$(go run ./cmd/sagegate dev token user-lob-a%[3]s)
            curl -i -H "Authorization: Bearer $TOKEN" %[1]s/studio
  AWS calls so far:  curl %[1]s/dev/aws/calls
  AWS faults:        curl %[1]s/dev/aws/faults  (PUT the same JSON to change them)%[4]s

Audit records go to stdout, logs to stderr. Ctrl-C stops.

`, base, strings.Join(users, ", "), addrFlag, describeChaos(opts.Chaos))
}

// describeChaos says which faults are injected, so nobody mistakes a slow
// or failing sandbox for a bug.
func describeChaos(c awssim.Chaos) string {
	if c.String() == "none" {
		return ""
	}
	return "\n  Injected:          " + c.String()
}

func newDevToken() *cobra.Command {
	var addr string
	cmd := &cobra.Command{
		Use:   "token USER",
		Short: "Print an access token for a demo user of a running `sagegate dev`",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			tok, err := devToken(cmd, addr, args[0])
			if err != nil {
				return err
			}
			fmt.Fprintln(cmd.OutOrStdout(), tok)
			return nil
		},
	}
	cmd.Flags().StringVar(&addr, "addr", defaultDevAddr, "address of the running sagegate dev")
	return cmd
}

// devToken asks the running sandbox's issuer: the signing key lives in
// that process, so the token must come from it.
func devToken(cmd *cobra.Command, addr, user string) (string, error) {
	client := &http.Client{Timeout: 10 * time.Second}
	tok, err := sandbox.DemoToken(cmd.Context(), client, "http://"+addr, user)
	var refused *sandbox.TokenRefusedError
	switch {
	case errors.As(err, &refused):
		return "", fmt.Errorf("token for %q %w", user, err)
	case err != nil:
		return "", fmt.Errorf("is `sagegate dev` running on %s? %w", addr, err)
	}
	return tok, nil
}
