package broker

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/sagegate/sagegate/internal/problem"
	"github.com/sagegate/sagegate/internal/routing"
)

type step int

const (
	stepAssumeRole step = iota
	stepPresign
)

// retryAfterThrottled is what we tell clients when AWS still throttles
// after our retries: long enough for a token bucket to refill a little.
const retryAfterThrottled = 2 * time.Second

var (
	notFoundCodes = map[string]bool{"ResourceNotFound": true, "ResourceNotFoundException": true, "NoSuchEntity": true}
	throttleCodes = map[string]bool{
		"Throttling": true, "ThrottlingException": true, "ThrottledException": true,
		"TooManyRequestsException": true, "RequestLimitExceeded": true, "RequestThrottled": true,
		"RequestThrottledException": true, "SlowDown": true, "ProvisionedThroughputExceededException": true,
		"PriorRequestNotComplete": true,
	}
	deniedCodes = map[string]bool{
		"AccessDenied": true, "AccessDeniedException": true, "UnauthorizedOperation": true,
		"InvalidClientTokenId": true, "UnrecognizedClientException": true, "ExpiredToken": true,
		"ExpiredTokenException": true, "SignatureDoesNotMatch": true, "InvalidSignatureException": true,
		"RegionDisabledException": true,
	}
)

func apiCode(err error) (string, string) {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode(), ae.ErrorMessage()
	}
	return "", ""
}

// classifySTS is classify for AssumeRole. STS answering says nothing about
// the account's SageMaker endpoint, so a success (or refusal) is neutral:
// it must not reset the count of failing presigns, or a burst of people
// without cached credentials would keep the breaker from ever opening. A
// failing STS still counts.
func classifySTS(ctx context.Context, err error) outcome {
	if o := classify(ctx, err); o != healthy {
		return o
	}
	return neutral
}

// classify tells the breaker what an AWS error says about the account.
func classify(ctx context.Context, err error) outcome {
	if err == nil {
		return healthy
	}
	if ctx.Err() != nil {
		return neutral
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return unhealthy
	}
	var re *smithyhttp.ResponseError
	if errors.As(err, &re) && re.HTTPStatusCode() >= 500 {
		return unhealthy
	}
	code, _ := apiCode(err)
	switch {
	case throttleCodes[code]:
		return unhealthy
	case code != "":
		return healthy
	}
	// No AWS answer at all: the endpoint could not be reached.
	return unhealthy
}

// rejectedCredentials reports whether AWS refused the credentials
// themselves (so the cached session must go).
func rejectedCredentials(err error) bool {
	code, _ := apiCode(err)
	return deniedCodes[code]
}

// mapAWSError turns an AWS failure into the error a person sees. The
// messages name what an operator must check (the role, the domain) and
// never echo credentials or URLs.
func mapAWSError(ctx context.Context, err error, s step, t routing.Target) error {
	var pe *problem.Error
	if errors.As(err, &pe) {
		// Already meant for a person: the account's guard refused the call.
		return err
	}
	if pe := transient(ctx, err, doing(s), t); pe != nil {
		return pe
	}
	code, msg := apiCode(err)
	switch {
	case notFoundCodes[code] && s == stepPresign:
		detail := fmt.Sprintf("SageMaker found no Studio domain %s with user profile %q in account %s (%s).", t.DomainID, t.UserProfile, t.AccountID, t.Region)
		if t.Space != "" {
			detail = fmt.Sprintf("SageMaker found no Studio domain %s with user profile %q and space %q in account %s (%s).", t.DomainID, t.UserProfile, t.Space, t.AccountID, t.Region)
		}
		return problem.Wrap(err, http.StatusNotFound, problem.CodeAWSNotFound, detail+" Ask your platform team to create your profile.")
	case throttleCodes[code]:
		return throttled(err, t)
	case deniedCodes[code] && s == stepAssumeRole:
		return problem.Wrap(err, http.StatusBadGateway, problem.CodeAWSAccessDenied,
			fmt.Sprintf("sagegate could not assume role %s: check that its trust policy allows sagegate's role with sts:AssumeRole and sts:SetSourceIdentity, and the external id.", t.RoleARN))
	case deniedCodes[code]:
		return problem.Wrap(err, http.StatusBadGateway, problem.CodeAWSAccessDenied,
			fmt.Sprintf("AWS denied sagemaker:CreatePresignedDomainUrl to role %s on domain %s: check the role's permissions policy.", t.RoleARN, t.DomainID))
	default:
		// A refusal (a 4xx other than the above): a configuration problem
		// that retrying will not fix.
		return problem.Wrap(err, http.StatusBadGateway, problem.CodeAWSError,
			fmt.Sprintf("AWS refused the request while %s for account %s: %s (%s).", doing(s), t.AccountID, code, msg))
	}
}

// transient maps the failures that say nothing about the request itself,
// the same for every AWS call sagegate makes: the caller went away (499), a
// deadline passed (504), or, still after the retries, AWS throttled, answered
// with a server error or could not be reached (503 with Retry-After). nil
// means err is a refusal for the caller to map.
func transient(ctx context.Context, err error, doing string, t routing.Target) error {
	if errors.Is(err, context.Canceled) && ctx.Err() != nil {
		return clientClosed(err)
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return problem.Wrap(err, http.StatusGatewayTimeout, problem.CodeAWSTimeout,
			fmt.Sprintf("AWS did not answer in time while %s for account %s. Try again in a moment.", doing, t.AccountID))
	}
	code, _ := apiCode(err)
	var re *smithyhttp.ResponseError
	serverError := errors.As(err, &re) && re.HTTPStatusCode() >= 500
	var detail string
	switch {
	case throttleCodes[code]:
		return throttled(err, t)
	case serverError:
		detail = fmt.Sprintf("AWS answered with a server error while %s for account %s. Try again in a few seconds.", doing, t.AccountID)
	case code == "":
		detail = fmt.Sprintf("sagegate could not reach AWS while %s for account %s. Try again in a few seconds.", doing, t.AccountID)
	default:
		return nil
	}
	pe := problem.Wrap(err, http.StatusServiceUnavailable, CodeAWSUnavailable, detail)
	pe.RetryAfter = retryAfterThrottled
	return pe
}

// throttled is the answer when AWS still throttles t's account after the
// retries.
func throttled(err error, t routing.Target) error {
	pe := problem.Wrap(err, http.StatusServiceUnavailable, problem.CodeAWSThrottled,
		fmt.Sprintf("AWS is throttling requests for account %s. Try again in a few seconds.", t.AccountID))
	pe.RetryAfter = retryAfterThrottled
	return pe
}

// clientClosed is the answer to a caller that went away while sagegate
// waited (for AWS, a call slot, a shared flight): nobody reads it but the
// audit log.
func clientClosed(err error) error {
	return problem.Wrap(err, 499, "client_closed_request", "The request was cancelled by the client.")
}

func doing(s step) string {
	if s == stepAssumeRole {
		return "assuming the access role"
	}
	return "creating the presigned URL"
}
