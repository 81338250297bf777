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
			s.log.InfoContext(r.Context(), "request", "method", r.Method, "path", r.URL.Path,
				"status", rec.status, "durationMs", float64(time.Since(start).Microseconds())/1000)
		}()
		next.ServeHTTP(rec, r)
	})
}
