package awssim

import (
	"cmp"
	"context"
	_ "embed"
	"html/template"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"
)

// Presigned notebook URLs and the simulated Jupyter they open. As on AWS
// the URL works once, for 5 minutes whatever the session length, and the
// session that follows is bound to one instance. An instance is reached at
// <NotebookBaseURL>/<account>/<region>/<name>/ (on AWS,
// https://<name>.notebook.<region>.sagemaker.aws/).

// notebookURLExpiry is fixed by AWS: CreatePresignedNotebookInstanceUrl has
// no parameter for it.
const notebookURLExpiry = 5 * time.Minute

//go:embed notebook.html
var notebookHTML string

var notebookTemplate = sync.OnceValue(func() *template.Template { return pageTemplate("notebook", notebookHTML) })

// notebookToken is what a presigned notebook URL stands for.
type notebookToken struct {
	key notebookKey
	presignedURL
}

// notebookSession is a browser signed in to one instance.
type notebookSession struct {
	notebookToken
	signedIn, expires time.Time
}

// notebookHost is the address of an instance, as DescribeNotebookInstance's
// Url gives it.
func (s *Simulator) notebookHost(k notebookKey) string {
	return s.notebookBase.url + "/" + k.account + "/" + k.region + "/" + k.name
}

type createPresignedNotebookURLInput struct {
	NotebookInstanceName               *string
	SessionExpirationDurationInSeconds *int64
}

type createPresignedNotebookURLOutput struct {
	AuthorizedUrl string `json:"AuthorizedUrl"`
}

func (s *Simulator) createPresignedNotebookInstanceURL(_ context.Context, c *call, p *principal, in *createPresignedNotebookURLInput) (any, *apiError) {
	v := validationErrors{code: "ValidationException"}
	checkName(&v, "notebookInstanceName", in.NotebookInstanceName, true, resourceNamePattern())
	checkRange(&v, "sessionExpirationDurationInSeconds", in.SessionExpirationDurationInSeconds, 1800, 43200)
	if e := v.err(); e != nil {
		return nil, e
	}
	key, _ := s.notebookFor(c, p, in.NotebookInstanceName)
	now := s.now()
	s.nb.mu.Lock()
	nb := s.nb.getLocked(key, now)
	s.nb.mu.Unlock()
	if nb == nil {
		return nil, recordNotFound()
	}
	tok := &notebookToken{key: key, presignedURL: presignedBy(p, in.SessionExpirationDurationInSeconds)}
	tok.expires = now.Add(notebookURLExpiry)
	token := randomToken()
	s.mu.Lock()
	s.pruneLocked(now)
	s.notebookTokens[token] = tok
	s.mu.Unlock()
	return createPresignedNotebookURLOutput{AuthorizedUrl: s.notebookHost(key) + "?authToken=" + url.QueryEscape(token)}, nil
}

// NotebookHandler serves the simulated notebook instances below
// NotebookBaseURL's path, mounted with the full path or under
// http.StripPrefix.
//
//	GET <base>/<account>/<region>/<name>?authToken=...  redeem a presigned URL (303 to tree)
//	GET <base>/<account>/<region>/<name>/tree           Jupyter, for a signed-in browser
func (s *Simulator) NotebookHandler() http.Handler {
	return http.HandlerFunc(s.serveNotebook)
}

type notebookPage = simPage[notebookView]

type notebookView struct {
	Account, Region, Name, Status, InstanceType string
	signInView
}

func (s *Simulator) serveNotebook(w http.ResponseWriter, r *http.Request) {
	h := pageHeaders(w)
	if r.Method != http.MethodGet {
		h.Set("Allow", "GET")
		s.renderNotebook(w, r, http.StatusMethodNotAllowed, notebookPage{Title: "Method not allowed"})
		return
	}
	rest := r.URL.Path
	if s.notebookBase.path != "" {
		rest = strings.TrimPrefix(rest, s.notebookBase.path)
	}
	parts := strings.SplitN(strings.Trim(rest, "/"), "/", 4)
	if len(parts) < 3 || !accountIDPattern().MatchString(parts[0]) || !resourceNamePattern().MatchString(parts[2]) {
		s.renderNotebook(w, r, http.StatusNotFound, notebookPage{Title: "Not found", Detail: "There is no notebook instance at this address."})
		return
	}
	key := notebookKey{parts[0], parts[1], parts[2]}
	if tok := r.URL.Query().Get("authToken"); tok != "" {
		s.redeemNotebook(w, r, key, tok)
		return
	}
	s.showNotebook(w, r, key)
}

func (s *Simulator) redeemNotebook(w http.ResponseWriter, r *http.Request, key notebookKey, token string) {
	now := s.now()
	s.mu.Lock()
	tok := s.notebookTokens[token]
	problem := "This sign-in link is not valid."
	if tok != nil && tok.key == key {
		problem = tok.refusal(now, "Presigned notebook URLs are valid for 5 minutes only")
	}
	if problem != "" {
		s.mu.Unlock()
		s.log.LogAttrs(r.Context(), slog.LevelWarn, "awssim notebook sign-in refused",
			slog.String("notebook", key.name), slog.String("reason", problem))
		s.renderNotebook(w, r, http.StatusForbidden, notebookPage{Title: "Access denied", Detail: problem})
		return
	}
	tok.used = true
	sess := &notebookSession{notebookToken: *tok, signedIn: now, expires: now.Add(tok.sessionDuration)}
	id := randomToken()
	s.notebookSessions[id] = sess
	s.mu.Unlock()

	s.log.LogAttrs(r.Context(), slog.LevelInfo, "awssim notebook sign-in",
		slog.String("account", key.account), slog.String("notebook", key.name), slog.String("source_identity", sess.sourceIdentity))
	base := s.notebookBase.path + "/" + key.account + "/" + key.region + "/" + key.name
	http.SetCookie(w, &http.Cookie{Name: "awssim-notebook", Value: id, Path: base, Expires: sess.expires,
		HttpOnly: true, Secure: s.notebookBase.secure, SameSite: http.SameSiteLaxMode})
	http.Redirect(w, r, (&url.URL{Path: base + "/tree"}).EscapedPath(), http.StatusSeeOther)
}

func (s *Simulator) showNotebook(w http.ResponseWriter, r *http.Request, key notebookKey) {
	var sess *notebookSession
	if c, err := r.Cookie("awssim-notebook"); err == nil {
		s.mu.Lock()
		sess = s.notebookSessions[c.Value]
		s.mu.Unlock()
	}
	now := s.now()
	switch {
	case sess == nil || sess.key != key:
		s.renderNotebook(w, r, http.StatusForbidden, notebookPage{Title: "Access denied",
			Detail: "You are not signed in to this notebook instance. Open a presigned URL to sign in."})
		return
	case !now.Before(sess.expires):
		s.renderNotebook(w, r, http.StatusForbidden, notebookPage{Title: "Access denied",
			Detail: "Your notebook session expired. Open a new presigned URL to sign in again."})
		return
	}
	s.nb.mu.Lock()
	nb := s.nb.getLocked(key, now)
	var status, itype string
	if nb != nil {
		status, itype = nb.Status, nb.InstanceType
	}
	s.nb.mu.Unlock()
	if status != NotebookInService {
		// As on AWS, a stopped instance's address answers nothing useful.
		s.renderNotebook(w, r, http.StatusServiceUnavailable, notebookPage{Title: "Notebook instance not running",
			Detail: "The notebook instance " + key.name + " is " + strings.ToLower(cmp.Or(status, "gone")) + ". Start it from sagegate."})
		return
	}
	s.renderNotebook(w, r, http.StatusOK, notebookPage{Title: "Jupyter (simulated)", Session: &notebookView{
		Account: key.account, Region: key.region, Name: key.name, Status: status, InstanceType: itype,
		signInView: newSignInView(sess.mintedBy, sess.sessionName, sess.sourceIdentity, sess.signedIn, sess.expires),
	}})
}

func (s *Simulator) renderNotebook(w http.ResponseWriter, r *http.Request, status int, page notebookPage) {
	s.renderPage(w, r, status, notebookTemplate(), page)
}

// Tags of notebook instances (the only taggable resource the simulator
// keeps tags for through these operations).

type listTagsInput struct {
	ResourceArn *string
	MaxResults  *int64
	NextToken   *string
}

type listTagsOutput struct {
	Tags      []Tag  `json:"Tags"`
	NextToken string `json:"NextToken,omitempty"`
}

type addTagsInput struct {
	ResourceArn *string
	Tags        []Tag
}

type addTagsOutput struct {
	Tags []Tag `json:"Tags"`
}

// notebookByARN finds the caller's instance an ARN names.
func (s *Simulator) notebookByARN(c *call, p *principal, arn *string) (*notebook, *apiError) {
	if arn == nil || *arn == "" {
		return nil, newAPIError(http.StatusBadRequest, "ValidationException", "1 validation error detected: Value null at 'resourceArn' failed to satisfy constraint: Member must not be null")
	}
	prefix := "arn:aws:sagemaker:" + p.region + ":" + p.accountID + ":notebook-instance/"
	lower, ok := strings.CutPrefix(*arn, prefix)
	if !ok {
		return nil, newAPIError(http.StatusBadRequest, "ResourceNotFound", "Resource "+*arn+" not found.")
	}
	for k := range s.nb.byKey {
		if k.account == p.accountID && k.region == p.region && strings.ToLower(k.name) == lower {
			if nb := s.nb.getLocked(k, s.now()); nb != nil {
				c.rec.NotebookInstance = k.name
				return nb, nil
			}
		}
	}
	return nil, newAPIError(http.StatusBadRequest, "ResourceNotFound", "Resource "+*arn+" not found.")
}

func (s *Simulator) listTags(_ context.Context, c *call, p *principal, in *listTagsInput) (any, *apiError) {
	v := validationErrors{code: "ValidationException"}
	s.nb.mu.Lock()
	nb, e := s.notebookByARN(c, p, in.ResourceArn)
	var tags []Tag
	if nb != nil {
		tags = slices.Clone(nb.Tags)
	}
	s.nb.mu.Unlock()
	if e != nil {
		return nil, e
	}
	pg, e := paginate(&v, len(tags), in.MaxResults, in.NextToken, "ListTags:"+*in.ResourceArn)
	if e != nil {
		return nil, e
	}
	return listTagsOutput{Tags: append([]Tag{}, tags[pg.start:pg.end]...), NextToken: pg.next}, nil
}

func (s *Simulator) addTags(_ context.Context, c *call, p *principal, in *addTagsInput) (any, *apiError) {
	v := validationErrors{code: "ValidationException"}
	checkTags(&v, in.Tags)
	if e := v.err(); e != nil {
		return nil, e
	}
	s.nb.mu.Lock()
	defer s.nb.mu.Unlock()
	nb, e := s.notebookByARN(c, p, in.ResourceArn)
	if e != nil {
		return nil, e
	}
	tags := slices.Clone(nb.Tags)
	for _, t := range in.Tags {
		if i := slices.IndexFunc(tags, func(old Tag) bool { return old.Key == t.Key }); i >= 0 {
			tags[i] = t
		} else {
			tags = append(tags, t)
		}
	}
	if len(tags) > 50 {
		return nil, newAPIError(http.StatusBadRequest, "ResourceLimitExceeded", "A resource can have at most 50 tags.")
	}
	nb.Tags = tags
	return addTagsOutput{Tags: slices.Clone(in.Tags)}, nil
}
