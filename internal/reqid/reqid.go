// Package reqid carries a request id through a context and into every log
// line written with that context, so one request can be followed across
// the access log, the operational log and the audit trail.
package reqid

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"regexp"
)

type ctxKey struct{}

// Header is where request ids travel.
const Header = "X-Request-Id"

// An incoming id is reused only if it is short (8 to 64 characters) and
// plain, so a caller can correlate with its own logs but cannot inject
// text into ours. The length is checked apart: a counted repetition in a
// regexp compiles to a copy of its class per count, tens of KB kept by
// every process.
var acceptable = regexp.MustCompile(`^[A-Za-z0-9._:-]+$`)

// New returns a fresh random id.
func New() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// FromHeader returns the caller's id when acceptable, else a fresh one.
func FromHeader(v string) string {
	if len(v) >= 8 && len(v) <= 64 && acceptable.MatchString(v) {
		return v
	}
	return New()
}

// With returns ctx carrying id.
func With(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, ctxKey{}, id)
}

// From returns the id in ctx, or "".
func From(ctx context.Context) string {
	id, _ := ctx.Value(ctxKey{}).(string)
	return id
}

// Handler adds a requestId attribute to every record logged with a context
// that carries one.
type Handler struct{ slog.Handler }

// Handle implements slog.Handler.
func (h Handler) Handle(ctx context.Context, r slog.Record) error {
	if id := From(ctx); id != "" {
		r.AddAttrs(slog.String("requestId", id))
	}
	return h.Handler.Handle(ctx, r)
}

// WithAttrs implements slog.Handler.
func (h Handler) WithAttrs(as []slog.Attr) slog.Handler { return Handler{h.Handler.WithAttrs(as)} }

// WithGroup implements slog.Handler.
func (h Handler) WithGroup(name string) slog.Handler { return Handler{h.Handler.WithGroup(name)} }
