package main

import (
	"cmp"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/sagegate/sagegate/internal/cli/oidclogin"
	"github.com/sagegate/sagegate/internal/cli/opencmd"
	"github.com/sagegate/sagegate/internal/config"
)

func newOpen() *cobra.Command {
	o := opencmd.Options{}
	var noCache bool
	cmd := &cobra.Command{
		Use:   "open [TARGET]",
		Short: "Sign in through the browser and open a Studio (or print its URL)",
		Long: `Signs in through your browser (OIDC authorization code with PKCE and a
loopback redirect to http://127.0.0.1:<port>/callback), caches the token
under your user cache directory until it expires, asks sagegate for a
fresh presigned URL and opens it in your browser.

Without TARGET the only thing you can open is opened; with several, they
are listed. The provider comes from the server (GET /api/v1/login-config)
unless --issuer and --client-id say otherwise.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 1 {
				o.Target = args[0]
			}
			if !noCache {
				dir, err := oidclogin.DefaultCacheDir()
				if err != nil {
					return err
				}
				o.CacheDir = dir
			}
			o.Stdout, o.Stderr = cmd.OutOrStdout(), cmd.ErrOrStderr()
			o.Logger = newLogger(cmd.ErrOrStderr(), config.Log{Level: "warn", Format: "text"})
			return opencmd.Run(cmd.Context(), o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.Server, "server", cmp.Or(os.Getenv("SAGEGATE_SERVER"), opencmd.DefaultServer), "sagegate's URL (env SAGEGATE_SERVER)")
	f.BoolVar(&o.Print, "print", false, "print the presigned URL instead of opening a browser")
	f.BoolVar(&o.Fresh, "fresh", false, "sign in again even if a cached token is still valid")
	f.BoolVar(&noCache, "no-cache", false, "neither read nor write the token cache")
	f.StringVar(&o.Login.Issuer, "issuer", os.Getenv("SAGEGATE_ISSUER"), "OIDC issuer URL, instead of the server's (env SAGEGATE_ISSUER)")
	f.StringVar(&o.Login.ClientID, "client-id", os.Getenv("SAGEGATE_CLIENT_ID"), "public OIDC client id, instead of the server's (env SAGEGATE_CLIENT_ID)")
	f.StringVar(&o.Login.Token, "token", "", "token to send: id_token or access_token (default: what the server verifies)")
	f.IntVar(&o.Login.CallbackPort, "callback-port", 0, "fixed port of the loopback redirect, for providers that match redirect URIs exactly (0: any free port)")
	f.DurationVar(&o.LoginTimeout, "timeout", 5*time.Minute, "how long to wait for the browser sign-in")
	return cmd
}
