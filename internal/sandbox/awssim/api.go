package awssim

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"strings"
)

// maxBodyBytes bounds request bodies; real STS and SageMaker requests are a
// few kilobytes.
const maxBodyBytes = 1 << 20

// call is one API request in flight: what will be counted and logged.
type call struct {
	requestID string
	rec       CallRecord
}

// APIHandler serves the AWS endpoint for both STS and SageMaker. Point the
// SDK's BaseEndpoint (or the CLI's --endpoint-url) for both services at the
// URL where it is mounted; any mount prefix works.
func (s *Simulator) APIHandler() http.Handler {
	return http.HandlerFunc(s.serveAPI)
}

func (s *Simulator) serveAPI(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	c := &call{requestID: requestID()}
	c.rec.Time = s.now().UTC()
	c.rec.RequestID = c.requestID
	w.Header().Set("X-Amzn-RequestId", c.requestID)
	// The SDK estimates clock skew from every response's Date header and
	// signs later requests accordingly; answering with the simulator's own
	// clock keeps a moved test clock and the SDK's signing time in step.
	w.Header().Set("Date", c.rec.Time.Format(http.TimeFormat))

	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBodyBytes))
	if target := r.Header.Get("X-Amz-Target"); target != "" {
		if strings.HasPrefix(target, "AmazonSSM.") {
			s.serveSSM(ctx, w, r, c, target, body, err)
			return
		}
		s.serveSageMaker(ctx, w, r, c, target, body, err)
		return
	}
	s.serveSTS(ctx, w, r, c, body, err)
}

// finish counts and logs a call once its outcome is known, after any
// injected latency. Calls are counted whether they succeed or fail.
func (s *Simulator) finish(ctx context.Context, c *call, e *apiError) {
	s.faults.delay(ctx, &c.rec)
	defer abortIfReset(e)
	level := slog.LevelInfo
	if e != nil {
		c.rec.Error = e.code
		level = slog.LevelWarn
	}
	s.calls.record(c.rec)
	attrs := []slog.Attr{
		slog.String("service", c.rec.Service),
		slog.String("operation", c.rec.Operation),
		slog.String("account", c.rec.Account),
		slog.String("request_id", c.requestID),
	}
	if c.rec.Caller != "" {
		attrs = append(attrs, slog.String("caller", c.rec.Caller))
	}
	if c.rec.SourceIdentity != "" {
		attrs = append(attrs, slog.String("source_identity", c.rec.SourceIdentity))
	}
	if c.rec.DomainID != "" {
		attrs = append(attrs, slog.String("domain", c.rec.DomainID), slog.String("profile", c.rec.UserProfile))
	}
	if e != nil {
		attrs = append(attrs, slog.String("error", e.code), slog.String("message", e.msg))
	}
	s.log.LogAttrs(ctx, level, "awssim call", attrs...)
}

// setPrincipal copies who made the call into its record.
func (c *call) setPrincipal(p *principal) {
	c.rec.Account = p.accountID
	c.rec.Region = p.region
	c.rec.Caller = p.arn
	c.rec.RoleSessionName = p.sessionName
	c.rec.SourceIdentity = p.sourceIdentity
}
