package main

import (
	"cmp"
	"context"
	"fmt"
	"os"
	"os/user"
	"slices"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/sagegate/sagegate/internal/config"
	"github.com/sagegate/sagegate/internal/gateway"
	"github.com/sagegate/sagegate/internal/identity"
	"github.com/sagegate/sagegate/internal/notebooks"
	"github.com/sagegate/sagegate/internal/routing"
)

// notebooksEnv is what every notebooks subcommand works with, opened from
// the configuration file on first use.
type notebooksEnv struct {
	path string
	lob  string
	cfg  *config.Config
	nb   *gateway.Notebooks
}

func (e *notebooksEnv) open(cmd *cobra.Command) error {
	cfg, err := config.Load(e.path, os.LookupEnv)
	if err != nil {
		return err
	}
	deps := gateway.Deps{Logger: newLogger(cmd.ErrOrStderr(), config.Log{Level: "warn", Format: "text"})}
	if cfg.Audit.Output == "stdout" {
		// stdout is for the command's answer; the audit goes beside it.
		deps.AuditWriter = cmd.ErrOrStderr()
	}
	e.cfg = cfg
	e.nb, err = gateway.BuildNotebooks(cmd.Context(), cfg, deps)
	return err
}

// cliAdmin is who the AWS calls are made as: the session name and source
// identity in the LOB accounts' CloudTrail, and the audit's user.
func cliAdmin() *identity.Principal {
	name := "sagegate-cli"
	if u, err := user.Current(); err == nil && u.Username != "" {
		name += "-" + u.Username
	}
	return &identity.Principal{Username: name}
}

// lobs returns the LOB named by --lob, or every LOB without it.
func (e *notebooksEnv) lobs(ctx context.Context) ([]routing.LOB, error) {
	if e.lob != "" {
		l, err := e.nb.Store.GetLOB(ctx, e.lob)
		if err != nil {
			return nil, err
		}
		return []routing.LOB{l}, nil
	}
	return notebooks.AllLOBs(ctx, e.nb.Store)
}

// instance is the target of notebook instance name in --lob.
func (e *notebooksEnv) instance(ctx context.Context, name string) (routing.Target, error) {
	if e.lob == "" {
		return routing.Target{}, fmt.Errorf("--lob is required: it says which account and access role reach %q", name)
	}
	l, err := e.nb.Store.GetLOB(ctx, e.lob)
	if err != nil {
		return routing.Target{}, err
	}
	return notebooks.LOBTarget(l, name), nil
}

func (e *notebooksEnv) command(use, short string, args cobra.PositionalArgs, run func(cmd *cobra.Command, args []string) error) *cobra.Command {
	return &cobra.Command{
		Use: use, Short: short, Args: args,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := e.open(cmd); err != nil {
				return err
			}
			defer e.nb.Close()
			return run(cmd, args)
		},
	}
}

func newNotebooks() *cobra.Command {
	e := &notebooksEnv{}
	cmd := &cobra.Command{
		Use:   "notebooks --config FILE COMMAND",
		Short: "List, create, start, stop, delete and reap SageMaker notebook instances",
		Long: `Manages the notebook instances in the accounts of the configuration's LOBs,
with your AWS credentials assuming each LOB's access role (as sagegate's
gateway does). Every decision is written to the audit output.`,
	}
	cmd.PersistentFlags().StringVar(&e.path, "config", "", "configuration file (YAML)")
	cmd.PersistentFlags().StringVar(&e.lob, "lob", "", "the LOB whose account holds the notebook (list and reap: only this LOB)")
	_ = cmd.MarkPersistentFlagRequired("config")
	cmd.AddCommand(notebooksList(e), notebooksCreate(e), notebooksStart(e), notebooksStop(e), notebooksDelete(e), notebooksReap(e))
	return cmd
}

func notebooksList(e *notebooksEnv) *cobra.Command {
	var state string
	cmd := e.command("list", "List the notebook instances of every LOB's account (or --lob's)", cobra.NoArgs,
		func(cmd *cobra.Command, _ []string) error {
			lobs, err := e.lobs(cmd.Context())
			if err != nil {
				return err
			}
			rows, err := e.nb.Manager.List(cmd.Context(), cliAdmin(), lobs, state)
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "LOB\tACCOUNT\tREGION\tNOTEBOOK\tSTATE\tTYPE\tOWNER\tLAST LAUNCH")
			for _, r := range rows {
				last := "-"
				if !r.LastLaunch.IsZero() {
					last = r.LastLaunch.UTC().Format(time.RFC3339)
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", r.LOB, r.Account, r.Region, r.Name, r.State, r.InstanceType, cmp.Or(r.Owner, "-"), last)
			}
			if ferr := tw.Flush(); ferr != nil {
				return ferr
			}
			return err
		})
	cmd.Flags().StringVar(&state, "state", "", "only instances in this state (InService, Stopped, ...)")
	return cmd
}

func notebooksCreate(e *notebooksEnv) *cobra.Command {
	var owner, template, itype string
	var wait bool
	cmd := e.command("create --lob LOB --template T --user USER", "Create a person's notebook from one of the LOB's templates", cobra.NoArgs,
		func(cmd *cobra.Command, _ []string) error {
			if e.lob == "" || owner == "" || template == "" {
				return fmt.Errorf("--lob, --template and --user are required")
			}
			l, err := e.nb.Store.GetLOB(cmd.Context(), e.lob)
			if err != nil {
				return err
			}
			t, f, err := e.nb.Manager.CreateFor(cmd.Context(), cliAdmin(), owner, l, template, itype)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "created notebook %s for %s (target %s)\n", t.NotebookInstance, owner, t.ID)
			return follow(cmd, f, wait)
		})
	cmd.Flags().StringVar(&owner, "user", "", "the person the notebook is for (tag sagegate:user)")
	cmd.Flags().StringVar(&template, "template", "", "the LOB's notebook template")
	cmd.Flags().StringVar(&itype, "instance-type", "", "one of the template's instance types (default: its first)")
	cmd.Flags().BoolVar(&wait, "wait", false, "wait until it is InService (at most notebooks.waitTimeout)")
	return cmd
}

func notebooksStart(e *notebooksEnv) *cobra.Command {
	var wait bool
	cmd := e.command("start --lob LOB NAME", "Start a notebook instance", cobra.ExactArgs(1),
		func(cmd *cobra.Command, args []string) error {
			t, err := e.instance(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			f, err := e.nb.Manager.Start(cmd.Context(), cliAdmin(), t)
			if err != nil {
				return err
			}
			if f == nil {
				fmt.Fprintf(cmd.OutOrStdout(), "%s is InService\n", args[0])
				return nil
			}
			fmt.Fprintf(cmd.OutOrStdout(), "starting %s: %s\n", args[0], f.Progress().State)
			return follow(cmd, f, wait)
		})
	cmd.Flags().BoolVar(&wait, "wait", false, "wait until it is InService (at most notebooks.waitTimeout)")
	return cmd
}

// follow waits for f when asked to, printing each state.
func follow(cmd *cobra.Command, f *notebooks.Flight, wait bool) error {
	if !wait || f == nil {
		return nil
	}
	shown := 0
	for {
		p, changed := f.Watch()
		for ; shown < len(p.History); shown++ {
			fmt.Fprintf(cmd.OutOrStdout(), "  %s at %s\n", p.History[shown].State, p.History[shown].At.UTC().Format(time.RFC3339))
		}
		if p.Done {
			return p.Err
		}
		select {
		case <-changed:
		case <-cmd.Context().Done():
			return cmd.Context().Err()
		}
	}
}

func notebooksStop(e *notebooksEnv) *cobra.Command {
	return e.command("stop --lob LOB NAME", "Stop a notebook instance", cobra.ExactArgs(1),
		func(cmd *cobra.Command, args []string) error {
			t, err := e.instance(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			if err := e.nb.Manager.AdminStop(cmd.Context(), cliAdmin(), t); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "stopping %s\n", args[0])
			return nil
		})
}

func notebooksDelete(e *notebooksEnv) *cobra.Command {
	var owner string
	cmd := e.command("delete --lob LOB NAME", "Delete a (stopped) notebook instance", cobra.ExactArgs(1),
		func(cmd *cobra.Command, args []string) error {
			t, err := e.instance(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			if err := e.nb.Manager.Delete(cmd.Context(), cliAdmin(), t, owner); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "deleting %s\n", args[0])
			return nil
		})
	cmd.Flags().StringVar(&owner, "user", "", "also remove it from this person's routes")
	return cmd
}

func notebooksReap(e *notebooksEnv) *cobra.Command {
	var idle time.Duration
	var apply bool
	cmd := e.command("reap [--idle 2h] [--apply]", "Stop InService notebooks nobody opened for --idle (a dry run without --apply)", cobra.NoArgs,
		func(cmd *cobra.Command, _ []string) error {
			if idle == 0 {
				idle = e.cfg.Notebooks.Reaper.Idle.D()
			}
			lobs, err := e.lobs(cmd.Context())
			if err != nil {
				return err
			}
			found, err := e.nb.Manager.Reap(cmd.Context(), lobs, notebooks.ReapOptions{Idle: idle, Apply: apply})
			slices.SortFunc(found, func(a, b notebooks.IdleNotebook) int {
				return cmp.Or(cmp.Compare(a.LOB, b.LOB), cmp.Compare(a.Name, b.Name))
			})
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "LOB\tACCOUNT\tNOTEBOOK\tOWNER\tIDLE\tLAST USED\tACTION")
			for _, n := range found {
				action := "would stop (dry run; --apply stops)"
				switch {
				case n.Stopped:
					action = "stopped"
				case n.Err != nil:
					action = "failed: " + n.Err.Error()
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s (%s)\t%s\n", n.LOB, n.Account, n.Name, cmp.Or(n.Owner, "-"),
					n.Idle.Round(time.Minute), n.LastUsed.UTC().Format(time.RFC3339), n.From, action)
			}
			if ferr := tw.Flush(); ferr != nil {
				return ferr
			}
			if len(found) == 0 {
				fmt.Fprintf(cmd.OutOrStdout(), "no notebook has been idle for %s\n", idle)
			}
			return err
		})
	cmd.Flags().DurationVar(&idle, "idle", 0, "how long a notebook may go unopened (default notebooks.reaper.idle, 2h)")
	cmd.Flags().BoolVar(&apply, "apply", false, "stop them; without it nothing is changed")
	return cmd
}
