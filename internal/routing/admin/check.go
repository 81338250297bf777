package admin

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/sagegate/sagegate/internal/broker"
	"github.com/sagegate/sagegate/internal/identity"
	"github.com/sagegate/sagegate/internal/problem"
	"github.com/sagegate/sagegate/internal/routing"
)

// CheckIdentity is who check acts as: the session name and SourceIdentity
// of its AssumeRole calls, so CloudTrail shows what a check did.
const CheckIdentity = "sagegate-routes-check"

// Inspector is the AWS side of a check; *broker.Broker is one.
type Inspector interface {
	Domain(ctx context.Context, p *identity.Principal, t routing.Target) (broker.Domain, error)
	UserProfiles(ctx context.Context, p *identity.Principal, t routing.Target, domainID string) (map[string]string, error)
}

// LOBReport is what check found for one LOB.
type LOBReport struct {
	LOB       string
	AccountID string
	Region    string
	Domain    broker.Domain
	// Users is how many enabled users name the LOB directly; Missing are
	// those of them without a user profile in the domain.
	Users    int
	Missing  []string
	JIT      bool
	Problems []string
}

// Report is the outcome of a check.
type Report struct {
	LOBs []LOBReport
	// Problems are those of the routes themselves: invalid records and
	// references to LOBs that do not exist.
	Problems []string
}

// OK reports whether the check found no problem.
func (r Report) OK() bool { return r.count() == 0 }

// maxNamed bounds how many users a problem names; the rest are counted.
const maxNamed = 10

// Check checks the routes of s and, for every LOB, its account through in:
// the access role can be assumed, the domain exists (or is discovered), is
// InService and uses IAM authentication, and every enabled user routed to
// it directly has a user profile, unless the LOB creates profiles just in
// time. Group members come from the identity provider and are not known
// here. Failures of one LOB are reported and the check goes on.
func Check(ctx context.Context, s routing.Store, in Inspector) (Report, error) {
	routes, err := ReadAll(ctx, s)
	if err != nil {
		return Report{}, err
	}
	var rep Report
	for _, r := range routes.Invalid {
		rep.Problems = append(rep.Problems, r.Error())
	}
	known := map[string]bool{}
	for _, l := range routes.LOBs {
		known[l.Name] = true
	}
	for _, r := range routes.Invalid {
		if r.Kind == routing.KindLOB {
			known[r.Key] = true // reported already
		}
	}
	for _, u := range routes.Users {
		for _, l := range u.LOBs {
			if !known[l] {
				rep.Problems = append(rep.Problems, fmt.Sprintf("user %q names LOB %q, which does not exist", u.Name, l))
			}
		}
	}
	for _, g := range routes.Groups {
		for _, l := range g.LOBs {
			if !known[l] {
				rep.Problems = append(rep.Problems, fmt.Sprintf("group %q names LOB %q, which does not exist", g.Name, l))
			}
		}
	}
	p := &identity.Principal{Username: CheckIdentity}
	for _, l := range routes.LOBs {
		if err := ctx.Err(); err != nil {
			return Report{}, err
		}
		rep.LOBs = append(rep.LOBs, checkLOB(ctx, in, p, l, routes.Users))
	}
	return rep, nil
}

func checkLOB(ctx context.Context, in Inspector, p *identity.Principal, l routing.LOB, users []routing.User) LOBReport {
	r := LOBReport{LOB: l.Name, AccountID: l.AccountID, Region: l.Region, JIT: l.JITProfiles}
	t, err := routing.TargetFor(l, "", p.Username)
	if err != nil {
		r.Problems = append(r.Problems, err.Error())
		return r
	}
	r.Domain, err = in.Domain(ctx, p, t)
	if err != nil {
		r.Problems = append(r.Problems, detail(err))
		return r
	}
	if r.Domain.Status != "InService" {
		r.Problems = append(r.Problems, fmt.Sprintf("domain %s is %s, not InService", r.Domain.ID, r.Domain.Status))
	}
	if r.Domain.AuthMode != "IAM" {
		r.Problems = append(r.Problems, fmt.Sprintf("domain %s uses %s authentication; presigned URLs need IAM", r.Domain.ID, r.Domain.AuthMode))
	}
	profiles, err := in.UserProfiles(ctx, p, t, r.Domain.ID)
	if err != nil {
		r.Problems = append(r.Problems, detail(err))
		return r
	}
	for _, u := range users {
		if u.Disabled || !slices.Contains(u.LOBs, l.Name) {
			continue
		}
		r.Users++
		ut, err := routing.TargetFor(l, u.Profile, u.Name)
		if err != nil {
			r.Problems = append(r.Problems, fmt.Sprintf("user %q: %v", u.Name, err))
			continue
		}
		if _, ok := profiles[ut.UserProfile]; !ok {
			r.Missing = append(r.Missing, u.Name+" ("+ut.UserProfile+")")
		}
	}
	if len(r.Missing) > 0 && !l.JITProfiles {
		r.Problems = append(r.Problems, fmt.Sprintf("%d user(s) without a user profile: %s", len(r.Missing), named(r.Missing)))
	}
	return r
}

// detail is the sentence of a problem, or the error's text.
func detail(err error) string {
	var pe *problem.Error
	if errors.As(err, &pe) {
		return pe.Detail
	}
	return err.Error()
}

func named(names []string) string {
	if len(names) <= maxNamed {
		return strings.Join(names, ", ")
	}
	return strings.Join(names[:maxNamed], ", ") + fmt.Sprintf(" and %d more", len(names)-maxNamed)
}
