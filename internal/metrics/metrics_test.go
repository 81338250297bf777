package metrics

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// A nil *Metrics is "metrics disabled": every method is a no-op and the
// handler answers 404.
func TestNilMetricsIsDisabled(t *testing.T) {
	var m *Metrics
	m.Launch("studio", "ok", time.Millisecond)
	m.AWSCall("sts", "AssumeRole", time.Millisecond, errors.New("x"))
	m.Cache("token", "hit")
	m.Rejected("user_rate")
	m.JWKSRefresh("p", nil)
	m.BreakerOpen("111122223333", true)
	m.Request(200)
	m.InFlight(1)
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if rec.Code != http.StatusNotFound {
		t.Errorf("nil metrics handler: %d, want 404", rec.Code)
	}
}

func TestLabels(t *testing.T) {
	m := New()
	m.AWSCall("sts", "AssumeRole", time.Millisecond, nil)
	m.AWSCall("sts", "AssumeRole", time.Millisecond, errors.New("throttled"))
	m.AWSCall("sts", "AssumeRole", time.Millisecond, errors.New("throttled"))
	m.JWKSRefresh("corp", errors.New("timeout"))
	m.BreakerOpen("111122223333", true)
	m.BreakerOpen("444455556666", true)
	m.BreakerOpen("444455556666", false)
	m.InFlight(2)
	m.InFlight(-1)

	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	body := rec.Body.String()
	for _, want := range []string{
		`sagegate_aws_call_duration_seconds_count{operation="AssumeRole",result="error",service="sts"} 2`,
		`sagegate_aws_call_duration_seconds_count{operation="AssumeRole",result="ok",service="sts"} 1`,
		`sagegate_jwks_refresh_total{provider="corp",result="error"} 1`,
		`sagegate_circuit_open{account="111122223333"} 1`,
		`sagegate_circuit_open{account="444455556666"} 0`,
		"sagegate_http_in_flight_requests 1",
		"go_goroutines",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("exposition lacks %q", want)
		}
	}
}
