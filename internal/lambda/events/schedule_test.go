package events_test

import (
	"context"
	"errors"
	"testing"

	"github.com/sagegate/sagegate/internal/lambda/events"
)

type scheduleRecorder struct {
	got []events.Scheduled
	err error
}

func (r *scheduleRecorder) Scheduled(_ context.Context, e events.Scheduled) error {
	r.got = append(r.got, e)
	return r.err
}

func TestScheduledEvent(t *testing.T) {
	rec := &scheduleRecorder{}
	h := events.New(events.Options{Schedule: rec})
	out, err := h.Invoke(context.Background(), fixture(t, "eventbridge-scheduled-event.json"))
	if err != nil || result(t, out).Outcome != "handled" || len(rec.got) != 1 {
		t.Fatalf("answer %s, %v, %d calls", out, err, len(rec.got))
	}
	if e := rec.got[0]; e.EventID != "53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa" || len(e.Resources) != 1 || e.Time.IsZero() {
		t.Errorf("scheduled = %+v", e)
	}
	// A failure is returned, so Lambda retries.
	rec.err = errors.New("account unreachable")
	if _, err := h.Invoke(context.Background(), fixture(t, "eventbridge-scheduled-event.json")); err == nil {
		t.Error("a failed scheduled run was not reported")
	}
	// Without a handler it is acknowledged and ignored.
	out, err = events.New(events.Options{}).Invoke(context.Background(), fixture(t, "eventbridge-scheduled-event.json"))
	if err != nil || result(t, out).Outcome != "unhandled" {
		t.Errorf("no handler: %s, %v", out, err)
	}
}
