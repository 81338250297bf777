package events

import (
	"context"
	"fmt"
	"time"

	lambdaevents "github.com/aws/aws-lambda-go/events"
)

// Scheduled events: an EventBridge rule with a schedule expression, or
// EventBridge Scheduler, invoking the events function on a timer (sagegate
// stops idle notebooks that way).
const (
	SourceEvents        = "aws.events"
	SourceScheduler     = "aws.scheduler"
	DetailTypeScheduled = "Scheduled Event"
)

// ScheduleHandler runs on each scheduled event. An error makes Lambda
// retry the invocation, so the work must be safe to repeat.
type ScheduleHandler interface {
	Scheduled(ctx context.Context, e Scheduled) error
}

// Scheduled is one scheduled invocation.
type Scheduled struct {
	EventID string
	Time    time.Time
	// Resources are the rule or schedule ARNs that fired.
	Resources []string
}

func isScheduled(ev lambdaevents.EventBridgeEvent) bool {
	return ev.DetailType == DetailTypeScheduled && (ev.Source == SourceEvents || ev.Source == SourceScheduler)
}

func (h *Handler) scheduled(ctx context.Context, ev lambdaevents.EventBridgeEvent) (Result, error) {
	if h.schedule == nil {
		h.log.InfoContext(ctx, "scheduled event received; no handler is configured", "eventId", ev.ID, "resources", ev.Resources)
		return Result{EventID: ev.ID, Outcome: "unhandled"}, nil
	}
	if err := h.schedule.Scheduled(ctx, Scheduled{EventID: ev.ID, Time: ev.Time, Resources: ev.Resources}); err != nil {
		h.log.ErrorContext(ctx, "scheduled handler failed", "eventId", ev.ID, "err", err)
		return Result{}, fmt.Errorf("event %s: %w", ev.ID, err)
	}
	return Result{EventID: ev.ID, Outcome: "handled"}, nil
}
