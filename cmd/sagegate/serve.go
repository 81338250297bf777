package main

import (
	"net"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/sagegate/sagegate/internal/config"
	"github.com/sagegate/sagegate/internal/gateway"
	"github.com/sagegate/sagegate/internal/server"
)

func newServe() *cobra.Command {
	var path, pprofAddr string
	cmd := &cobra.Command{
		Use:   "serve --config FILE",
		Short: "Run the gateway against real AWS",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if pprofAddr != "" {
				if err := checkPprofAddr(pprofAddr); err != nil {
					return err
				}
			}
			cfg, err := config.Load(path, os.LookupEnv)
			if err != nil {
				return err
			}
			log := newLogger(cmd.ErrOrStderr(), cfg.Log)
			if err := tuneRuntime(cfg.Runtime.GC(), pprofAddr != "", log); err != nil {
				return err
			}
			gw, err := gateway.Build(cmd.Context(), cfg, gateway.Deps{Logger: log})
			if err != nil {
				return err
			}
			defer gw.Close()
			ln, err := net.Listen("tcp", cfg.Server.Addr)
			if err != nil {
				return err
			}
			log.Info("sagegate listening", "addr", ln.Addr().String(), "publicUrl", cfg.Server.PublicURL, "version", version)
			if pprofAddr != "" {
				pln, err := listenPprof(pprofAddr)
				if err != nil {
					return err
				}
				go servePprof(cmd.Context(), pln, log)
			}
			go gw.Run(cmd.Context())
			if cfg.Metrics.Addr != "" && gw.Metrics != nil {
				mln, err := net.Listen("tcp", cfg.Metrics.Addr)
				if err != nil {
					return err
				}
				log.Info("metrics listening", "addr", mln.Addr().String())
				go func() {
					if err := server.Serve(cmd.Context(), mln, gw.Metrics.Handler(), time.Second, log); err != nil {
						log.Error("metrics listener failed", "err", err)
					}
				}()
			}
			return server.Serve(cmd.Context(), ln, gw.Handler, cfg.Server.ShutdownTimeout.D(), log)
		},
	}
	cmd.Flags().StringVar(&path, "config", "", "configuration file (YAML)")
	cmd.Flags().StringVar(&pprofAddr, "pprof", "", "serve Go profiles (/debug/pprof/heap, allocs, goroutine, profile) on this loopback address, e.g. 127.0.0.1:6060; off by default")
	_ = cmd.MarkFlagRequired("config")
	return cmd
}
