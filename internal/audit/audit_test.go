package audit

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"
)

func TestLoggerWritesOneJSONLinePerEvent(t *testing.T) {
	var buf bytes.Buffer
	l := NewLogger(&buf)
	at := time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)
	l.Record(context.Background(), Event{Time: at, RequestID: "r1", Action: "launch", User: "alice", Target: "lob-a", Account: "111111111111", Outcome: Granted, Latency: 1500 * time.Microsecond})
	l.Record(context.Background(), Event{Time: at, RequestID: "r2", Action: "launch", User: "bob", Outcome: Denied, ErrorCode: "forbidden"})

	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("want 2 lines, got %d: %q", len(lines), buf.String())
	}
	var first map[string]any
	if err := json.Unmarshal([]byte(lines[0]), &first); err != nil {
		t.Fatal(err)
	}
	for k, want := range map[string]any{"requestId": "r1", "user": "alice", "target": "lob-a", "account": "111111111111", "outcome": "granted", "latencyMs": 1.5, "time": "2026-11-21T12:00:00Z"} {
		if first[k] != want {
			t.Errorf("%s = %v, want %v", k, first[k], want)
		}
	}
	if _, ok := first["msg"]; ok {
		t.Error("audit line carries an empty msg field")
	}
	var second map[string]any
	if err := json.Unmarshal([]byte(lines[1]), &second); err != nil {
		t.Fatal(err)
	}
	if second["errorCode"] != "forbidden" || second["outcome"] != "denied" {
		t.Errorf("denied event = %v", second)
	}
	if _, ok := second["account"]; ok {
		t.Error("empty account should be omitted")
	}
}
