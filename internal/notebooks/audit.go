package notebooks

import (
	"context"
	"time"

	"github.com/sagegate/sagegate/internal/audit"
	"github.com/sagegate/sagegate/internal/identity"
	"github.com/sagegate/sagegate/internal/reqid"
	"github.com/sagegate/sagegate/internal/routing"
)

// Audit actions of notebook decisions. Launches (a URL minted) are the
// server's "launch" records.
const (
	ActionStart  = "notebook_start"
	ActionStop   = "notebook_stop"
	ActionCreate = "notebook_create"
	ActionDelete = "notebook_delete"
	ActionRecord = "notebook_record"
)

type sourceKey struct{}

// WithSourceIP returns ctx carrying the address of the person a decision
// is made for, for the audit records of work that outlives their request.
func WithSourceIP(ctx context.Context, ip string) context.Context {
	return context.WithValue(ctx, sourceKey{}, ip)
}

// record writes the audit event of one decision about t.
func (m *Manager) record(ctx context.Context, action string, p *identity.Principal, t routing.Target, start time.Time, err error) {
	ip, _ := ctx.Value(sourceKey{}).(string)
	e := audit.Event{
		Time: m.now(), RequestID: reqid.From(ctx), Action: action, SourceIP: ip,
		Target: t.ID, Account: t.AccountID, Region: t.Region,
		Latency: m.now().Sub(start),
	}
	if p != nil {
		e.User, e.Subject, e.Issuer = p.Username, p.Subject, p.Issuer
	}
	e.SetResult(err)
	m.audit.Record(ctx, e)
}
