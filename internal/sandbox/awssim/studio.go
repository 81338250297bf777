package awssim

import (
	"bytes"
	_ "embed"
	"html/template"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// The simulated Studio web app. It behaves like the real one where sagegate
// cares: a presigned URL signs in exactly once and only until it expires,
// and the session that follows is bound to one domain.

//go:embed page.html
var pageHTML string

//go:embed studio.html
var studioHTML string

var studioTemplate = sync.OnceValue(func() *template.Template { return pageTemplate("studio", studioHTML) })

// pageTemplate is page.html, the layout every simulated page shares, with
// the blocks one kind of page fills in ("header-colours", "banner" and
// "session", which opens the <dl> that the layout's sign-in rows close).
func pageTemplate(name, blocks string) *template.Template {
	return template.Must(template.Must(template.New(name).Parse(pageHTML)).Parse(blocks))
}

// studioSession is a signed-in browser, created by redeeming a token.
type studioSession struct {
	studioToken
	signedIn time.Time
	expires  time.Time
}

// simPage is what page.html shows: a signed-in session, or else an error
// titled Title (with Detail, when there is more to say).
type simPage[V any] struct {
	Title, Detail string
	Session       *V
}

// signInView is the part of a signed-in page that every kind shares.
type signInView struct {
	SourceIdentity, SessionName, MintedBy, SignedIn, Expires string
}

func newSignInView(mintedBy, sessionName, sourceIdentity string, signedIn, expires time.Time) signInView {
	return signInView{
		SourceIdentity: sourceIdentity, SessionName: sessionName, MintedBy: mintedBy,
		SignedIn: signedIn.UTC().Format(time.RFC3339), Expires: expires.UTC().Format(time.RFC3339),
	}
}

type studioPage = simPage[studioView]

type studioView struct {
	Account, Region, DomainID, DomainName, UserProfile, Space string
	App, LandingURI                                           string
	signInView
}

// StudioHandler serves the simulated Studio below StudioBaseURL's path. It
// works mounted either with the full path or under http.StripPrefix.
//
//	GET <base>/<domain-id>/auth?token=...  redeem a presigned URL (303 to the app)
//	GET <base>/<domain-id>/<app path>      the app page, for a signed-in browser
func (s *Simulator) StudioHandler() http.Handler {
	return http.HandlerFunc(s.serveStudio)
}

func (s *Simulator) serveStudio(w http.ResponseWriter, r *http.Request) {
	h := pageHeaders(w)
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		h.Set("Allow", "GET, HEAD")
		s.renderStudio(w, r, http.StatusMethodNotAllowed, studioPage{Title: "Method not allowed"})
		return
	}
	rest := r.URL.Path
	if s.studio.path != "" {
		if trimmed, ok := strings.CutPrefix(rest, s.studio.path+"/"); ok {
			rest = trimmed
		}
	}
	domainID, sub, _ := strings.Cut(strings.TrimPrefix(rest, "/"), "/")
	if !domainIDPattern().MatchString(domainID) {
		s.renderStudio(w, r, http.StatusNotFound, studioPage{Title: "Not found", Detail: "There is no Studio domain at this address."})
		return
	}
	if sub == "auth" {
		// Only a GET signs in: a HEAD from a link checker must not spend
		// the one-time token.
		if r.Method != http.MethodGet {
			h.Set("Allow", "GET")
			s.renderStudio(w, r, http.StatusMethodNotAllowed, studioPage{Title: "Method not allowed"})
			return
		}
		s.redeem(w, r, domainID)
		return
	}
	s.showApp(w, r, domainID, sub)
}

// redeem exchanges a presigned URL's token for a session cookie.
func (s *Simulator) redeem(w http.ResponseWriter, r *http.Request, domainID string) {
	token := r.URL.Query().Get("token")
	now := s.now()

	s.mu.Lock()
	tok := s.tokens[token]
	problem := "This sign-in link is not valid."
	if token != "" && tok != nil && tok.domainID == domainID {
		problem = tok.refusal(now, "Presigned URLs are valid for a few minutes only")
	}
	if problem != "" {
		s.mu.Unlock()
		s.log.LogAttrs(r.Context(), slog.LevelWarn, "awssim studio sign-in refused",
			slog.String("domain", domainID), slog.String("reason", problem))
		s.renderStudio(w, r, http.StatusForbidden, studioPage{Title: "Access denied", Detail: problem})
		return
	}
	tok.used = true
	sess := &studioSession{studioToken: *tok, signedIn: now, expires: now.Add(tok.sessionDuration)}
	id := randomToken()
	s.studioSessions[id] = sess
	s.mu.Unlock()

	s.log.LogAttrs(r.Context(), slog.LevelInfo, "awssim studio sign-in",
		slog.String("account", sess.accountID), slog.String("domain", domainID),
		slog.String("profile", sess.profile), slog.String("source_identity", sess.sourceIdentity))
	domainPath := s.studio.path + "/" + domainID
	http.SetCookie(w, &http.Cookie{
		Name:     studioCookie(domainID),
		Value:    id,
		Path:     domainPath,
		Expires:  sess.expires,
		HttpOnly: true,
		Secure:   s.studio.secure,
		SameSite: http.SameSiteLaxMode,
	})
	target := (&url.URL{Path: domainPath + "/" + sess.landingPath}).EscapedPath()
	http.Redirect(w, r, target, http.StatusSeeOther)
}

// studioCookie names the session cookie per domain, so sessions for two
// domains in one browser do not overwrite each other.
func studioCookie(domainID string) string { return "awssim-studio-" + domainID }

func (s *Simulator) showApp(w http.ResponseWriter, r *http.Request, domainID, app string) {
	var sess *studioSession
	if c, err := r.Cookie(studioCookie(domainID)); err == nil {
		s.mu.Lock()
		sess = s.studioSessions[c.Value]
		s.mu.Unlock()
	}
	switch {
	case sess == nil || sess.domainID != domainID:
		s.renderStudio(w, r, http.StatusForbidden, studioPage{Title: "Access denied",
			Detail: "You are not signed in to this domain. Open a presigned URL to sign in."})
		return
	case !s.now().Before(sess.expires):
		s.renderStudio(w, r, http.StatusForbidden, studioPage{Title: "Access denied",
			Detail: "Your Studio session expired. Open a new presigned URL to sign in again."})
		return
	}
	s.renderStudio(w, r, http.StatusOK, studioPage{Title: "SageMaker Studio (simulated)", Session: &studioView{
		Account:     sess.accountID,
		Region:      sess.region,
		DomainID:    sess.domainID,
		DomainName:  sess.domainName,
		UserProfile: sess.profile,
		Space:       sess.space,
		App:         "/" + app,
		LandingURI:  sess.landingURI,
		signInView:  newSignInView(sess.mintedBy, sess.sessionName, sess.sourceIdentity, sess.signedIn, sess.expires),
	}})
}

func (s *Simulator) renderStudio(w http.ResponseWriter, r *http.Request, status int, page studioPage) {
	s.renderPage(w, r, status, studioTemplate(), page)
}

// pageHeaders sets the headers of every simulated page and redirect. They
// carry session state: never cache them, and never leak the token-bearing
// URL through Referer.
func pageHeaders(w http.ResponseWriter) http.Header {
	h := w.Header()
	h.Set("Cache-Control", "no-store")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'")
	return h
}

// renderPage renders a simulated page (Studio, a notebook) fully before
// writing it, so a template error is still a clean 500.
func (s *Simulator) renderPage(w http.ResponseWriter, r *http.Request, status int, t *template.Template, data any) {
	var buf bytes.Buffer
	if err := t.Execute(&buf, data); err != nil {
		s.log.LogAttrs(r.Context(), slog.LevelError, "awssim page template", slog.String("template", t.Name()), slog.String("error", err.Error()))
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}
