package devidp

import (
	"crypto"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

// DefaultPassword is the password of a demo user whose Password is empty.
const DefaultPassword = "demo"

// Lifetimes that are not configurable: they only need to be long enough for
// a person at a laptop and short enough that a leaked value is soon useless.
const (
	defaultTokenTTL = time.Hour
	codeTTL         = 60 * time.Second
	refreshTTL      = 24 * time.Hour
	loginFormTTL    = 15 * time.Minute
)

// Sentinel errors returned by New and Mint, for errors.Is.
var (
	ErrUnknownUser   = errors.New("devidp: unknown user")
	ErrUnknownClient = errors.New("devidp: unknown client")
	ErrInvalidOption = errors.New("devidp: invalid option")
)

// User is a demo person who can sign in.
type User struct {
	Username string
	Email    string
	Name     string
	Groups   []string
	// Password is the demo password; empty means DefaultPassword ("demo").
	Password string
}

// Client is a registered OAuth client (relying party).
type Client struct {
	ID string
	// RedirectURIs must match a request's redirect_uri exactly, except that
	// for an http loopback URI (127.0.0.1, [::1] or localhost) any port is
	// accepted, as RFC 8252 section 7.3 asks, because native apps and CLIs
	// listen on whatever port the OS gives them.
	RedirectURIs []string
	// PostLogoutRedirectURIs are extra places /logout may send the browser
	// back to; RedirectURIs are accepted too, so a minimal config works.
	PostLogoutRedirectURIs []string
	// Public records that the client holds no secret. The dev issuer checks
	// no client secrets at all (token_endpoint_auth_methods_supported is
	// "none"): a secret a confidential client sends is ignored, so a server
	// configured for a real provider still works against this one. PKCE is
	// required of every client either way.
	Public bool
}

// Options configures an Issuer.
type Options struct {
	// Issuer is the exact `iss`, e.g. "http://127.0.0.1:8080/dev/oidc". The
	// caller mounts Handler at this URL's path.
	Issuer string
	// Audience is the `aud` of access tokens, e.g. "sagegate".
	Audience string
	Users    []User
	Clients  []Client
	// TokenTTL is the lifetime of access and ID tokens; default 1h.
	TokenTTL time.Duration
	// Now is the clock; default time.Now.
	Now func() time.Time
	// Logger receives one line per issuance or refusal; nil discards.
	Logger *slog.Logger
	// Key signs tokens: an RSA key of at least 2048 bits (RS256) or a P-256
	// ECDSA key (ES256). Nil generates an RSA 2048 key; pass an ECDSA key
	// where start-up time matters, since RSA generation takes a moment.
	Key crypto.Signer
}

// Issuer is a running dev OIDC issuer. It is safe for concurrent use.
type Issuer struct {
	issuer   string
	base     string // issuer without a trailing slash, to build endpoint URLs
	path     string // decoded issuer URL path, no trailing slash; "" at root
	secure   bool   // https issuer: cookies get the Secure flag
	audience string
	ttl      time.Duration
	now      func() time.Time
	log      *slog.Logger

	users   []User
	byName  map[string]*User
	clients map[string]*Client

	key     *signingKey
	formKey []byte // HMAC key that signs login forms
	pages   *template.Template
	store   *store
	handler http.Handler
}

// New validates opts and builds an Issuer. Every problem with opts is
// reported at once, wrapped around ErrInvalidOption.
func New(opts Options) (*Issuer, error) {
	i := &Issuer{
		issuer:   opts.Issuer,
		audience: opts.Audience,
		ttl:      opts.TokenTTL,
		now:      opts.Now,
		log:      opts.Logger,
		byName:   make(map[string]*User, len(opts.Users)),
		clients:  make(map[string]*Client, len(opts.Clients)),
		store:    newStore(),
	}
	if i.ttl == 0 {
		i.ttl = defaultTokenTTL
	}
	if i.now == nil {
		i.now = time.Now
	}
	if i.log == nil {
		i.log = slog.New(slog.DiscardHandler)
	}

	var problems []error
	problems = append(problems, i.setIssuer(opts.Issuer)...)
	if opts.Audience == "" {
		problems = append(problems, errors.New("opts.Audience is required"))
	}
	if opts.TokenTTL < 0 {
		problems = append(problems, errors.New("opts.TokenTTL must not be negative"))
	}
	problems = append(problems, i.setUsers(opts.Users)...)
	problems = append(problems, i.setClients(opts.Clients)...)
	if len(problems) > 0 {
		return nil, fmt.Errorf("%w: %w", ErrInvalidOption, errors.Join(problems...))
	}

	signer := opts.Key
	if signer == nil {
		var err error
		if signer, err = generateRSAKey(); err != nil {
			return nil, err
		}
	}
	key, err := newSigningKey(signer)
	if err != nil {
		return nil, fmt.Errorf("%w: Key: %w", ErrInvalidOption, err)
	}
	i.key = key

	i.formKey = make([]byte, 32)
	if _, err := rand.Read(i.formKey); err != nil {
		return nil, fmt.Errorf("devidp: form key: %w", err)
	}
	if i.pages, err = parsePages(); err != nil {
		return nil, err
	}
	i.handler = i.routes()
	return i, nil
}

func (i *Issuer) setIssuer(raw string) []error {
	u, err := url.Parse(raw)
	switch {
	case raw == "":
		return []error{errors.New("opts.Issuer is required")}
	case err != nil:
		return []error{fmt.Errorf("opts.Issuer: %w", err)}
	case u.Scheme != "http" && u.Scheme != "https":
		return []error{fmt.Errorf("opts.Issuer %q: scheme must be http or https", raw)}
	case u.Host == "":
		return []error{fmt.Errorf("opts.Issuer %q: host is required", raw)}
	case u.RawQuery != "" || u.Fragment != "" || u.User != nil:
		// OIDC Discovery forbids query and fragment components in an issuer.
		return []error{fmt.Errorf("opts.Issuer %q: must not have a query, fragment or user info", raw)}
	}
	i.base = strings.TrimSuffix(raw, "/")
	i.path = strings.TrimSuffix(u.Path, "/")
	i.secure = u.Scheme == "https"
	return nil
}

func (i *Issuer) setUsers(users []User) []error {
	var problems []error
	if len(users) == 0 {
		problems = append(problems, errors.New("at least one user is required"))
	}
	i.users = make([]User, 0, len(users))
	for n, u := range users {
		switch {
		case u.Username == "":
			problems = append(problems, fmt.Errorf("opts.Users[%d]: Username is required", n))
			continue
		case i.byName[u.Username] != nil:
			problems = append(problems, fmt.Errorf("opts.Users[%d]: duplicate Username %q", n, u.Username))
			continue
		}
		u.Groups = slices.Clone(u.Groups)
		if u.Password == "" {
			u.Password = DefaultPassword
		}
		i.users = append(i.users, u)
		i.byName[u.Username] = &i.users[len(i.users)-1]
	}
	return problems
}

func (i *Issuer) setClients(clients []Client) []error {
	var problems []error
	if len(clients) == 0 {
		problems = append(problems, errors.New("at least one client is required"))
	}
	for n, c := range clients {
		switch {
		case c.ID == "":
			problems = append(problems, fmt.Errorf("opts.Clients[%d]: ID is required", n))
			continue
		case i.clients[c.ID] != nil:
			problems = append(problems, fmt.Errorf("opts.Clients[%d]: duplicate ID %q", n, c.ID))
			continue
		}
		for _, raw := range slices.Concat(c.RedirectURIs, c.PostLogoutRedirectURIs) {
			if err := checkRegisteredURI(raw); err != nil {
				problems = append(problems, fmt.Errorf("opts.Clients[%d] %q: %w", n, c.ID, err))
			}
		}
		c.RedirectURIs = slices.Clone(c.RedirectURIs)
		c.PostLogoutRedirectURIs = slices.Clone(c.PostLogoutRedirectURIs)
		i.clients[c.ID] = &c
	}
	return problems
}

// Users returns copies of the demo users, in configuration order, with
// Password filled in (they are demo passwords, shown on the login page).
func (i *Issuer) Users() []User {
	out := make([]User, len(i.users))
	for n, u := range i.users {
		u.Groups = slices.Clone(u.Groups)
		out[n] = u
	}
	return out
}

// SubjectFor returns the `sub` of a demo user: a UUID (version 8, RFC 9562)
// derived from the username alone, so it looks like a Cognito subject, stays
// the same across restarts and ports, and differs from the username, which
// catches code that confuses the two.
func SubjectFor(username string) string {
	sum := sha256.Sum256([]byte("sagegate/devidp subject\x00" + username))
	b := sum[:16]
	b[6] = b[6]&0x0f | 0x80 // version 8: custom
	b[8] = b[8]&0x3f | 0x80 // RFC 9562 variant
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// Handler serves the issuer's endpoints. See the package documentation for
// how to mount it.
func (i *Issuer) Handler() http.Handler { return i.handler }

func (i *Issuer) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", i.serveDiscovery)
	mux.HandleFunc("GET /jwks", i.serveJWKS)
	mux.HandleFunc("GET /authorize", i.serveAuthorizeForm)
	mux.HandleFunc("POST /authorize", i.serveAuthorizeLogin)
	mux.HandleFunc("POST /token", i.serveToken)
	mux.HandleFunc("GET /userinfo", i.serveUserinfo)
	mux.HandleFunc("POST /userinfo", i.serveUserinfo)
	mux.HandleFunc("GET /logout", i.serveLogout)
	mux.HandleFunc("POST /logout", i.serveLogout)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rel := i.relativePath(r.URL.Path)
		if rel != r.URL.Path {
			r2 := new(http.Request)
			*r2 = *r
			u := *r.URL
			u.Path, u.RawPath = rel, ""
			r2.URL = &u
			r = r2
		}
		mux.ServeHTTP(w, r)
	})
}

// relativePath removes the issuer's path from p when it is there. A caller
// that used http.StripPrefix has already removed it; one that mounted the
// handler on a prefix pattern has not. No endpoint path starts with the
// issuer's own path, so the two cases cannot be confused.
func (i *Issuer) relativePath(p string) string {
	if i.path != "" && (p == i.path || strings.HasPrefix(p, i.path+"/")) {
		p = strings.TrimPrefix(p, i.path)
	}
	if p == "" {
		p = "/"
	}
	return p
}

// endpoint is the absolute URL of one of the issuer's endpoints.
func (i *Issuer) endpoint(rel string) string { return i.base + rel }

// browserPath is the path a browser uses for one of the issuer's endpoints.
// Pages use it rather than the absolute URL so that a browser that reached
// the issuer through another host name (localhost vs 127.0.0.1) stays on it
// and keeps its cookie.
func (i *Issuer) browserPath(rel string) string {
	return (&url.URL{Path: i.path + rel}).EscapedPath()
}
