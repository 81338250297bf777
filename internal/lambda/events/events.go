// Package events is sagegate's EventBridge handler: the Service Catalog
// ProvisionProduct calls that CloudTrail records (a person provisioning a
// notebook product, say) reach a ProvisionHandler; every other event is
// ignored with a log line. What a provisioning means is the business of
// whoever implements ProvisionHandler.
package events

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"time"

	lambdaevents "github.com/aws/aws-lambda-go/events"
)

// What a ProvisionProduct event looks like on EventBridge.
const (
	SourceServiceCatalog  = "aws.servicecatalog"
	DetailTypeCloudTrail  = "AWS API Call via CloudTrail"
	EventProvisionProduct = "ProvisionProduct"
)

// ProvisionHandler acts on a successful ProvisionProduct call.
// EventBridge delivers at least once: the same EventID may come twice.
// An error makes Lambda retry the event (and then send it to the
// function's on-failure destination), so return one only for failures
// that a retry may fix.
type ProvisionHandler interface {
	ProvisionProduct(ctx context.Context, e ProvisionProduct) error
}

// ProvisionProduct is one successful ProvisionProduct call.
type ProvisionProduct struct {
	// EventID is the EventBridge event id, for deduplication.
	EventID string
	// Time the call was made (CloudTrail's eventTime).
	Time time.Time
	// Account and Region where the product was provisioned.
	Account, Region string
	Caller          Caller

	ProductID              string
	ProvisioningArtifactID string
	PathID                 string
	ProvisionedProductName string
	// ProvisionedProductID and RecordID come from the response: the
	// record tracks the provisioning, which is still running.
	ProvisionedProductID string
	RecordID             string
	Status               string
	// Parameters are the provisioning parameters. CloudTrail hides the
	// values of NoEcho parameters.
	Parameters map[string]string
	Tags       map[string]string
}

// Caller is who made the call (CloudTrail's userIdentity).
type Caller struct {
	Type        string // AssumedRole, IAMUser, ...
	PrincipalID string
	ARN         string
	AccountID   string
	// SourceIdentity is the identity the caller's role session carries;
	// sagegate stamps the username there.
	SourceIdentity string
}

// Options are the handler's dependencies.
type Options struct {
	// Provision receives ProvisionProduct calls. Nil logs and drops them.
	Provision ProvisionHandler
	// Schedule receives scheduled events (schedule.go). Nil ignores them.
	Schedule ScheduleHandler
	Logger   *slog.Logger
}

// Handler is a lambda.Handler for EventBridge events.
type Handler struct {
	provision ProvisionHandler
	schedule  ScheduleHandler
	log       *slog.Logger
}

// New builds a Handler.
func New(opts Options) *Handler {
	h := &Handler{provision: opts.Provision, schedule: opts.Schedule, log: opts.Logger}
	if h.log == nil {
		h.log = slog.New(slog.DiscardHandler)
	}
	return h
}

// Result is what Invoke answers, for logs and tests (EventBridge invokes
// asynchronously and reads nothing back).
type Result struct {
	EventID string `json:"eventId,omitempty"`
	// Outcome is handled, ignored or unhandled (no ProvisionHandler).
	Outcome string `json:"outcome"`
	Reason  string `json:"reason,omitempty"`
}

// Invoke implements lambda.Handler.
func (h *Handler) Invoke(ctx context.Context, payload []byte) ([]byte, error) {
	res, err := h.handle(ctx, payload)
	if err != nil {
		return nil, err
	}
	return json.Marshal(res)
}

func (h *Handler) handle(ctx context.Context, payload []byte) (Result, error) {
	var ev lambdaevents.EventBridgeEvent
	if err := json.Unmarshal(payload, &ev); err != nil || ev.DetailType == "" {
		// A retry cannot make it an event: log, do not fail.
		h.log.WarnContext(ctx, "event ignored: not an EventBridge event")
		return Result{Outcome: "ignored", Reason: "not an EventBridge event"}, nil
	}
	ignore := func(reason string) (Result, error) {
		h.log.InfoContext(ctx, "event ignored", "reason", reason, "eventId", ev.ID, "source", ev.Source, "detailType", ev.DetailType)
		return Result{EventID: ev.ID, Outcome: "ignored", Reason: reason}, nil
	}
	if isScheduled(ev) {
		return h.scheduled(ctx, ev)
	}
	if ev.Source != SourceServiceCatalog || ev.DetailType != DetailTypeCloudTrail {
		return ignore("not a Service Catalog API call")
	}
	var d detail
	if err := json.Unmarshal(ev.Detail, &d); err != nil {
		return ignore("CloudTrail detail is not readable")
	}
	if d.EventName != EventProvisionProduct {
		return ignore("not ProvisionProduct: " + d.EventName)
	}
	if d.ErrorCode != "" {
		// The call failed: nothing was provisioned.
		return ignore("the call failed: " + d.ErrorCode)
	}
	pp := d.provisionProduct(ev)
	log := h.log.With("eventId", pp.EventID, "account", pp.Account, "region", pp.Region,
		"product", pp.ProductID, "provisionedProduct", pp.ProvisionedProductID, "record", pp.RecordID,
		"caller", pp.Caller.ARN, "sourceIdentity", pp.Caller.SourceIdentity,
		// Parameter names only: values may be secrets.
		"parameters", slices.Sorted(maps.Keys(pp.Parameters)))
	if h.provision == nil {
		log.InfoContext(ctx, "ProvisionProduct received; no handler is configured")
		return Result{EventID: ev.ID, Outcome: "unhandled"}, nil
	}
	if err := h.provision.ProvisionProduct(ctx, pp); err != nil {
		log.ErrorContext(ctx, "ProvisionProduct handler failed", "err", err)
		return Result{}, fmt.Errorf("event %s: %w", ev.ID, err)
	}
	log.InfoContext(ctx, "ProvisionProduct handled")
	return Result{EventID: ev.ID, Outcome: "handled"}, nil
}
