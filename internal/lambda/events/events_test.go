package events_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/sagegate/sagegate/internal/lambda/events"
)

type recorder struct {
	got []events.ProvisionProduct
	err error
}

func (r *recorder) ProvisionProduct(_ context.Context, e events.ProvisionProduct) error {
	r.got = append(r.got, e)
	return r.err
}

func fixture(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func result(t *testing.T, out []byte) events.Result {
	t.Helper()
	var r events.Result
	if err := json.Unmarshal(out, &r); err != nil {
		t.Fatal(err)
	}
	return r
}

func TestProvisionProduct(t *testing.T) {
	rec := &recorder{}
	h := events.New(events.Options{Provision: rec})
	out, err := h.Invoke(context.Background(), fixture(t, "eventbridge-provision-product.json"))
	if err != nil || result(t, out).Outcome != "handled" || len(rec.got) != 1 {
		t.Fatalf("answer %s, %v, %d calls", out, err, len(rec.got))
	}
	e := rec.got[0]
	want := events.ProvisionProduct{
		EventID: "6a7e8feb-b491-4cf7-a9f1-bf3703467718", Time: time.Date(2026, 11, 21, 15, 15, 40, 0, time.UTC),
		Account: "111111111111", Region: "us-east-1",
		Caller:    events.Caller{Type: "AssumedRole", PrincipalID: "AROAEXAMPLEROLEID:alice", ARN: "arn:aws:sts::111111111111:assumed-role/sagegate-access/alice", AccountID: "111111111111", SourceIdentity: "alice"},
		ProductID: "prod-abcdefghijklm", ProvisioningArtifactID: "pa-nopqrstuvwxyz", PathID: "lpv3-abcdefghijklm", ProvisionedProductName: "notebook-alice",
		ProvisionedProductID: "pp-abcdefghijklm", RecordID: "rec-abcdefghijklm", Status: "CREATED",
	}
	params, tags := e.Parameters, e.Tags
	e.Parameters, e.Tags = nil, nil
	if !reflect.DeepEqual(e, want) {
		t.Errorf("event\n got %+v\nwant %+v", e, want)
	}
	if params["InstanceType"] != "ml.t3.medium" || params["OwnerUsername"] != "alice" || tags["sagegate:user"] != "alice" {
		t.Errorf("parameters %v, tags %v", params, tags)
	}
}

func TestHandlerErrorIsRetried(t *testing.T) {
	h := events.New(events.Options{Provision: &recorder{err: errors.New("throttled")}})
	if _, err := h.Invoke(context.Background(), fixture(t, "eventbridge-provision-product.json")); err == nil || !strings.Contains(err.Error(), "throttled") {
		t.Errorf("err = %v", err)
	}
}

func TestIgnored(t *testing.T) {
	failed := strings.Replace(string(fixture(t, "eventbridge-provision-product.json")), `"eventName": "ProvisionProduct",`, `"eventName": "ProvisionProduct", "errorCode": "AccessDenied",`, 1)
	other := strings.Replace(string(fixture(t, "eventbridge-provision-product.json")), `"eventName": "ProvisionProduct"`, `"eventName": "TerminateProvisionedProduct"`, 1)
	rec := &recorder{}
	h := events.New(events.Options{Provision: rec})
	for name, payload := range map[string]string{
		"EC2":          string(fixture(t, "eventbridge-ec2-state-change.json")),
		"failed call":  failed,
		"other call":   other,
		"not JSON":     "{",
		"not an event": `{"type":"TOKEN"}`,
	} {
		out, err := h.Invoke(context.Background(), []byte(payload))
		if err != nil || result(t, out).Outcome != "ignored" {
			t.Errorf("%s: answer %s, %v", name, out, err)
		}
	}
	// A Service Catalog call whose CloudTrail detail is not an object.
	out, err := h.Invoke(context.Background(), []byte(`{"id":"e-1","source":"aws.servicecatalog","detail-type":"AWS API Call via CloudTrail","detail":"not an object"}`))
	if r := result(t, out); err != nil || r.Outcome != "ignored" || r.Reason != "CloudTrail detail is not readable" {
		t.Errorf("unreadable detail: answer %s, %v", out, err)
	}
	if len(rec.got) != 0 {
		t.Errorf("handler called %d times", len(rec.got))
	}
	out, err = events.New(events.Options{}).Invoke(context.Background(), fixture(t, "eventbridge-provision-product.json"))
	if err != nil || result(t, out).Outcome != "unhandled" {
		t.Errorf("without handler: %s, %v", out, err)
	}
}

// TestProvisionProductFallbacks: when the EventBridge envelope lacks the
// account and region, CloudTrail's are used; without CloudTrail's
// eventTime, the envelope's time is.
func TestProvisionProductFallbacks(t *testing.T) {
	var ev map[string]any
	if err := json.Unmarshal(fixture(t, "eventbridge-provision-product.json"), &ev); err != nil {
		t.Fatal(err)
	}
	ev["account"], ev["region"] = "", ""
	ev["detail"].(map[string]any)["eventTime"] = nil
	ev["detail"].(map[string]any)["awsRegion"] = "eu-west-1"
	ev["detail"].(map[string]any)["recipientAccountId"] = "222222222222"
	payload, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	rec := &recorder{}
	if _, err := events.New(events.Options{Provision: rec}).Invoke(context.Background(), payload); err != nil || len(rec.got) != 1 {
		t.Fatalf("invoke: %v, %d calls", err, len(rec.got))
	}
	e := rec.got[0]
	if e.Account != "222222222222" || e.Region != "eu-west-1" || !e.Time.Equal(time.Date(2026, 11, 21, 15, 15, 44, 0, time.UTC)) {
		t.Errorf("account %q, region %q, time %v", e.Account, e.Region, e.Time)
	}
}

// TestLogsParameterNamesNotValues: provisioning parameters may be secrets,
// so the log names them without their values.
func TestLogsParameterNamesNotValues(t *testing.T) {
	var buf bytes.Buffer
	h := events.New(events.Options{Provision: &recorder{}, Logger: slog.New(slog.NewTextHandler(&buf, nil))})
	if _, err := h.Invoke(context.Background(), fixture(t, "eventbridge-provision-product.json")); err != nil {
		t.Fatal(err)
	}
	if log := buf.String(); !strings.Contains(log, "parameters=\"[InstanceType") || strings.Contains(log, "ml.t3.medium") {
		t.Errorf("log:\n%s", log)
	}
}
