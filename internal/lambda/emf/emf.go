// Package emf publishes sagegate's metrics in Lambda as CloudWatch embedded
// metric format (EMF) records: one JSON line per audit event on stdout,
// which CloudWatch Logs turns into metrics. A Lambda function needs no agent
// and makes no PutMetricData call (no latency, no permission) this way.
//
// The metrics come from the audit trail, so every decision the gateway
// records is counted exactly once and the two can never disagree:
//
//   - Launches and LaunchLatency (Milliseconds) per Outcome, for launches;
//   - Authorizations and AuthorizationLatency per Outcome, for the Lambda
//     authorizer's decisions;
//   - Errors per ErrorCode, for every refused or failed decision (the same
//     stable codes as the API's problem+json `code`).
package emf

import (
	"context"
	"encoding/json"
	"io"
	"sync"

	"github.com/sagegate/sagegate/internal/audit"
)

// Audit actions that have their own metrics.
const (
	ActionLaunch    = "launch"
	ActionAuthorize = "authorize"
)

// Sink is an audit.Sink that writes an EMF record for each event, after
// passing the event on to the next sink.
type Sink struct {
	next      audit.Sink
	namespace string

	mu sync.Mutex // one Write per line, never two lines interleaved
	w  io.Writer
}

var _ audit.Sink = (*Sink)(nil)

// NewSink writes records under namespace to w and forwards every event to
// next (nil: the audit trail is not kept, only metrics).
func NewSink(next audit.Sink, w io.Writer, namespace string) *Sink {
	if next == nil {
		next = audit.Discard{}
	}
	return &Sink{next: next, namespace: namespace, w: w}
}

// Record implements audit.Sink.
func (s *Sink) Record(ctx context.Context, e audit.Event) {
	s.next.Record(ctx, e)
	line, ok := Marshal(s.namespace, e)
	if !ok {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	// Metrics are best effort: a full stdout must not fail a launch.
	_, _ = s.w.Write(line)
}

type metric struct {
	Name string `json:"Name"`
	Unit string `json:"Unit"`
}

type directive struct {
	Namespace  string     `json:"Namespace"`
	Dimensions [][]string `json:"Dimensions"`
	Metrics    []metric   `json:"Metrics"`
}

type metadata struct {
	Timestamp         int64       `json:"Timestamp"`
	CloudWatchMetrics []directive `json:"CloudWatchMetrics"`
}

// Marshal is the EMF line (with its newline) for e, and false when e has
// no metric (a granted decision of an action without its own metrics).
func Marshal(namespace string, e audit.Event) ([]byte, bool) {
	rec := map[string]any{}
	var ds []directive
	var count, latency string
	switch e.Action {
	case ActionLaunch:
		count, latency = "Launches", "LaunchLatency"
	case ActionAuthorize:
		count, latency = "Authorizations", "AuthorizationLatency"
	}
	if count != "" {
		ds = append(ds, directive{
			Namespace: namespace, Dimensions: [][]string{{"Outcome"}},
			Metrics: []metric{{count, "Count"}, {latency, "Milliseconds"}},
		})
		rec[count] = 1
		rec[latency] = float64(e.Latency.Microseconds()) / 1000
	}
	if e.ErrorCode != "" {
		ds = append(ds, directive{
			Namespace: namespace, Dimensions: [][]string{{"ErrorCode"}},
			Metrics: []metric{{"Errors", "Count"}},
		})
		rec["ErrorCode"] = e.ErrorCode
		rec["Errors"] = 1
	}
	if len(ds) == 0 {
		return nil, false
	}
	rec["_aws"] = metadata{Timestamp: e.Time.UnixMilli(), CloudWatchMetrics: ds}
	rec["Outcome"] = e.Outcome
	rec["Action"] = e.Action
	// Searchable in CloudWatch Logs Insights, never dimensions (their
	// cardinality is unbounded). The user stays in the audit trail.
	if e.RequestID != "" {
		rec["requestId"] = e.RequestID
	}
	if e.Target != "" {
		rec["target"] = e.Target
	}
	b, err := json.Marshal(rec)
	if err != nil {
		return nil, false
	}
	return append(b, '\n'), true
}
