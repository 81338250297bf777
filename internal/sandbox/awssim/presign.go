package awssim

import (
	"context"
	"net/http"
	"net/url"
	"path"
	"strings"
	"time"
)

// CreatePresignedDomainUrl: mints a one-time token for the simulated Studio.

const (
	defaultURLExpiry     = 300 * time.Second
	defaultStudioSession = 43200 * time.Second
)

type createPresignedDomainURLInput struct {
	DomainId                           *string
	UserProfileName                    *string
	SpaceName                          *string
	LandingUri                         *string
	ExpiresInSeconds                   *int64
	SessionExpirationDurationInSeconds *int64
}

type createPresignedDomainURLOutput struct {
	AuthorizedUrl string `json:"AuthorizedUrl"`
}

// presignedURL is what the token of every presigned URL (Studio, notebook)
// holds: who minted it, how long the session it opens lasts, and that it
// signs in once, until it expires.
type presignedURL struct {
	mintedBy, sessionName, sourceIdentity string
	expires                               time.Time
	sessionDuration                       time.Duration
	used                                  bool
}

// presignedBy starts the presignedURL that p mints, for a session of
// sessionSeconds (AWS's default of 12 hours when nil).
func presignedBy(p *principal, sessionSeconds *int64) presignedURL {
	u := presignedURL{mintedBy: p.arn, sessionName: p.sessionName, sourceIdentity: p.sourceIdentity,
		sessionDuration: defaultStudioSession}
	if sessionSeconds != nil {
		u.sessionDuration = time.Duration(*sessionSeconds) * time.Second
	}
	return u
}

// refusal says why the URL cannot sign in at now, or "" when it can.
// validFor tells people how long such URLs last.
func (u *presignedURL) refusal(now time.Time, validFor string) string {
	switch {
	case u.used:
		return "This sign-in link was already used. Presigned URLs work only once; ask sagegate for a new one."
	case !now.Before(u.expires):
		return "This sign-in link expired. " + validFor + "; ask sagegate for a new one."
	}
	return ""
}

// studioToken is what a presigned Studio URL stands for: which profile
// it opens, and how.
type studioToken struct {
	domainID, domainName, accountID, region string
	profile, space, landingURI, landingPath string
	presignedURL
}

func (s *Simulator) createPresignedDomainURL(_ context.Context, c *call, p *principal, in *createPresignedDomainURLInput) (any, *apiError) {
	v := validationErrors{code: "ValidationException"}
	checkName(&v, "domainId", in.DomainId, true, domainIDPattern())
	checkName(&v, "userProfileName", in.UserProfileName, true, resourceNamePattern())
	checkName(&v, "spaceName", in.SpaceName, false, resourceNamePattern())
	checkRange(&v, "expiresInSeconds", in.ExpiresInSeconds, 5, 300)
	checkRange(&v, "sessionExpirationDurationInSeconds", in.SessionExpirationDurationInSeconds, 1800, 43200)
	checkMaxLen(&v, "landingUri", in.LandingUri, 1023)
	if e := v.err(); e != nil {
		return nil, e
	}
	if in.LandingUri != nil && !landingURIPattern().MatchString(*in.LandingUri) {
		return nil, newAPIError(http.StatusBadRequest, "ValidationException",
			"Invalid LandingUri '"+*in.LandingUri+"': expected studio::<path> or app:<JupyterServer|JupyterLab|RStudioServerPro|CodeEditor|Canvas>:<path>")
	}
	c.rec.DomainID, c.rec.UserProfile = *in.DomainId, *in.UserProfileName
	c.rec.Space = deref(in.SpaceName)

	d := s.domainInRegion(p.accountID, p.region, *in.DomainId)
	switch {
	case d == nil:
		return nil, domainNotFound(p.accountID, p.region, *in.DomainId)
	case d.AuthMode != "IAM":
		return nil, newAPIError(http.StatusBadRequest, "ValidationException",
			"Domain '"+d.ID+"' uses "+d.AuthMode+" authentication; presigned URLs are only supported for IAM mode domains.")
	case d.Status != "InService":
		return nil, newAPIError(http.StatusBadRequest, "ValidationException",
			"Domain '"+d.ID+"' is in status "+d.Status+", not InService.")
	}
	status, ok := s.profileStatus(d, *in.UserProfileName)
	if !ok {
		return nil, profileNotFound(d, *in.UserProfileName)
	}
	if status != StatusInService {
		return nil, newAPIError(http.StatusBadRequest, "ValidationException",
			"User profile '"+*in.UserProfileName+"' is in status "+status+", not InService.")
	}
	if in.SpaceName != nil {
		sp, status, ok := s.space(d, *in.SpaceName)
		switch {
		case !ok:
			return nil, newAPIError(http.StatusBadRequest, "ResourceNotFound",
				"Space '"+*in.SpaceName+"' not found in domain '"+d.ID+"'.")
		case status != StatusInService:
			return nil, newAPIError(http.StatusBadRequest, "ValidationException",
				"Space '"+sp.Name+"' is in status "+status+", not InService.")
		case sp.OwnerProfile != "" && sp.OwnerProfile != *in.UserProfileName:
			return nil, newAPIError(http.StatusBadRequest, "ValidationException",
				"Space '"+sp.Name+"' is private to user profile '"+sp.OwnerProfile+"'.")
		}
	}

	expiresIn := defaultURLExpiry
	if in.ExpiresInSeconds != nil {
		expiresIn = time.Duration(*in.ExpiresInSeconds) * time.Second
	}
	tok := &studioToken{
		domainID:     d.ID,
		domainName:   d.Name,
		accountID:    d.accountID,
		region:       d.Region,
		profile:      *in.UserProfileName,
		space:        deref(in.SpaceName),
		landingURI:   deref(in.LandingUri),
		landingPath:  landingPath(deref(in.LandingUri)),
		presignedURL: presignedBy(p, in.SessionExpirationDurationInSeconds),
	}
	token := s.mintStudioToken(tok, expiresIn)
	return createPresignedDomainURLOutput{
		AuthorizedUrl: s.studioURL(d) + "/auth?token=" + url.QueryEscape(token),
	}, nil
}

func (s *Simulator) mintStudioToken(tok *studioToken, expiresIn time.Duration) string {
	now := s.now()
	tok.expires = now.Add(expiresIn)
	token := randomToken()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pruneLocked(now)
	s.tokens[token] = tok
	return token
}

// landingPath maps a LandingUri to the path below the domain where the
// simulated Studio lands, mirroring where the real apps live.
func landingPath(uri string) string {
	if uri == "" {
		return "lab"
	}
	kind, rest, _ := strings.Cut(uri, ":")
	app, rel, _ := strings.Cut(rest, ":")
	// Cleaning a rooted path drops any "..", keeping the redirect inside
	// the domain.
	rel = strings.TrimPrefix(path.Clean("/"+rel), "/")
	prefix := "studio"
	if kind == "app" {
		prefix = strings.ToLower(app) + "/default"
	}
	if rel == "" {
		return prefix
	}
	return prefix + "/" + rel
}
