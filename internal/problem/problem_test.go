package problem

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
)

func TestFromFindsTheProblemInTheChain(t *testing.T) {
	cause := errors.New("AccessDenied: not authorized")
	p := Wrap(cause, http.StatusForbidden, CodeAWSAccessDenied, "sagegate may not open this domain.")
	got := From(fmt.Errorf("launch lob-a: %w", p))
	if got != p {
		t.Fatalf("From = %#v, want the wrapped problem", got)
	}
	if !errors.Is(got, cause) {
		t.Error("the cause is not reachable with errors.Is")
	}
	if want := "aws_access_denied: sagegate may not open this domain.: AccessDenied: not authorized"; got.Error() != want {
		t.Errorf("Error() = %q, want %q", got.Error(), want)
	}
	if want := "bad_request: no target"; New(http.StatusBadRequest, CodeBadRequest, "no target").Error() != want {
		t.Errorf("Error() without cause = %q, want %q", New(http.StatusBadRequest, CodeBadRequest, "no target").Error(), want)
	}
}

// An error that is not a problem becomes a 500 whose detail says nothing of
// it: its text was never vetted for secrets.
func TestFromHidesUnexpectedErrors(t *testing.T) {
	secret := errors.New("presigned https://example.com/?X-Amz-Signature=abc")
	p := From(secret)
	if p.Status != http.StatusInternalServerError || p.Code != "internal" {
		t.Errorf("From(plain error) = %d %s, want 500 internal", p.Status, p.Code)
	}
	if strings.Contains(p.Detail, "Signature") {
		t.Errorf("detail %q carries the error's text", p.Detail)
	}
	if !errors.Is(p, secret) {
		t.Error("the cause is not kept for the logs")
	}
}
