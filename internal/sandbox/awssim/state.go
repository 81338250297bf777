package awssim

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"encoding/base64"
	"encoding/hex"
	"maps"
	"slices"
	"strings"
	"time"
)

// account is the simulator's private copy of an Account, indexed for lookup.
// It is never mutated after AddAccount, so readers may keep a pointer to it
// after releasing the lock.
type account struct {
	id      string
	roles   map[string]Role // by Name (with path)
	domains []*domain       // in the order given, which ListDomains keeps
	byID    map[string]*domain
}

type domain struct {
	Domain
	accountID string
	created   time.Time
	profiles  map[string]bool
	spaces    map[string]Space
}

func newAccount(a Account, now time.Time) *account {
	acct := &account{
		id:    a.ID,
		roles: make(map[string]Role, len(a.Roles)),
		byID:  make(map[string]*domain, len(a.Domains)),
	}
	for _, r := range a.Roles {
		r.TrustedAccounts = slices.Clone(r.TrustedAccounts)
		acct.roles[r.Name] = r
	}
	for _, d := range a.Domains {
		d.UserProfiles = slices.Clone(d.UserProfiles)
		d.Spaces = slices.Clone(d.Spaces)
		if d.Region == "" {
			d.Region = defaultRegion
		}
		if d.AuthMode == "" {
			d.AuthMode = "IAM"
		}
		if d.Status == "" {
			d.Status = "InService"
		}
		if d.Name == "" {
			d.Name = d.ID
		}
		dom := &domain{
			Domain:    d,
			accountID: a.ID,
			created:   now,
			profiles:  make(map[string]bool, len(d.UserProfiles)),
			spaces:    make(map[string]Space, len(d.Spaces)),
		}
		for _, p := range d.UserProfiles {
			dom.profiles[p] = true
		}
		for _, sp := range d.Spaces {
			dom.spaces[sp.Name] = sp
		}
		acct.domains = append(acct.domains, dom)
		acct.byID[d.ID] = dom
	}
	return acct
}

func (d *domain) arn() string {
	return "arn:aws:sagemaker:" + d.Region + ":" + d.accountID + ":domain/" + d.ID
}

func (d *domain) profileARN(profile string) string {
	return "arn:aws:sagemaker:" + d.Region + ":" + d.accountID + ":user-profile/" + d.ID + "/" + profile
}

// session is a set of temporary credentials issued by AssumeRole.
type session struct {
	accessKeyID     string
	secretAccessKey string
	sessionToken    string
	expires         time.Time

	accountID      string
	roleARN        string
	assumedARN     string
	assumedRoleID  string // "AROA...:<session name>"
	sessionName    string
	sourceIdentity string
}

// principal is who signed a request, resolved from its access key.
type principal struct {
	accountID string
	arn       string
	userID    string
	temporary bool // signed with AssumeRole credentials
	// Set for temporary credentials only.
	roleARN        string
	sessionName    string
	sourceIdentity string
	// region is the region of the request's SigV4 credential scope.
	region string
}

// domainInRegion finds a domain that the principal's account owns in the
// request's region; other accounts' domains are invisible, as on AWS.
func (s *Simulator) domainInRegion(accountID, region, id string) *domain {
	s.mu.Lock()
	defer s.mu.Unlock()
	acct := s.accounts[accountID]
	if acct == nil {
		return nil
	}
	d := acct.byID[id]
	if d == nil || d.Region != region {
		return nil
	}
	return d
}

// domainsInRegion lists an account's domains in one region.
func (s *Simulator) domainsInRegion(accountID, region string) []*domain {
	s.mu.Lock()
	defer s.mu.Unlock()
	acct := s.accounts[accountID]
	if acct == nil {
		return nil
	}
	var out []*domain
	for _, d := range acct.domains {
		if d.Region == region {
			out = append(out, d)
		}
	}
	return out
}

// expiredRetention is how long expired credentials, tokens and Studio
// sessions are kept. AWS keeps answering "expired" for an expired token
// (the token carries its own expiry); dropping it at once would turn that
// into "invalid" and hide the real cause from the client under test.
const expiredRetention = 24 * time.Hour

// urlRetention is the same for presigned-URL tokens, which live 5 minutes
// at most and are minted by the thousand per second under a load test (and
// mostly never opened): kept a day, they grew memory by gigabytes an hour.
// A URL opened more than this after it expired is answered "not valid"
// instead of "expired".
const urlRetention = 15 * time.Minute

// pruneLocked drops what expired more than expiredRetention ago. It runs at
// most every 30 simulated seconds so that minting stays O(1) amortised
// under load. Callers hold s.mu.
func (s *Simulator) pruneLocked(now time.Time) {
	if now.Sub(s.lastPrune) < 30*time.Second {
		return
	}
	s.lastPrune = now
	maps.DeleteFunc(s.sessions, func(_ string, v *session) bool { return now.Sub(v.expires) > expiredRetention })
	maps.DeleteFunc(s.tokens, func(_ string, v *studioToken) bool { return now.Sub(v.expires) > urlRetention })
	maps.DeleteFunc(s.studioSessions, func(_ string, v *studioSession) bool { return now.Sub(v.expires) > expiredRetention })
	maps.DeleteFunc(s.notebookTokens, func(_ string, v *notebookToken) bool { return now.Sub(v.expires) > urlRetention })
	maps.DeleteFunc(s.notebookSessions, func(_ string, v *notebookSession) bool { return now.Sub(v.expires) > expiredRetention })
}

var idEncoding = base32.StdEncoding.WithPadding(base32.NoPadding)

// randomKeyID returns an access key id with AWS's shape: a four letter
// prefix ("ASIA" for temporary keys) and 16 upper-case base32 characters.
func randomKeyID(prefix string) string {
	b := make([]byte, 10)
	_, _ = rand.Read(b) // crypto/rand.Read never fails
	return prefix + idEncoding.EncodeToString(b)
}

// randomSecret returns n random bytes, base64 encoded without padding.
func randomSecret(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return base64.RawStdEncoding.EncodeToString(b)
}

// randomToken returns a URL-safe bearer token with 256 bits of entropy.
func randomToken() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// stableID derives an IAM unique id (AROA..., AIDA...) from a name, so the
// same role keeps the same id across AddAccount calls, as on AWS.
func stableID(prefix, name string) string {
	sum := sha256.Sum256([]byte(name))
	return prefix + idEncoding.EncodeToString(sum[:])[:17]
}

// requestID returns a random id shaped like AWS request ids (a UUID).
func requestID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b)
	return strings.Join([]string{h[0:8], h[8:12], h[12:16], h[16:20], h[20:32]}, "-")
}
