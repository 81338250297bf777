package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/sagegate/sagegate/internal/broker"
	"github.com/sagegate/sagegate/internal/config"
	"github.com/sagegate/sagegate/internal/identity"
	"github.com/sagegate/sagegate/internal/routing"
	"github.com/sagegate/sagegate/internal/routing/admin"
	"github.com/sagegate/sagegate/internal/routing/backend"
)

// routesEnv is what every routes subcommand works with, opened from the
// configuration file on first use.
type routesEnv struct {
	path string
	cfg  *config.Config
	aws  aws.Config
}

func (e *routesEnv) open(cmd *cobra.Command) (routing.Store, error) {
	cfg, err := config.LoadForRoutesAdmin(e.path, os.LookupEnv)
	if err != nil {
		return nil, err
	}
	awsCfg, err := awsconfig.LoadDefaultConfig(cmd.Context(), awsconfig.WithRegion(cfg.AWS.Region))
	if err != nil {
		return nil, fmt.Errorf("loading AWS configuration: %w", err)
	}
	e.cfg, e.aws = cfg, awsCfg
	log := newLogger(cmd.ErrOrStderr(), config.Log{Level: "warn", Format: "text"})
	return backend.Open(cfg, awsCfg, backend.Admin, log)
}

// command is a routes subcommand that works on the store, which run gets
// opened.
func (e *routesEnv) command(use, short string, args cobra.PositionalArgs, run func(cmd *cobra.Command, s routing.Store, args []string) error) *cobra.Command {
	return &cobra.Command{
		Use:   use,
		Short: short,
		Args:  args,
		RunE: func(cmd *cobra.Command, args []string) error {
			s, err := e.open(cmd)
			if err != nil {
				return err
			}
			return run(cmd, s, args)
		},
	}
}

func newRoutes() *cobra.Command {
	e := &routesEnv{}
	cmd := &cobra.Command{
		Use:   "routes --config FILE COMMAND",
		Short: "List, change, import, export and check the routes",
		Long: `Manages the routes of the backend the configuration file names (routing.type):
a routes file (routing.file.path; inline routes are read-only) or the
DynamoDB tables of routing.dynamodb. Writes to DynamoDB are conditional, so
concurrent administrators never overwrite each other's changes.`,
	}
	cmd.PersistentFlags().StringVar(&e.path, "config", "", "configuration file (YAML)")
	_ = cmd.MarkPersistentFlagRequired("config")
	cmd.AddCommand(
		routesList(e), routesGet(e), routesPutUser(e), routesPutLOB(e), routesPutGroup(e),
		routesDelete(e, "delete-user", "USER", "user", func(s routing.Store) func(context.Context, string) error { return s.DeleteUser }),
		routesDelete(e, "delete-lob", "LOB", "LOB", func(s routing.Store) func(context.Context, string) error { return s.DeleteLOB }),
		routesDelete(e, "delete-group", "GROUP", "group", func(s routing.Store) func(context.Context, string) error { return s.DeleteGroup }),
		routesImport(e), routesExport(e), routesCheck(e),
	)
	return cmd
}

func routesList(e *routesEnv) *cobra.Command {
	var kind string
	cmd := e.command("list", "List LOBs, users and groups; invalid records go to stderr (exit status 1)", cobra.NoArgs,
		func(cmd *cobra.Command, s routing.Store, _ []string) error {
			r, err := admin.ReadAll(cmd.Context(), s)
			if err != nil {
				return err
			}
			kinds := []string{"lobs", "users", "groups"}
			if kind != "all" {
				kinds = []string{kind}
			}
			if err := admin.PrintList(cmd.OutOrStdout(), cmd.ErrOrStderr(), r, kinds...); err != nil {
				return err
			}
			if len(r.Invalid) > 0 {
				return exitCode(1)
			}
			return nil
		})
	cmd.Flags().StringVar(&kind, "kind", "all", "what to list: all, lobs, users or groups")
	return cmd
}

func routesGet(e *routesEnv) *cobra.Command {
	var groups []string
	cmd := e.command("get USER", "Show a user's record and the targets it resolves to", cobra.ExactArgs(1),
		func(cmd *cobra.Command, s routing.Store, args []string) error {
			u, err := s.GetUser(cmd.Context(), args[0])
			found := err == nil
			if err != nil && !errors.Is(err, routing.ErrNotFound) {
				return err
			}
			if !found {
				u.Name = args[0]
			}
			targets, err := routing.NewResolver(s, nil).Targets(cmd.Context(), &identity.Principal{Username: args[0], Groups: groups})
			if err != nil && !errors.Is(err, routing.ErrUserDisabled) {
				return err
			}
			if !found && len(targets) == 0 {
				fmt.Fprintf(cmd.ErrOrStderr(), "no user %q, and no target through the given groups\n", args[0])
				return exitCode(1)
			}
			return admin.PrintUser(cmd.OutOrStdout(), u, found, groups, targets)
		})
	cmd.Flags().StringSliceVar(&groups, "groups", nil, "IdP groups to resolve the user with (comma separated)")
	return cmd
}

func routesPutUser(e *routesEnv) *cobra.Command {
	var (
		lobs                          []string
		profile                       string
		disabled, force, clearProfile bool
	)
	cmd := e.command("put-user USER", "Create or update a user; only the flags given change", cobra.ExactArgs(1),
		func(cmd *cobra.Command, s routing.Store, args []string) error {
			f := cmd.Flags()
			created, err := admin.PutUser(cmd.Context(), s, args[0], func(u *routing.User) {
				if f.Changed("lobs") {
					u.LOBs = lobs
				}
				if f.Changed("profile") {
					u.Profile = profile
				}
				if clearProfile {
					u.Profile = ""
				}
				if f.Changed("disabled") {
					u.Disabled = disabled
				}
			}, force)
			return reportPut(cmd.OutOrStdout(), "user", args[0], created, err)
		})
	f := cmd.Flags()
	f.StringSliceVar(&lobs, "lobs", nil, "the user's LOBs, in order (comma separated)")
	f.StringVar(&profile, "profile", "", "user-profile name, overriding the LOBs' profile rules")
	f.BoolVar(&clearProfile, "clear-profile", false, "remove the profile override")
	f.BoolVar(&disabled, "disabled", false, "disable (or with =false enable) the user")
	f.BoolVar(&force, "force", false, "accept LOBs that do not exist (yet)")
	return cmd
}

func routesPutLOB(e *routesEnv) *cobra.Command {
	// Each flag is bound to a field of l and registered with the copy that
	// replaces that field, so that a flag cannot be added and forgotten.
	var l routing.LOB
	replace := map[string]func(cur *routing.LOB){}
	cmd := e.command("put-lob LOB", "Create or update a LOB; only the flags given change", cobra.ExactArgs(1),
		func(cmd *cobra.Command, s routing.Store, args []string) error {
			created, err := admin.PutLOB(cmd.Context(), s, args[0], func(cur *routing.LOB) {
				// Each flag given replaces its field; the rest stay.
				cmd.Flags().Visit(func(fl *pflag.Flag) {
					if r := replace[fl.Name]; r != nil {
						r(cur)
					}
				})
			})
			return reportPut(cmd.OutOrStdout(), "LOB", args[0], created, err)
		})
	f := cmd.Flags()
	str := func(name string, field func(*routing.LOB) *string, usage string) {
		f.StringVar(field(&l), name, "", usage)
		replace[name] = copyField(field, &l)
	}
	boolean := func(name string, field func(*routing.LOB) *bool, usage string) {
		f.BoolVar(field(&l), name, false, usage)
		replace[name] = copyField(field, &l)
	}
	duration := func(name string, field func(*routing.LOB) *routing.Duration, usage string) {
		f.DurationVar((*time.Duration)(field(&l)), name, 0, usage)
		replace[name] = copyField(field, &l)
	}
	str("account", func(l *routing.LOB) *string { return &l.AccountID }, "AWS account id (12 digits)")
	str("region", func(l *routing.LOB) *string { return &l.Region }, "region of the Studio domain (default: aws.region)")
	str("domain", func(l *routing.LOB) *string { return &l.DomainID }, "Studio domain id (empty: discover the one InService domain)")
	str("role", func(l *routing.LOB) *string { return &l.RoleARN }, "access role ARN or name (default: routing.defaultRole)")
	str("external-id", func(l *routing.LOB) *string { return &l.ExternalID }, "external id the access role's trust policy requires")
	str("profile-rule", func(l *routing.LOB) *string { return &l.ProfileRule }, "username to profile name: sanitized, username or email-local")
	duration("session-duration", func(l *routing.LOB) *routing.Duration { return &l.SessionDuration }, "Studio session length (30m..12h)")
	duration("url-lifetime", func(l *routing.LOB) *routing.Duration { return &l.URLLifetime }, "presigned URL lifetime (5s..5m)")
	str("space", func(l *routing.LOB) *string { return &l.Space }, "shared space to open")
	boolean("private-space", func(l *routing.LOB) *bool { return &l.PrivateSpace }, "open each person's private space, named like their profile")
	str("landing-uri", func(l *routing.LOB) *string { return &l.LandingURI }, "studio::<path> or app:<App>:<path>")
	str("label", func(l *routing.LOB) *string { return &l.Label }, "name shown to people")
	boolean("jit-profiles", func(l *routing.LOB) *bool { return &l.JITProfiles }, "create missing user profiles on first launch")
	str("execution-role", func(l *routing.LOB) *string { return &l.ExecutionRole }, "execution role ARN of profiles created just in time")
	return cmd
}

// copyField returns what copies one field, picked by field, from a LOB
// into another.
func copyField[T any](field func(*routing.LOB) *T, from *routing.LOB) func(*routing.LOB) {
	return func(to *routing.LOB) { *field(to) = *field(from) }
}

func routesPutGroup(e *routesEnv) *cobra.Command {
	var lobs []string
	var force bool
	cmd := e.command("put-group GROUP --lobs LOB[,LOB...]", "Map an IdP group to LOBs (replacing its mapping)", cobra.ExactArgs(1),
		func(cmd *cobra.Command, s routing.Store, args []string) error {
			created, err := admin.PutGroup(cmd.Context(), s, args[0], lobs, force)
			return reportPut(cmd.OutOrStdout(), "group", args[0], created, err)
		})
	cmd.Flags().StringSliceVar(&lobs, "lobs", nil, "the group's LOBs, in order (comma separated)")
	cmd.Flags().BoolVar(&force, "force", false, "accept LOBs that do not exist (yet)")
	_ = cmd.MarkFlagRequired("lobs")
	return cmd
}

func reportPut(w io.Writer, kind, name string, created bool, err error) error {
	if err != nil {
		return err
	}
	verb := "updated"
	if created {
		verb = "created"
	}
	_, err = fmt.Fprintf(w, "%s %s %s\n", verb, kind, name)
	return err
}

func routesDelete(e *routesEnv, use, arg, what string, del func(routing.Store) func(context.Context, string) error) *cobra.Command {
	return e.command(use+" "+arg, "Delete a "+what, cobra.ExactArgs(1),
		func(cmd *cobra.Command, s routing.Store, args []string) error {
			if err := del(s)(cmd.Context(), args[0]); err != nil {
				return err
			}
			_, err := fmt.Fprintf(cmd.OutOrStdout(), "deleted %s %s\n", what, args[0])
			return err
		})
}

func routesImport(e *routesEnv) *cobra.Command {
	var format string
	var dryRun, prune bool
	cmd := e.command("import FILE", "Make the routes hold those of FILE (YAML or CSV); running it twice changes nothing", cobra.ExactArgs(1),
		func(cmd *cobra.Command, s routing.Store, args []string) error {
			in := cmd.InOrStdin()
			if args[0] != "-" {
				f, err := os.Open(args[0])
				if err != nil {
					return err
				}
				defer f.Close()
				in = f
			}
			if format == "" {
				format = admin.FormatOf(args[0])
			}
			want, err := admin.Read(in, format)
			if err != nil {
				return fmt.Errorf("%s: %w", args[0], err)
			}
			changes, err := admin.Plan(cmd.Context(), s, want, e.cfg.RoutingDefaults(), prune)
			if err != nil {
				return err
			}
			if err := admin.PrintChanges(cmd.OutOrStdout(), changes); err != nil {
				return err
			}
			if dryRun {
				_, err := fmt.Fprintf(cmd.OutOrStdout(), "%d change(s) (dry run: none made)\n", len(changes))
				return err
			}
			if err := admin.Apply(cmd.Context(), s, changes); err != nil {
				return err
			}
			_, err = fmt.Fprintf(cmd.OutOrStdout(), "%d change(s) made\n", len(changes))
			return err
		})
	cmd.Long = `Creates the records of FILE that the routes lack and updates those that
differ; records equal once defaults are applied are left alone. With --prune,
records that FILE lacks are deleted. --dry-run prints the changes (+ create,
~ update, - delete) without making them. "-" reads standard input.`
	cmd.Flags().StringVar(&format, "format", "", "yaml or csv (default: from the file name, else yaml)")
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "print the changes without making them")
	cmd.Flags().BoolVar(&prune, "prune", false, "also delete the records that FILE lacks")
	return cmd
}

func routesExport(e *routesEnv) *cobra.Command {
	var format, output string
	cmd := e.command("export", "Write every route as YAML (a routes file) or CSV", cobra.NoArgs,
		func(cmd *cobra.Command, s routing.Store, _ []string) error {
			r, err := admin.Export(cmd.Context(), s, e.cfg.RoutingDefaults())
			if err != nil {
				return err
			}
			w := cmd.OutOrStdout()
			if output != "" {
				f, err := os.Create(output)
				if err != nil {
					return err
				}
				defer f.Close()
				w = f
			}
			if err := admin.Write(w, format, r); err != nil {
				return err
			}
			for _, bad := range r.Invalid {
				fmt.Fprintf(cmd.ErrOrStderr(), "not exported: invalid %s\n", bad.Error())
			}
			if len(r.Invalid) > 0 {
				return exitCode(1)
			}
			return nil
		})
	cmd.Flags().StringVar(&format, "format", admin.FormatYAML, "yaml or csv")
	cmd.Flags().StringVarP(&output, "output", "o", "", "file to write (default: standard output)")
	return cmd
}

func routesCheck(e *routesEnv) *cobra.Command {
	cmd := e.command("check", "Check every LOB against AWS: role, domain, state, auth mode, missing profiles", cobra.NoArgs,
		func(cmd *cobra.Command, s routing.Store, _ []string) error {
			b := broker.New(e.aws, broker.Options{
				CallTimeout:       e.cfg.AWS.CallTimeout.D(),
				MaxAttempts:       e.cfg.AWS.MaxAttempts,
				SessionDuration:   e.cfg.AWS.AssumeRoleDuration.D(),
				STSEndpoint:       e.cfg.AWS.Endpoints.STS,
				SageMakerEndpoint: e.cfg.AWS.Endpoints.SageMaker,
				Logger:            newLogger(cmd.ErrOrStderr(), config.Log{Level: "warn", Format: "text"}),
			})
			rep, err := admin.Check(cmd.Context(), s, b)
			if err != nil {
				return err
			}
			if err := admin.PrintReport(cmd.OutOrStdout(), rep); err != nil {
				return err
			}
			if !rep.OK() {
				return exitCode(1)
			}
			return nil
		})
	cmd.Long = `For every LOB: assumes its access role (as ` + admin.CheckIdentity + `), describes its
domain (discovering it when the LOB names none), and reports its state, its
authentication mode and the users routed to it that have no user profile.
Exits with status 1 when anything is wrong.`
	return cmd
}
