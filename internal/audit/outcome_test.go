package audit

import (
	"errors"
	"net/http"
	"testing"

	"github.com/sagegate/sagegate/internal/problem"
)

func TestSetResult(t *testing.T) {
	for _, tc := range []struct {
		name          string
		err           error
		outcome, code string
	}{
		{"granted", nil, Granted, ""},
		{"refusal", problem.New(http.StatusForbidden, problem.CodeForbidden, "no"), Denied, problem.CodeForbidden},
		{"client went away", problem.New(499, "client_closed_request", "gone"), Denied, "client_closed_request"},
		{"AWS failing", problem.New(http.StatusServiceUnavailable, problem.CodeAWSThrottled, "slow"), Failed, problem.CodeAWSThrottled},
		{"not a problem", errors.New("boom"), Failed, "internal"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := Event{Outcome: "stale", ErrorCode: "stale"}
			e.SetResult(tc.err)
			if e.Outcome != tc.outcome || e.ErrorCode != tc.code {
				t.Errorf("got %q %q, want %q %q", e.Outcome, e.ErrorCode, tc.outcome, tc.code)
			}
		})
	}
}
