package routing

import (
	"errors"
	"net/url"
	"strings"
	"testing"
	"time"
)

// FuzzLOB drives normalisation and validation of a LOB record with
// arbitrary field values. Whatever Validate accepts becomes a target id in
// URL paths and parameters of AWS calls, so an accepted LOB must satisfy
// AWS's constraints and be a safe path segment; a refused one is refused
// with field errors that never echo the external id.
func FuzzLOB(f *testing.F) {
	// Seeds are in testdata/fuzz/FuzzLOB.
	f.Fuzz(func(t *testing.T, name, account, region, domain, role, external, rule, space, landing string, session, lifetime int64) {
		l := LOB{
			Name: name, AccountID: account, Region: region, DomainID: domain, RoleARN: role, ExternalID: external,
			ProfileRule: rule, Space: space, LandingURI: landing,
			SessionDuration: Duration(session), URLLifetime: Duration(lifetime),
		}
		l.Normalize(Defaults{Region: "us-east-1"})
		errs := l.Validate()
		for _, err := range errs {
			var fe *FieldError
			if !errors.As(err, &fe) || fe.Field == "" || fe.Msg == "" {
				t.Fatalf("not a field error: %v", err)
			}
			if len(external) >= 8 && !strings.Contains(name+account+region+domain+role+rule+space+landing, external) && strings.Contains(err.Error(), external) {
				t.Fatalf("the external id is echoed: %v", err)
			}
		}
		if len(errs) > 0 {
			return
		}
		// Accepted: the name is a target id and a path segment.
		if name == "" || url.PathEscape(name) != name || strings.ContainsAny(name, "/?#%") || name == "." || name == ".." {
			t.Fatalf("accepted LOB name %q is not a safe path segment", name)
		}
		if len(l.AccountID) != 12 || strings.Trim(l.AccountID, "0123456789") != "" {
			t.Fatalf("accepted account id %q", l.AccountID)
		}
		wantPrefix := "arn:" + Partition(l.Region) + ":iam::" + l.AccountID + ":role/"
		if !strings.HasPrefix(l.RoleARN, wantPrefix) || len(l.RoleARN) == len(wantPrefix) {
			t.Fatalf("accepted role %q outside the LOB's account and partition (%s)", l.RoleARN, wantPrefix)
		}
		if l.DomainID != "" && (!strings.HasPrefix(l.DomainID, "d-") || len(l.DomainID) > 63 || strings.ToLower(l.DomainID) != l.DomainID) {
			t.Fatalf("accepted domain id %q", l.DomainID)
		}
		sd, ul := time.Duration(l.SessionDuration), time.Duration(l.URLLifetime)
		if sd < 1800*time.Second || sd > 43200*time.Second || sd%time.Second != 0 || ul < 5*time.Second || ul > 300*time.Second || ul%time.Second != 0 {
			t.Fatalf("accepted durations session %v, URL %v outside what SageMaker takes", sd, ul)
		}
		if l.Space != "" && !ValidProfileName(l.Space) {
			t.Fatalf("accepted space %q", l.Space)
		}
		target := newTarget(l, "alice")
		if target.ID != name {
			t.Fatalf("target id %q for LOB %q", target.ID, name)
		}
		if _, ok := FindTarget([]Target{target}, name); !ok {
			t.Fatalf("FindTarget misses %q", name)
		}
		for _, near := range []string{strings.ToUpper(name), name + "/", " " + name, name + "\x00"} {
			if _, ok := FindTarget([]Target{target}, near); ok && near != name {
				t.Fatalf("FindTarget(%q) matched target %q", near, name)
			}
		}
	})
}
