package emf_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/sagegate/sagegate/internal/audit"
	"github.com/sagegate/sagegate/internal/lambda/emf"
	"github.com/sagegate/sagegate/internal/testutil"
)

type record struct {
	AWS struct {
		Timestamp         int64
		CloudWatchMetrics []struct {
			Namespace  string
			Dimensions [][]string
			Metrics    []struct{ Name, Unit string }
		}
	} `json:"_aws"`
}

func decode(t *testing.T, line string) (record, map[string]any) {
	t.Helper()
	var r record
	var m map[string]any
	if err := json.Unmarshal([]byte(line), &r); err != nil {
		t.Fatal(err)
	}
	_ = json.Unmarshal([]byte(line), &m)
	return r, m
}

var at = time.Date(2026, 11, 21, 15, 15, 44, 617e6, time.UTC)

func TestLaunchMetrics(t *testing.T) {
	line, ok := emf.Marshal("sagegate", audit.Event{Time: at, Action: "launch", Outcome: audit.Granted, Latency: 12500 * time.Microsecond, RequestID: "r1", Target: "lob-a", User: "alice"})
	if !ok || !strings.HasSuffix(string(line), "}\n") || strings.Count(string(line), "\n") != 1 {
		t.Fatalf("line %q", line)
	}
	r, m := decode(t, string(line))
	if r.AWS.Timestamp != at.UnixMilli() || len(r.AWS.CloudWatchMetrics) != 1 {
		t.Fatalf("metadata %+v", r.AWS)
	}
	d := r.AWS.CloudWatchMetrics[0]
	if d.Namespace != "sagegate" || len(d.Dimensions) != 1 || strings.Join(d.Dimensions[0], ",") != "Outcome" ||
		len(d.Metrics) != 2 || d.Metrics[0].Name != "Launches" || d.Metrics[0].Unit != "Count" || d.Metrics[1].Name != "LaunchLatency" || d.Metrics[1].Unit != "Milliseconds" {
		t.Errorf("directive %+v", d)
	}
	if m["Launches"] != 1.0 || m["LaunchLatency"] != 12.5 || m["Outcome"] != "granted" || m["target"] != "lob-a" || m["requestId"] != "r1" {
		t.Errorf("fields %v", m)
	}
	if _, ok := m["user"]; ok {
		t.Error("the user is in the metrics")
	}
}

func TestErrorsByCode(t *testing.T) {
	line, ok := emf.Marshal("ns", audit.Event{Time: at, Action: "launch", Outcome: audit.Denied, ErrorCode: "forbidden"})
	r, m := decode(t, string(line))
	if !ok || len(r.AWS.CloudWatchMetrics) != 2 || strings.Join(r.AWS.CloudWatchMetrics[1].Dimensions[0], ",") != "ErrorCode" || m["ErrorCode"] != "forbidden" || m["Errors"] != 1.0 {
		t.Errorf("line %s", line)
	}
	// Refused at authentication: no launch, but an error by code.
	line, ok = emf.Marshal("ns", audit.Event{Time: at, Action: "authenticate", Outcome: audit.Denied, ErrorCode: "token_expired"})
	r, m = decode(t, string(line))
	if !ok || len(r.AWS.CloudWatchMetrics) != 1 || m["Launches"] != nil || m["ErrorCode"] != "token_expired" {
		t.Errorf("line %s", line)
	}
	line, _ = emf.Marshal("ns", audit.Event{Time: at, Action: "authorize", Outcome: audit.Granted})
	if _, m = decode(t, string(line)); m["Authorizations"] != 1.0 {
		t.Errorf("line %s", line)
	}
	if _, ok := emf.Marshal("ns", audit.Event{Time: at, Action: "targets", Outcome: audit.Granted}); ok {
		t.Error("a metric for an action without metrics")
	}
}

type counter struct{ n int }

func (c *counter) Record(context.Context, audit.Event) { c.n++ }

func TestSinkForwardsAndWrites(t *testing.T) {
	var out testutil.SyncBuffer
	next := &counter{}
	s := emf.NewSink(next, &out, "sagegate")
	s.Record(context.Background(), audit.Event{Time: at, Action: "launch", Outcome: audit.Granted})
	s.Record(context.Background(), audit.Event{Time: at, Action: "targets", Outcome: audit.Granted})
	if next.n != 2 || strings.Count(out.String(), "\n") != 1 {
		t.Errorf("forwarded %d, wrote %q", next.n, out.String())
	}
}
