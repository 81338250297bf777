// Package problem is the one error type that crosses package boundaries on
// its way to a person: it carries the HTTP status, a stable machine-readable
// code and a sentence a human can act on. Packages below the HTTP layer
// return *problem.Error (or wrap one with %w) and the server renders it in
// exactly one place, so status mapping never drifts between handlers.
package problem

import (
	"errors"
	"fmt"
	"net/http"
	"time"
)

// Error is an error that knows how it should be shown to a caller.
type Error struct {
	// Status is the HTTP status code to answer with.
	Status int
	// Code is stable and documented; clients may switch on it.
	Code string
	// Detail is a readable sentence for people. It must never contain a
	// secret (token, presigned URL, credentials).
	Detail string
	// RetryAfter, when positive, becomes a Retry-After header.
	RetryAfter time.Duration
	// Err is the underlying cause, kept for logs and errors.Is/As.
	Err error
	// Fields are extra members of the problem+json body (RFC 9457
	// extensions), such as the list of targets to choose from.
	Fields map[string]any
}

func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%s: %s: %v", e.Code, e.Detail, e.Err)
	}
	return fmt.Sprintf("%s: %s", e.Code, e.Detail)
}

func (e *Error) Unwrap() error { return e.Err }

// New builds an Error without a cause.
func New(status int, code, detail string) *Error {
	return &Error{Status: status, Code: code, Detail: detail}
}

// Wrap builds an Error around a cause.
func Wrap(err error, status int, code, detail string) *Error {
	return &Error{Status: status, Code: code, Detail: detail, Err: err}
}

// From extracts the *Error in err's chain. Anything else is an internal
// error: the caller gets a 500 with a generic sentence, never the text of an
// unexpected error (which could carry details we did not vet).
func From(err error) *Error {
	var pe *Error
	if errors.As(err, &pe) {
		return pe
	}
	return &Error{Status: http.StatusInternalServerError, Code: "internal", Detail: "Something went wrong inside sagegate. The request id identifies it in the logs.", Err: err}
}

// Codes shared across packages. Packages may define their own codes, but the
// ones clients are most likely to switch on live here.
const (
	CodeUnauthenticated = "unauthenticated"
	CodeForbidden       = "forbidden"
	CodeNoTargets       = "no_targets"
	CodeTargetNotFound  = "target_not_found"
	CodeChooseTarget    = "choose_target"
	CodeBadRequest      = "bad_request"
	CodeAWSNotFound     = "aws_resource_not_found"
	CodeAWSThrottled    = "aws_throttled"
	CodeAWSAccessDenied = "aws_access_denied"
	CodeAWSTimeout      = "aws_timeout"
	CodeAWSError        = "aws_error"
	CodeUnavailable     = "unavailable"
)
