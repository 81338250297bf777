package audit

import "github.com/sagegate/sagegate/internal/problem"

// SetResult records how a decision ended: granted without an error,
// denied for a refusal (4xx), failed when sagegate or AWS could not do it
// (5xx). Every writer of events uses it, so one error reads the same in
// every record.
func (e *Event) SetResult(err error) {
	if err == nil {
		e.Outcome, e.ErrorCode = Granted, ""
		return
	}
	pe := problem.From(err)
	e.Outcome, e.ErrorCode = Denied, pe.Code
	if pe.Status >= 500 {
		e.Outcome = Failed
	}
}
