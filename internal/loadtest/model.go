package loadtest

import (
	"encoding/base64"
	"math/rand/v2"
	"net/http"
	"slices"
	"strings"

	"github.com/sagegate/sagegate/internal/routing"
	"github.com/sagegate/sagegate/internal/sandbox"
)

// user is one person of the load: who they are, what they may open, and
// their token once fetched.
type user struct {
	name    string
	profile string // the Studio user-profile name the gateway must use
	lobs    []sandbox.DemoLOB
	token   string
}

func (u *user) lobInAccount(account string) *sandbox.DemoLOB {
	for i := range u.lobs {
		if u.lobs[i].AccountID == account {
			return &u.lobs[i]
		}
	}
	return nil
}

func (u *user) lob(name string) *sandbox.DemoLOB {
	for i := range u.lobs {
		if u.lobs[i].Name == name {
			return &u.lobs[i]
		}
	}
	return nil
}

func (u *user) hasLOB(name string) bool {
	return slices.ContainsFunc(u.lobs, func(l sandbox.DemoLOB) bool { return l.Name == name })
}

// model is the ground truth the answers are checked against: every user
// and every LOB of the population.
type model struct {
	users   []*user // by name
	byName  map[string]*user
	lobs    []sandbox.DemoLOB
	withLOB []*user // users with at least one LOB
	lacking []*user // users without every LOB (they can ask for a foreign one)
}

func newModel(routes map[string][]sandbox.DemoLOB) *model {
	m := &model{byName: make(map[string]*user, len(routes))}
	seen := map[string]bool{}
	for name, lobs := range routes {
		profile, err := routing.ProfileName(routing.ProfileRuleSanitized, name)
		if err != nil {
			profile = "" // the gateway cannot route this user; no profile is theirs
		}
		u := &user{name: name, profile: profile, lobs: lobs}
		m.users = append(m.users, u)
		m.byName[name] = u
		for _, l := range lobs {
			if !seen[l.Name] {
				seen[l.Name] = true
				m.lobs = append(m.lobs, l)
			}
		}
	}
	slices.SortFunc(m.users, func(a, b *user) int { return strings.Compare(a.name, b.name) })
	slices.SortFunc(m.lobs, func(a, b sandbox.DemoLOB) int { return strings.Compare(a.Name, b.Name) })
	for _, u := range m.users {
		if len(u.lobs) > 0 {
			m.withLOB = append(m.withLOB, u)
		}
		if len(u.lobs) < len(m.lobs) {
			m.lacking = append(m.lacking, u)
		}
	}
	return m
}

// request is one request of the load and the answer it must get.
type request struct {
	class  string
	user   *user
	path   string
	lob    string // the LOB a launch opens
	auth   string // the Authorization header
	expect expectation
}

// expectation is the right answer: a status and, for a launch, the domain
// the redirect must point into.
type expectation struct {
	status int
	domain string // set when the right answer is a presigned URL
}

// plan draws the next request: a class by weight, then a user and target
// that suit it. Every draw comes from r, so a worker's sequence is
// reproducible from the seed.
func (m *model) plan(r *rand.Rand, mix *weights) request {
	switch class := mix.draw(r); class {
	case ClassStudio:
		u := m.users[r.IntN(len(m.users))]
		req := request{class: class, user: u, path: "/studio", auth: bearer(u.token)}
		switch len(u.lobs) {
		case 0:
			req.expect.status = http.StatusNotFound
		case 1:
			req.expect = expectation{status: http.StatusFound, domain: u.lobs[0].DomainID}
		default:
			req.expect.status = http.StatusConflict
		}
		return req
	case ClassInvalid:
		u := m.users[r.IntN(len(m.users))]
		other := m.users[r.IntN(len(m.users))]
		path := "/studio"
		if len(u.lobs) > 0 {
			path = "/launch/" + u.lobs[0].Name
		}
		return request{class: class, user: u, path: path, auth: invalidAuth(r, u.token, other.token), expect: expectation{status: http.StatusUnauthorized}}
	case ClassCross:
		u := m.users[r.IntN(len(m.users))]
		v := m.users[r.IntN(len(m.users)-1)]
		if v == u {
			v = m.users[len(m.users)-1]
		}
		return request{class: class, user: u, path: "/studio/" + v.name, auth: bearer(u.token), expect: expectation{status: http.StatusForbidden}}
	case ClassForeign:
		if len(m.lacking) > 0 {
			u := m.lacking[r.IntN(len(m.lacking))]
			var foreign []string
			for _, l := range m.lobs {
				if !u.hasLOB(l.Name) {
					foreign = append(foreign, l.Name)
				}
			}
			if len(foreign) > 0 {
				lob := foreign[r.IntN(len(foreign))]
				return request{class: class, user: u, path: "/launch/" + lob, auth: bearer(u.token), expect: expectation{status: http.StatusNotFound}}
			}
		}
		fallthrough // nobody lacks a LOB: launch instead
	default:
		u := m.withLOB[r.IntN(len(m.withLOB))]
		l := u.lobs[r.IntN(len(u.lobs))]
		return request{class: ClassLaunch, user: u, path: "/launch/" + l.Name, lob: l.Name, auth: bearer(u.token),
			expect: expectation{status: http.StatusFound, domain: l.DomainID}}
	}
}

func bearer(token string) string { return "Bearer " + token }

// invalidAuth returns an Authorization header that must not authenticate:
// built from the user's real token where that makes the attack sharper.
func invalidAuth(r *rand.Rand, token, other string) string {
	parts := strings.SplitN(token, ".", 3)
	if len(parts) != 3 {
		return bearer("not-a-token")
	}
	switch r.IntN(6) {
	case 0: // random bytes in JWT shape
		seg := func() string {
			b := make([]byte, 24)
			for i := range b {
				b[i] = byte(r.Uint32())
			}
			return base64.RawURLEncoding.EncodeToString(b)
		}
		return bearer(seg() + "." + seg() + "." + seg())
	case 1: // one character of the signature changed
		sig := []byte(parts[2])
		i := len(sig) / 2
		if sig[i] == 'A' {
			sig[i] = 'B'
		} else {
			sig[i] = 'A'
		}
		return bearer(parts[0] + "." + parts[1] + "." + string(sig))
	case 2: // truncated
		return bearer(token[:len(token)-8])
	case 3: // alg none over the real claims
		none := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","typ":"JWT"}`))
		return bearer(none + "." + parts[1] + ".")
	case 4: // someone else's claims under this user's signature
		op := strings.SplitN(other, ".", 3)
		if len(op) == 3 && op[1] != parts[1] {
			return bearer(parts[0] + "." + op[1] + "." + parts[2])
		}
		return bearer(parts[0] + "." + parts[1] + "x." + parts[2])
	default: // the password, not a token
		return "Basic " + base64.StdEncoding.EncodeToString([]byte("user:demo"))
	}
}

// weights draws classes in proportion to a Mix.
type weights struct {
	names []string
	cum   []int
}

func newWeights(m Mix) *weights {
	w := &weights{}
	total := 0
	for _, c := range classes {
		if m[c] > 0 {
			total += m[c]
			w.names = append(w.names, c)
			w.cum = append(w.cum, total)
		}
	}
	return w
}

func (w *weights) draw(r *rand.Rand) string {
	x := r.IntN(w.cum[len(w.cum)-1])
	i, _ := slices.BinarySearch(w.cum, x+1)
	return w.names[i]
}
