// Package authorizer is sagegate as an API Gateway Lambda authorizer: the
// TOKEN and REQUEST authorizers of REST APIs (and HTTP APIs with payload
// 1.0) answer with an IAM policy, HTTP APIs with payload 2.0 with the
// simple response (or a policy). Tokens are verified by the same
// identity.Verifier as the HTTP handler, and the answer names the person:
// principalId is the username and the context carries username, groups and
// issuer, so the backend knows who called.
package authorizer

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/sagegate/sagegate/internal/audit"
	"github.com/sagegate/sagegate/internal/identity"
	"github.com/sagegate/sagegate/internal/problem"
	"github.com/sagegate/sagegate/internal/reqid"
)

// ErrUnauthorized is the error API Gateway turns into 401 Unauthorized.
// Its text must be exactly "Unauthorized": any other error is a 500.
var ErrUnauthorized = errors.New("Unauthorized")

// Answers for HTTP APIs with payload 2.0.
const (
	ResponseSimple = "simple"
	ResponsePolicy = "policy"
)

// Options are the authorizer's dependencies.
type Options struct {
	Verifier identity.Verifier
	// Audit receives one "authorize" event per decision.
	Audit audit.Sink
	// HTTPAPIResponse is ResponseSimple (default) or ResponsePolicy, as
	// the HTTP API's enableSimpleResponses says.
	HTTPAPIResponse string
	Logger          *slog.Logger
	Now             func() time.Time
}

// Authorizer is a lambda.Handler.
type Authorizer struct {
	opts Options
	log  *slog.Logger
	now  func() time.Time
}

// New builds an Authorizer.
func New(opts Options) *Authorizer {
	a := &Authorizer{opts: opts, log: opts.Logger, now: opts.Now}
	if a.log == nil {
		a.log = slog.New(slog.DiscardHandler)
	}
	if a.now == nil {
		a.now = time.Now
	}
	if a.opts.Audit == nil {
		a.opts.Audit = audit.Discard{}
	}
	if a.opts.HTTPAPIResponse == "" {
		a.opts.HTTPAPIResponse = ResponseSimple
	}
	return a
}

// request is every authorizer payload in one shape: TOKEN has type,
// authorizationToken and methodArn; REQUEST adds headers and the request
// context; HTTP API payload 2.0 has version "2.0" and routeArn instead.
type request struct {
	Version            string              `json:"version"`
	Type               string              `json:"type"`
	MethodArn          string              `json:"methodArn"`
	RouteArn           string              `json:"routeArn"`
	AuthorizationToken string              `json:"authorizationToken"`
	Headers            map[string]string   `json:"headers"`
	MultiValueHeaders  map[string][]string `json:"multiValueHeaders"`
	RequestContext     struct {
		RequestID string `json:"requestId"`
		Identity  struct {
			SourceIP string `json:"sourceIp"`
		} `json:"identity"`
		HTTP struct {
			SourceIP string `json:"sourceIp"`
		} `json:"http"`
	} `json:"requestContext"`
}

func (r *request) simple() bool { return r.Version == "2.0" }

func (r *request) arn() string {
	if r.simple() {
		return r.RouteArn
	}
	return r.MethodArn
}

// header is the request's headers for identity.BearerToken. A TOKEN
// authorizer receives only the value of its token source.
func (r *request) header() http.Header {
	h := http.Header{}
	if r.Type == "TOKEN" {
		if r.AuthorizationToken != "" {
			h.Set("Authorization", r.AuthorizationToken)
		}
		return h
	}
	for k, v := range r.Headers {
		h.Set(k, v)
	}
	for k, vs := range r.MultiValueHeaders {
		h[http.CanonicalHeaderKey(k)] = vs
	}
	return h
}

// Invoke implements lambda.Handler.
func (a *Authorizer) Invoke(ctx context.Context, payload []byte) ([]byte, error) {
	var req request
	if err := json.Unmarshal(payload, &req); err != nil {
		return nil, fmt.Errorf("authorizer: the event is not an API Gateway authorizer request: %w", err)
	}
	if req.Type != "TOKEN" && req.Type != "REQUEST" {
		return nil, fmt.Errorf("authorizer: unsupported authorizer type %q (want TOKEN or REQUEST)", req.Type)
	}
	resp, err := a.authorize(ctx, &req)
	if err != nil {
		return nil, err
	}
	return json.Marshal(resp)
}

func (a *Authorizer) authorize(ctx context.Context, req *request) (any, error) {
	start := a.now()
	ctx = reqid.With(ctx, reqid.FromHeader(req.RequestContext.RequestID))
	ev := audit.Event{RequestID: reqid.From(ctx), Action: "authorize", SourceIP: req.RequestContext.Identity.SourceIP}
	if ev.SourceIP == "" {
		ev.SourceIP = req.RequestContext.HTTP.SourceIP
	}
	record := func(outcome, code string) {
		ev.Time, ev.Outcome, ev.ErrorCode, ev.Latency = a.now(), outcome, code, a.now().Sub(start)
		a.opts.Audit.Record(ctx, ev)
	}

	arn, err := ParseMethodARN(req.arn())
	if err != nil {
		// Not the caller's fault: API Gateway always sends one. A 500 says
		// the authorizer is misconfigured.
		a.log.ErrorContext(ctx, "authorizer: bad method ARN", "err", err)
		record(audit.Failed, "bad_method_arn")
		return nil, err
	}
	p, err := a.verify(ctx, req)
	if err != nil {
		reason := identity.ReasonOf(err)
		if reason == identity.ReasonKeysUnavailable {
			// Not a verdict on the token: a 500 is neither cached nor
			// mistaken by the client for "sign in again".
			a.log.WarnContext(ctx, "authorizer: signing keys unavailable", "err", err)
			record(audit.Failed, problem.CodeUnavailable)
			return nil, errors.New("authorizer: the identity provider's signing keys are unavailable")
		}
		if reason == "" {
			reason = problem.CodeUnauthenticated
		}
		a.log.DebugContext(ctx, "authorizer: token refused", "reason", reason)
		record(audit.Denied, reason)
		if req.simple() && a.opts.HTTPAPIResponse == ResponseSimple {
			return events.APIGatewayV2CustomAuthorizerSimpleResponse{IsAuthorized: false}, nil
		}
		return nil, ErrUnauthorized
	}
	ev.User, ev.Subject, ev.Issuer = p.Username, p.Subject, p.Issuer

	if req.simple() && a.opts.HTTPAPIResponse == ResponseSimple {
		// A simple answer is one boolean for the whole cache key, so it
		// can only say who the caller is; the HTTP handler refuses other
		// people's paths itself (403, before any AWS call).
		record(audit.Granted, "")
		return events.APIGatewayV2CustomAuthorizerSimpleResponse{IsAuthorized: true, Context: Context(p)}, nil
	}
	doc, allowed := Policy(arn, p.Username)
	if allowed {
		record(audit.Granted, "")
	} else {
		record(audit.Denied, problem.CodeForbidden)
	}
	return events.APIGatewayCustomAuthorizerResponse{PrincipalID: p.Username, PolicyDocument: doc, Context: Context(p)}, nil
}

func (a *Authorizer) verify(ctx context.Context, req *request) (*identity.Principal, error) {
	raw, err := identity.BearerToken(req.header())
	if err != nil {
		return nil, err
	}
	return a.opts.Verifier.Verify(ctx, strings.TrimSpace(raw))
}
