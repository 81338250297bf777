package server

import (
	"net/http"
	"runtime/debug"
	"time"

	"github.com/sagegate/sagegate/internal/problem"
	"github.com/sagegate/sagegate/internal/reqid"
)

// statusRecorder remembers the status for the access log.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (w *statusRecorder) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusRecorder) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

func (w *statusRecorder) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// middleware assigns the request id, recovers panics into a 500 problem
// (never a stack trace to the client) and writes the access log. The log
// has the path but never the query string: a query may carry a code or a
// token on its way through the login flow.
func (s *Server) middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		id := reqid.FromHeader(r.Header.Get(reqid.Header))
		r = r.WithContext(reqid.With(r.Context(), id))
		w.Header().Set(reqid.Header, id)
		rec := &statusRecorder{ResponseWriter: w}
		if !s.admit(rec, r) {
			s.log.InfoContext(r.Context(), "request", "method", r.Method, "path", r.URL.Path, "status", rec.status)
			return
		}
		defer func() { <-s.inFlight }()
		s.opts.Metrics.InFlight(1)
		defer s.opts.Metrics.InFlight(-1)
		// Nothing sagegate serves takes a large body: cap what any handler
		// could read.
		r.Body = http.MaxBytesReader(rec, r.Body, maxBodyBytes)
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				s.log.ErrorContext(r.Context(), "panic serving request", "panic", v, "stack", string(debug.Stack()))
				if rec.status == 0 {
					s.render(rec, r, problem.New(http.StatusInternalServerError, "internal", "Something went wrong inside sagegate. The request id identifies it in the logs."))
				}
			}
			s.opts.Metrics.Request(rec.status)
			s.log.InfoContext(r.Context(), "request", "method", r.Method, "path", r.URL.Path,
				"status", rec.status, "durationMs", float64(time.Since(start).Microseconds())/1000)
		}()
		next.ServeHTTP(rec, r)
	})
}

// Input limits.
const (
	maxURLBytes  = 8 << 10
	maxBodyBytes = 64 << 10
)

// admit applies the limits that are checked before any handler runs: the
// URL size, and the cap on requests in flight (a full server answers 503
// at once rather than queueing without bound). When it refuses it has
// written the answer.
func (s *Server) admit(w http.ResponseWriter, r *http.Request) bool {
	if len(r.RequestURI) > maxURLBytes {
		s.render(w, r, problem.New(http.StatusRequestURITooLong, "uri_too_long", "The request URL is too long."))
		return false
	}
	select {
	case s.inFlight <- struct{}{}:
		return true
	default:
		s.opts.Metrics.Rejected("overload")
		pe := problem.New(http.StatusServiceUnavailable, "overloaded", "sagegate is serving too many requests right now. Try again in a moment.")
		pe.RetryAfter = time.Second
		s.render(w, r, pe)
		return false
	}
}
