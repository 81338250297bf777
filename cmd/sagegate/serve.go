package main

import (
	"net"
	"os"

	"github.com/spf13/cobra"

	"github.com/sagegate/sagegate/internal/config"
	"github.com/sagegate/sagegate/internal/gateway"
	"github.com/sagegate/sagegate/internal/server"
)

func newServe() *cobra.Command {
	var path string
	cmd := &cobra.Command{
		Use:   "serve --config FILE",
		Short: "Run the gateway against real AWS",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := config.Load(path, os.LookupEnv)
			if err != nil {
				return err
			}
			log := newLogger(cmd.ErrOrStderr(), cfg.Log)
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
			return server.Serve(cmd.Context(), ln, gw.Handler, cfg.Server.ShutdownTimeout.D(), log)
		},
	}
	cmd.Flags().StringVar(&path, "config", "", "configuration file (YAML)")
	_ = cmd.MarkFlagRequired("config")
	return cmd
}
