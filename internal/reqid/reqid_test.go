package reqid

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"
)

func TestFromHeader(t *testing.T) {
	for _, ok := range []string{"client-req-12345", "abcd1234", strings.Repeat("a", 64)} {
		if got := FromHeader(ok); got != ok {
			t.Errorf("acceptable id %q replaced: %q", ok, got)
		}
	}
	for _, bad := range []string{"", "short", "abcd123", strings.Repeat("a", 65), "has space in it", "line\nbreak-injected", string(make([]byte, 65))} {
		got := FromHeader(bad)
		if got == bad || !acceptable.MatchString(got) {
			t.Errorf("FromHeader(%q) = %q, want a fresh id", bad, got)
		}
	}
}

func TestHandlerAddsRequestID(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(Handler{slog.NewJSONHandler(&buf, nil)}).With("svc", "x")
	log.InfoContext(With(context.Background(), "abc12345"), "hello")
	log.InfoContext(context.Background(), "no id")
	dec := json.NewDecoder(&buf)
	var first, second map[string]any
	if err := dec.Decode(&first); err != nil {
		t.Fatal(err)
	}
	if err := dec.Decode(&second); err != nil {
		t.Fatal(err)
	}
	if first["requestId"] != "abc12345" || first["svc"] != "x" {
		t.Errorf("first = %v", first)
	}
	if _, ok := second["requestId"]; ok {
		t.Errorf("second = %v, want no requestId", second)
	}
}
