package server

import (
	"fmt"
	"net/http"
	"time"

	"github.com/sagegate/sagegate/internal/broker"
	"github.com/sagegate/sagegate/internal/identity"
	"github.com/sagegate/sagegate/internal/problem"
	"github.com/sagegate/sagegate/internal/session"
)

// CodeWrongNetwork is the problem code of a Studio that only accepts
// connections through a VPC endpoint, opened from another network.
const CodeWrongNetwork = "wrong_network"

// launcherPath is the page listing everything a person can open.
const launcherPath = "/"

// errorPage is what error.html shows: a heading in plain words, what
// happened (the problem's detail), what to do next, where to go, and the
// request id a person quotes when asking for help.
type errorPage struct {
	pageData
	Status                        int
	Detail, Next, Code, RequestID string
	Actions                       []link
}

type link struct{ Href, Label string }

func (s *Server) errorPage(r *http.Request, pe *problem.Error, status int, id string) errorPage {
	a := s.advise(r, pe)
	if a.heading == "" {
		a.heading = http.StatusText(status)
	}
	return errorPage{
		pageData:  s.pageData(r, a.heading),
		Status:    status,
		Detail:    browserDetail(r, pe),
		Next:      a.next,
		Code:      pe.Code,
		RequestID: id,
		Actions:   a.actions,
	}
}

type advice struct {
	heading, next string
	actions       []link
}

// browserDetail is the problem's detail, except where that speaks to API
// clients rather than to a person in a browser.
func browserDetail(r *http.Request, pe *problem.Error) string {
	if id := r.PathValue("id"); pe.Code == problem.CodeTargetNotFound && id != "" {
		return fmt.Sprintf("%q is not one of the Studios or notebooks you can open.", id)
	}
	return pe.Detail
}

// advise tells a person, for each kind of failure, whether it is theirs
// to fix and how: most failures are not, and then the useful thing is to
// say so and hand them the request id for the platform team.
func (s *Server) advise(r *http.Request, pe *problem.Error) advice {
	home := link{Href: launcherPath, Label: "Go to your launcher"}
	tellTeam := "This is a setup problem on the platform side, not something you did. Send the request id below to your platform team."
	switch pe.Code {
	case problem.CodeNoTargets:
		return advice{"Nothing to open yet",
			"sagegate has no SageMaker Studio or notebook for you yet. Ask your platform team to add you to a line of business, and give them your username and the request id below.", nil}
	case problem.CodeTargetNotFound:
		return advice{"This link is not one of yours",
			"Launch links only work for the person they belong to: if someone sent you this link, it opens their Studio, not yours. Your launcher lists everything you can open; ask your platform team if something is missing.",
			[]link{home}}
	case problem.CodeForbidden:
		return advice{"This is someone else's Studio",
			"Open your own Studio from your launcher. If you need access to this one, ask your platform team.", []link{home}}
	case "user_disabled":
		return advice{"Your sagegate access is switched off",
			"Ask your platform team to switch it back on, and give them the request id below.", nil}
	case session.CodeCSRF:
		return advice{"This page is out of date",
			"For your safety sagegate only accepts forms from its own, current pages. Go back to your launcher, reload it and try again.", []link{home}}
	case problem.CodeAWSThrottled:
		return advice{"AWS is busy right now",
			"AWS is limiting how fast sagegate may ask it for sign-in links. Your access is fine: wait " + wait(pe) + " and try again.",
			s.retryActions(r, home)}
	case "rate_limited":
		return advice{"You opened things very quickly",
			"sagegate limits how often one person can open Studio in a short time. Wait " + wait(pe) + " and try again.",
			s.retryActions(r, home)}
	case broker.CodeAccountBusy, "overloaded":
		return advice{"sagegate is very busy right now",
			"Many people are opening Studio at this moment. Your access is fine: wait " + wait(pe) + " and try again.",
			s.retryActions(r, home)}
	case broker.CodeAWSUnavailable:
		return advice{"AWS is having trouble in this account",
			"After repeated AWS failures sagegate pauses launches into this account for a few seconds. Wait " + wait(pe) + " and try again; if it lasts, send the request id below to your platform team.",
			s.retryActions(r, home)}
	case problem.CodeAWSTimeout:
		return advice{"AWS took too long to answer",
			"Wait a few seconds and try again. If it keeps happening, send the request id below to your platform team.",
			s.retryActions(r, home)}
	case problem.CodeUnavailable, session.CodeIDPUnavailable:
		return advice{"A service sagegate needs is not answering",
			"Wait a minute and try again. If it keeps happening, send the request id below to your platform team.",
			s.retryActions(r, home)}
	case problem.CodeAWSNotFound:
		return advice{"Your Studio profile is missing", tellTeam, []link{home}}
	case problem.CodeAWSAccessDenied:
		return advice{"sagegate is not allowed to open this Studio", tellTeam, []link{home}}
	case problem.CodeAWSError:
		return advice{"AWS could not open this Studio", tellTeam, s.retryActions(r, home)}
	case CodeWrongNetwork:
		return advice{"Studio only opens from the company network",
			"Connect to the company VPN or office network, then go back to your launcher and click Open again. Reloading the Studio tab does not help: its sign-in link has already expired. If you are on the company network and it still happens, send the time of your attempt and the request id below to your platform team.",
			[]link{home}}
	case session.CodeLoginDenied, session.CodeLoginFailed, session.CodeLoginState, session.CodeSessionTooLarge:
		return advice{"Sign-in did not complete",
			"Start the sign-in again. If it keeps failing, send the request id below to your platform team.", s.signInActions("/")}
	case "not_found":
		return advice{"There is no such page", "Your launcher lists everything you can open.", []link{home}}
	}
	if a, ok := notebookAdvice(pe, tellTeam, home); ok {
		return a
	}
	switch {
	case pe.Status == http.StatusUnauthorized && pe.Code == identity.ReasonMissingToken:
		return advice{"Please sign in", "Sign in to continue.", s.signInActions(r.URL.RequestURI())}
	case pe.Status == http.StatusUnauthorized:
		return advice{"Your sign-in is no longer valid", "Sign in again to continue.", s.signInActions(r.URL.RequestURI())}
	case pe.Status >= 500:
		return advice{"Something went wrong",
			"Try again. If it keeps happening, send the request id below to your platform team.", s.retryActions(r, home)}
	}
	return advice{}
}

// retryActions offers the same request again when repeating it is safe.
func (s *Server) retryActions(r *http.Request, home link) []link {
	switch {
	case r.Method != http.MethodGet:
		return []link{home}
	case r.URL.Path == launcherPath:
		return []link{{Href: launcherPath, Label: "Try again"}}
	}
	return []link{{Href: r.URL.RequestURI(), Label: "Try again"}, home}
}

func (s *Server) signInActions(returnTo string) []link {
	if s.opts.Sessions == nil {
		return nil
	}
	return []link{{Href: s.opts.Sessions.LoginURL(returnTo), Label: "Sign in"}}
}

// wait says how long to wait before trying again.
func wait(pe *problem.Error) string {
	if pe.RetryAfter <= 0 {
		return "a few seconds"
	}
	if n := retryAfterSeconds(pe.RetryAfter); n != 1 {
		return fmt.Sprintf("%d seconds", n)
	}
	return "a second"
}

// retryAfterSeconds rounds up, so a client never retries too early.
func retryAfterSeconds(d time.Duration) int {
	return int((d + time.Second - 1) / time.Second)
}
