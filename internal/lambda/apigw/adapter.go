// Package apigw runs sagegate's HTTP handler behind API Gateway (REST
// APIs with payload 1.0, HTTP APIs with payload 1.0 or 2.0) and
// Application Load Balancers. algnhsa turns each event into an
// *http.Request (multi-value headers, cookies, query strings, base64
// bodies) and the response back into the event's answer (multi-value
// headers for REST and ALB, the cookies list for HTTP APIs, so several
// Set-Cookie headers survive); this package fixes the path the handler
// routes on, and says whose identity an API Gateway authorizer vouched for.
package apigw

import (
	"context"
	"net/http"
	"strings"

	"github.com/akrylysov/algnhsa"
	"github.com/aws/aws-lambda-go/lambda"

	"github.com/sagegate/sagegate/internal/reqid"
)

// Options configure the adapter.
type Options struct {
	// BasePath is a custom domain's base path mapping ("/sagegate"),
	// stripped from every path that starts with it.
	BasePath string
}

// Handler adapts h to Lambda events from API Gateway and ALB. ALB target
// groups must have multi-value headers enabled.
func Handler(h http.Handler, opts Options) lambda.Handler {
	return algnhsa.New(normalize(h, opts.BasePath), &algnhsa.Options{})
}

// normalize gives h the path it routes on (without stage or base path)
// and correlates the request id with API Gateway's.
func normalize(next http.Handler, basePath string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ev := describe(r.Context())
		prefix := ""
		if ev.stageInPath {
			prefix = "/" + ev.stage
		}
		path, changed := trimPrefix(r.URL.Path, prefix)
		if basePath != "" {
			var c bool
			path, c = trimPrefix(path, basePath)
			changed = changed || c
		}
		// A caller's own request id is kept, as by `serve`.
		setID := ev.requestID != "" && r.Header.Get(reqid.Header) == ""
		if changed || setID {
			r = r.Clone(r.Context())
		}
		if changed {
			r.URL.Path, r.URL.RawPath = path, ""
			r.RequestURI = r.URL.RequestURI()
		}
		if setID {
			r.Header.Set(reqid.Header, ev.requestID)
		}
		next.ServeHTTP(w, r)
	})
}

// trimPrefix removes prefix from p when it is p's leading whole segments.
func trimPrefix(p, prefix string) (string, bool) {
	if prefix == "" || prefix == "/" {
		return p, false
	}
	if p == prefix {
		return "/", true
	}
	if rest, ok := strings.CutPrefix(p, prefix); ok && strings.HasPrefix(rest, "/") {
		return rest, true
	}
	return p, false
}

// event is what the adapter needs to know of the event behind a request.
type event struct {
	stage       string
	stageInPath bool
	requestID   string
}

// describe reads the event algnhsa put in the request's context.
//
// Where the stage shows up differs by event. On an execute-api domain
// (public, or private through a VPC endpoint), an HTTP API puts a named
// stage in front of the path (payload 2.0 rawPath, payload 1.0 path); a
// REST API leaves it out of `path` and shows it only in
// requestContext.path. A custom domain never has the stage in the path,
// only its base path mapping. So the stage is stripped when the path the
// handler would see is the path the client sent (it equals
// requestContext.path, or is an HTTP API's rawPath), the domain is
// execute-api's, and the path starts with it.
func describe(ctx context.Context) event {
	if v1, ok := algnhsa.APIGatewayV1RequestFromContext(ctx); ok {
		rc := v1.RequestContext
		return event{
			stage:       rc.Stage,
			requestID:   requestID(rc.RequestID),
			stageInPath: namedStage(rc.Stage) && executeAPI(rc.DomainName) && (rc.Path == "" || rc.Path == v1.Path),
		}
	}
	if v2, ok := algnhsa.APIGatewayV2RequestFromContext(ctx); ok {
		rc := v2.RequestContext
		return event{
			stage:       rc.Stage,
			requestID:   requestID(rc.RequestID),
			stageInPath: namedStage(rc.Stage) && executeAPI(rc.DomainName),
		}
	}
	return event{}
}

// requestID makes API Gateway's request id one that reqid keeps: HTTP API
// ids are base64 with "=" padding, which it would refuse.
func requestID(id string) string { return strings.TrimRight(id, "=") }

func namedStage(s string) bool { return s != "" && s != "$default" && !strings.Contains(s, "/") }

// executeAPI reports whether domain is API Gateway's own (an empty one,
// as in hand-made events, counts as such).
func executeAPI(domain string) bool {
	return domain == "" || strings.Contains(domain, ".execute-api.")
}
