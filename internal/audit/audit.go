// Package audit records one event per launch decision, granted or denied.
//
// Audit records go to their own logger (never the operational log) so they
// can be shipped and retained separately. An Event has no field that could
// hold a presigned URL or a token: the type itself is the guarantee that
// secrets never reach the audit trail.
package audit

import (
	"context"
	"io"
	"log/slog"
	"time"
)

// Outcomes.
const (
	Granted = "granted"
	Denied  = "denied"
	Failed  = "failed"
)

// Event is one launch decision.
type Event struct {
	Time      time.Time
	RequestID string
	Action    string // "launch", "targets", ...
	User      string
	Subject   string
	Issuer    string
	SourceIP  string
	Target    string
	Account   string
	Region    string
	Domain    string
	Profile   string
	Outcome   string
	ErrorCode string
	Latency   time.Duration
}

// Sink receives audit events.
type Sink interface {
	Record(ctx context.Context, e Event)
}

// Logger writes each Event as one JSON line.
type Logger struct {
	log *slog.Logger
}

// NewLogger writes JSON lines to w. The writer is dedicated to audit
// records; slog's handler serialises writes, so lines never interleave.
func NewLogger(w io.Writer) *Logger {
	h := slog.NewJSONHandler(w, &slog.HandlerOptions{
		ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
			// The level and message carry no information for audit records.
			if len(groups) == 0 && (a.Key == slog.LevelKey || a.Key == slog.MessageKey) {
				return slog.Attr{}
			}
			return a
		},
	})
	return &Logger{log: slog.New(h)}
}

// Record writes e. Empty optional fields are left out to keep lines short.
func (l *Logger) Record(ctx context.Context, e Event) {
	attrs := make([]slog.Attr, 0, 16)
	add := func(k, v string) {
		if v != "" {
			attrs = append(attrs, slog.String(k, v))
		}
	}
	add("requestId", e.RequestID)
	add("action", e.Action)
	add("user", e.User)
	add("subject", e.Subject)
	add("issuer", e.Issuer)
	add("sourceIp", e.SourceIP)
	add("target", e.Target)
	add("account", e.Account)
	add("region", e.Region)
	add("domain", e.Domain)
	add("profile", e.Profile)
	add("outcome", e.Outcome)
	add("errorCode", e.ErrorCode)
	attrs = append(attrs, slog.Float64("latencyMs", float64(e.Latency.Microseconds())/1000))
	r := slog.NewRecord(e.Time, slog.LevelInfo, "", 0)
	r.AddAttrs(attrs...)
	_ = l.log.Handler().Handle(ctx, r)
}

// Discard drops every event.
type Discard struct{}

// Record implements Sink.
func (Discard) Record(context.Context, Event) {}
