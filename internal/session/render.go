package session

import (
	"net/http"

	"github.com/sagegate/sagegate/internal/problem"
)

// Error codes of the /auth/* handlers, as problem.Error.Code.
const (
	CodeLoginDenied     = "login_denied"      // the provider refused (e.g. access_denied)
	CodeLoginFailed     = "login_failed"      // the provider's answer did not check out
	CodeLoginState      = "login_state"       // state missing, wrong or expired
	CodeIDPUnavailable  = "idp_unavailable"   // discovery or token endpoint unreachable
	CodeCSRF            = "csrf"              // CheckCSRF refused the request
	CodeSessionTooLarge = "session_too_large" // the principal does not fit in a cookie
)

// renderPlain is the fallback renderer: status and the human sentence as
// plain text. It never prints the cause, which is for logs only.
func renderPlain(w http.ResponseWriter, _ *http.Request, err error) {
	p := problem.From(err)
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(p.Status)
	_, _ = w.Write([]byte(p.Detail + "\n"))
}
