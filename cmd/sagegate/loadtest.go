package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"runtime"
	"runtime/pprof"
	"time"

	"github.com/spf13/cobra"

	"github.com/sagegate/sagegate/internal/config"
	"github.com/sagegate/sagegate/internal/gctune"
	"github.com/sagegate/sagegate/internal/loadtest"
	"github.com/sagegate/sagegate/internal/sandbox"
)

func newLoadtest() *cobra.Command {
	var (
		cfg     loadtest.Config
		mix     string
		pid     int
		asJSON  bool
		noWarm  bool
		faults  faultFlags
		verbose bool
		memprof string
		cpuprof string
	)
	cmd := &cobra.Command{
		Use:   "loadtest",
		Short: "Load a `sagegate dev` over loopback with many users and check every answer",
		Long: `Load a sagegate dev sandbox with many users and a mix of valid launches,
invalid tokens and cross-user requests, bounded in time and in count. Every
answer is checked (a presigned URL only for its owner, into their LOB's
domain), and so is every AWS call the simulator saw. The report gives
throughput, p50/p99/max latency per request class, status counts and AWS
calls per launch. The exit status is 1 when any check failed.

Against a running sandbox (its population must match --users/--lobs):

  sagegate dev --demo-users 1000 --demo-lobs 4 --log-level warn >/dev/null &
  sagegate loadtest --target http://127.0.0.1:8080 --users 1000 --lobs 4 --pid $!

Without --target, the sandbox runs in this process on 127.0.0.1, with the
fault flags, so one command reproduces a figure:

  sagegate loadtest --users 1000 --aws-throttle-rate 0.3 --aws-error-rate 0.01

The gateway as its own process, to measure it alone (--pid is then the
gateway's):

  sagegate dev --demo-users 1000 --demo-lobs 4 --log-level warn --write-gateway-config gw.yaml >/dev/null &
  AWS_ACCESS_KEY_ID=AKIASAGEGATEDEV00001 AWS_SECRET_ACCESS_KEY=sagegate-dev-secret-key-not-a-real-secret \
    sagegate serve --config gw.yaml >/dev/null &
  sagegate loadtest --target http://127.0.0.1:8080 --gateway http://127.0.0.1:8081 --users 1000 --lobs 4 --pid $!

--direct sends each launch's CreatePresignedDomainUrl to the simulator
itself, without a gateway: the reference a gateway launch is compared with.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var err error
			if cmd.Flags().Changed("mix") {
				if cfg.Mix, err = loadtest.ParseMix(mix); err != nil {
					return err
				}
			}
			cfg.Warmup = !noWarm
			// Faulted AWS calls log warnings by the thousand; a load test
			// shows only errors unless asked.
			level := "error"
			if verbose {
				level = "info"
			}
			log := newLogger(cmd.ErrOrStderr(), config.Log{Level: level, Format: "text"})
			cfg.Logger = log

			if cfg.Gateway != "" && cfg.Target == "" {
				return errors.New("--gateway needs --target: the sandbox whose issuer and simulator the gateway uses")
			}
			if cfg.Gateway != "" && cfg.Direct {
				return errors.New("--direct calls the simulator without a gateway; drop --gateway")
			}
			if cpuprof != "" {
				f, err := os.Create(cpuprof)
				if err != nil {
					return err
				}
				defer f.Close()
				cfg.OnRun = func() func() {
					if err := pprof.StartCPUProfile(f); err != nil {
						log.Error("loadtest: CPU profile", "err", err)
						return func() {}
					}
					return pprof.StopCPUProfile
				}
			}
			var rep *loadtest.Report
			if cfg.Target != "" {
				for _, name := range faultFlagNames {
					if cmd.Flags().Changed(name) {
						return fmt.Errorf("--%s applies to the in-process sandbox; pass it to `sagegate dev` instead", name)
					}
				}
				if pid > 0 {
					cfg.Memory = func() (*loadtest.Memory, error) { return loadtest.ProcMemory(pid) }
					cfg.ServerCPU = func() (time.Duration, error) { return loadtest.ProcCPU(pid) }
				}
				rep, err = loadtest.Run(cmd.Context(), cfg)
			} else {
				if pid > 0 {
					return errors.New("--pid needs --target: in-process, the memory of this process is reported")
				}
				// This process hosts the gateway: tuned as `sagegate dev` is.
				if err := tuneRuntime(gctune.Settings{}, memprof != "", log); err != nil {
					return err
				}
				rep, err = loadInProcess(cmd.Context(), cfg, faults)
			}
			if err != nil {
				return err
			}
			if memprof != "" {
				if err := writeHeapProfile(memprof); err != nil {
					return err
				}
			}
			if err := writeReport(cmd.OutOrStdout(), rep, asJSON); err != nil {
				return err
			}
			if !rep.OK {
				return exitCode(1)
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&cfg.Target, "target", "", "base URL of a running `sagegate dev`; empty runs the sandbox in this process")
	f.StringVar(&cfg.Gateway, "gateway", "", "base URL of the gateway under test when it runs as its own process (`sagegate serve` on `sagegate dev --write-gateway-config`'s file); tokens and the call log still come from --target")
	f.BoolVar(&cfg.Direct, "direct", false, "no gateway: send each launch's CreatePresignedDomainUrl to the simulator with the AWS SDK and the person's assumed-role credentials (the reference latency); launches only")
	f.IntVar(&cfg.Population.Users, "users", 0, "generated demo users taking part besides the four named ones (the target's --demo-users)")
	f.IntVar(&cfg.Population.LOBs, "lobs", 0, "LOBs the generated users are spread over (the target's --demo-lobs; default 2)")
	f.DurationVar(&cfg.Duration, "duration", 20*time.Second, "stop starting requests after this long")
	f.IntVar(&cfg.Requests, "requests", 1_000_000, "stop after this many requests")
	f.IntVar(&cfg.Concurrency, "concurrency", 32, "requests in flight")
	f.StringVar(&mix, "mix", loadtest.DefaultMix().String(), "weights of the request classes launch, studio, invalid, cross, foreign")
	f.Uint64Var(&cfg.Seed, "seed", 1, "seed of the request sequence")
	f.BoolVar(&noWarm, "no-warmup", false, "skip the warm-up (one launch per LOB per user, and the routes check)")
	f.DurationVar(&cfg.RequestTimeout, "request-timeout", 30*time.Second, "give up on one request after this long")
	f.DurationVar(&cfg.VerifyInterval, "verify-interval", time.Second, "how often the simulator's call log (its last 10,000 calls) is read; lower it if calls go unseen")
	f.IntVar(&pid, "pid", 0, "process id of the target (of --gateway when given), to report its peak resident memory (VmHWM) and CPU")
	f.BoolVar(&asJSON, "json", false, "print the report as JSON")
	f.BoolVar(&verbose, "verbose", false, "log the server's requests and the progress to stderr")
	f.StringVar(&memprof, "memprofile", "", "write a heap profile of this process at the end (in-process runs: what the sandbox and gateway hold)")
	f.StringVar(&cpuprof, "cpuprofile", "", "write a CPU profile of this process over the measured run (in-process runs: gateway, sandbox and load generator together)")
	faults.register(cmd)
	return cmd
}

func writeHeapProfile(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	runtime.GC()
	if err := pprof.WriteHeapProfile(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// loadInProcess runs the sandbox on a free loopback port in this process,
// with the fault flags, and loads it.
func loadInProcess(ctx context.Context, cfg loadtest.Config, faults faultFlags) (*loadtest.Report, error) {
	chaos, err := faults.chaos()
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	base := "http://" + ln.Addr().String()
	// Audit records are written as in production, then dropped: the
	// figures include their cost, the terminal does not fill up.
	dev, err := sandbox.New(ctx, base, ln.Addr().String(), sandbox.Options{
		Logger: cfg.Logger, AuditWriter: io.Discard, Population: cfg.Population, Chaos: chaos,
	})
	if err != nil {
		ln.Close()
		return nil, err
	}
	srvCtx, stop := context.WithCancel(ctx)
	served := make(chan error, 1)
	go func() { served <- runSandbox(srvCtx, ln, dev, cfg.Logger) }()

	cfg.Target = base
	cfg.AWS = loadtest.SimView{Sim: dev.Sim}
	cfg.Memory = loadtest.SelfMemory
	cfg.InProcess = true
	rep, err := loadtest.Run(ctx, cfg)
	stop()
	if serr := <-served; serr != nil && !errors.Is(serr, http.ErrServerClosed) && err == nil {
		err = serr
	}
	return rep, err
}

func writeReport(w io.Writer, rep *loadtest.Report, asJSON bool) error {
	if asJSON {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(rep)
	}
	rep.WriteText(w)
	return nil
}
