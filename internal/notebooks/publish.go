package notebooks

import (
	"context"
	"strings"

	"github.com/sagegate/sagegate/internal/identity"
	"github.com/sagegate/sagegate/internal/routing"
)

// The AWS notebook-vending sample stored each person's presigned URL in
// SSM Parameter Store, where its tools read it. sagegate can keep doing
// that for those tools (Options.SSMPublish), but as a SecureString, and
// only as a side effect of minting: the URL still dies 5 minutes after it
// was minted, so anything reading the parameter later gets a dead link.
// Asking sagegate (POST /refreshurl, or a launch) when the URL is needed is
// what works.

// ParameterName is the SSM parameter of user's notebook URL, as the sample
// names it: /SageMaker/Notebooks/<user>-Notebook. Characters a parameter
// name cannot hold become '-'.
func ParameterName(user string) string {
	b := []byte(user)
	for i, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '.' || c == '-') {
			b[i] = '-'
		}
	}
	return "/SageMaker/Notebooks/" + string(b) + "-Notebook"
}

// Publish writes url to user's SSM parameter in t's account, when
// publishing is on. The value is never logged.
func (m *Manager) Publish(ctx context.Context, p *identity.Principal, t routing.Target, user, url string) error {
	if !m.opts.SSMPublish {
		return nil
	}
	return m.ctl.PutSecureParameter(ctx, p, t, ParameterName(user), url, m.opts.SSMKeyID)
}

// NotebookOf picks user's notebook among targets, for the refresh API: an
// instance of their own that no template implies (provisioned through
// Service Catalog, or added by an administrator), else their first
// template notebook, else the only notebook they can open.
func NotebookOf(targets []routing.Target, user string) (routing.Target, bool) {
	var vended, shared []routing.Target
	for _, t := range targets {
		switch {
		case t.Kind != routing.KindNotebook:
		case t.Owner == user && t.NotebookTemplate == nil:
			return t, true
		case t.Owner == user:
			vended = append(vended, t)
		default:
			shared = append(shared, t)
		}
	}
	switch {
	case len(vended) > 0:
		return vended[0], true
	case len(shared) == 1:
		return shared[0], true
	}
	return routing.Target{}, false
}

// ValidUsername reports whether s can be a username in a request (the
// refresh API's notebook_user_name).
func ValidUsername(s string) bool {
	return s != "" && len(s) <= 256 && !strings.ContainsAny(s, "\x00\r\n")
}
