package admin

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/sagegate/sagegate/internal/routing"
)

// PrintList writes the records of r as tables, one per kind in kinds
// ("lobs", "users", "groups"), and r's invalid records to errw.
func PrintList(w, errw io.Writer, r Routes, kinds ...string) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	for i, kind := range kinds {
		if i > 0 {
			fmt.Fprintln(tw)
		}
		switch kind {
		case "lobs":
			fmt.Fprintln(tw, "LOB\tACCOUNT\tREGION\tDOMAIN\tROLE\tJIT\tLABEL")
			for _, l := range r.LOBs {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", l.Name, l.AccountID, dash(l.Region), orText(l.DomainID, "(discover)"), dash(l.RoleARN), yes(l.JITProfiles), dash(l.Label))
			}
		case "users":
			fmt.Fprintln(tw, "USER\tLOBS\tPROFILE\tDISABLED")
			for _, u := range r.Users {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", u.Name, dash(strings.Join(u.LOBs, ",")), dash(u.Profile), yes(u.Disabled))
			}
		case "groups":
			fmt.Fprintln(tw, "GROUP\tLOBS")
			for _, g := range r.Groups {
				fmt.Fprintf(tw, "%s\t%s\n", g.Name, dash(strings.Join(g.LOBs, ",")))
			}
		default:
			return fmt.Errorf("unknown kind %q (want lobs, users or groups)", kind)
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, bad := range r.Invalid {
		fmt.Fprintf(errw, "invalid %s\n", bad.Error())
	}
	return nil
}

// PrintUser writes a user's record and the targets it resolves to.
func PrintUser(w io.Writer, u routing.User, found bool, groups []string, targets []routing.Target) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	if found {
		fmt.Fprintf(tw, "user:\t%s\nlobs:\t%s\nprofile:\t%s\ndisabled:\t%s\n", u.Name, dash(strings.Join(u.LOBs, ",")), dash(u.Profile), yes(u.Disabled))
	} else {
		fmt.Fprintf(tw, "user:\t%s (no record: only groups route them)\n", u.Name)
	}
	if len(groups) > 0 {
		fmt.Fprintf(tw, "groups:\t%s\n", strings.Join(groups, ","))
	}
	if len(targets) == 0 {
		fmt.Fprintln(tw, "targets:\tnone")
		return tw.Flush()
	}
	fmt.Fprintln(tw, "\nTARGET\tACCOUNT\tREGION\tDOMAIN\tPROFILE\tSPACE\tJIT")
	for _, t := range targets {
		domain := orText(t.DomainID, "(discover)")
		if t.Kind == routing.KindNotebook {
			// A notebook has no domain or profile: say what it is instead.
			domain = "notebook " + t.NotebookInstance
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", t.ID, t.AccountID, t.Region, domain, dash(t.UserProfile), dash(t.Space), yes(t.JITProfiles))
	}
	return tw.Flush()
}

// PrintReport writes a check's report, one block per LOB, problems marked.
func PrintReport(w io.Writer, r Report) error {
	for _, p := range r.Problems {
		fmt.Fprintf(w, "PROBLEM  %s\n", p)
	}
	for _, l := range r.LOBs {
		status := "ok"
		if len(l.Problems) > 0 {
			status = "PROBLEM"
		}
		d := l.Domain
		domain := orText(d.ID, "?")
		if d.Discovered {
			domain += " (discovered)"
		}
		fmt.Fprintf(w, "%-8s %s: account %s, %s, domain %s, status %s, auth %s, %d user(s), %d without a profile",
			status, l.LOB, l.AccountID, l.Region, domain, orText(d.Status, "?"), orText(d.AuthMode, "?"), l.Users, len(l.Missing))
		if l.JIT && len(l.Missing) > 0 {
			fmt.Fprint(w, " (created on first launch)")
		}
		fmt.Fprintln(w)
		for _, p := range l.Problems {
			fmt.Fprintf(w, "         - %s\n", p)
		}
	}
	_, err := fmt.Fprintf(w, "%d LOB(s) checked, %d problem(s)\n", len(r.LOBs), r.count())
	return err
}

func (r Report) count() int {
	n := len(r.Problems)
	for _, l := range r.LOBs {
		n += len(l.Problems)
	}
	return n
}

// PrintChanges writes the changes of an import, one per line.
func PrintChanges(w io.Writer, changes []Change) error {
	for _, c := range changes {
		if _, err := fmt.Fprintln(w, c.String()); err != nil {
			return err
		}
	}
	return nil
}

func dash(s string) string { return orText(s, "-") }

func orText(s, alt string) string {
	if s == "" {
		return alt
	}
	return s
}

func yes(b bool) string {
	if b {
		return "yes"
	}
	return "-"
}
