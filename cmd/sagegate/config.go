package main

import (
	"errors"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/sagegate/sagegate/internal/config"
)

func newConfig() *cobra.Command {
	cmd := &cobra.Command{Use: "config", Short: "Work with configuration files"}
	cmd.AddCommand(&cobra.Command{
		Use:   "check FILE",
		Short: "Validate a configuration file and print every problem",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			_, err := config.Load(args[0], os.LookupEnv)
			var probs config.Problems
			switch {
			case errors.As(err, &probs):
				fmt.Fprintf(cmd.ErrOrStderr(), "%s: %d problem(s):\n", args[0], len(probs))
				for _, p := range probs {
					fmt.Fprintln(cmd.ErrOrStderr(), "  -", p)
				}
				return exitCode(1)
			case err != nil:
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s: ok\n", args[0])
			return nil
		},
	})
	return cmd
}
