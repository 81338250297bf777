package identity

import (
	"fmt"
	"net"
	"net/url"
	"regexp"
	"strings"
)

// Provider kinds.
const (
	TypeOIDC    = "oidc"
	TypeCognito = "cognito"
)

// Cognito token_use values.
const (
	TokenUseAccess = "access"
	TokenUseID     = "id"
)

// Claim defaults for oidc providers.
const (
	// DefaultUsernameClaim is the oidc username claim. There is deliberately
	// no silent fallback to `sub`: routing keys on the username, and a key
	// that changes shape depending on which claims a token happens to carry
	// would route the same person differently. Set usernameClaim to "sub"
	// or "email" explicitly if that is what the users table holds.
	DefaultUsernameClaim = "preferred_username"
	DefaultGroupsClaim   = "groups"
	DefaultEmailClaim    = "email"
)

// ProviderConfig is one trusted token issuer. It is decoded from the config
// file (YAML through sigs.k8s.io/yaml, so the json tags are the field names).
type ProviderConfig struct {
	// Name identifies the provider in logs, audit records and Principal.Provider.
	Name string `json:"name"`
	// Type is "oidc" (any OpenID Connect provider) or "cognito".
	Type string `json:"type"`

	// UserPoolID is the Cognito user pool, e.g. "eu-west-1_AbCdEf123".
	UserPoolID string `json:"userPoolId,omitempty"`
	// Region of the user pool; derived from the pool id prefix when empty.
	Region string `json:"region,omitempty"`
	// ClientIDs are the Cognito app clients whose tokens are accepted: the
	// `client_id` claim of access tokens, the `aud` claim of ID tokens.
	ClientIDs []string `json:"clientIds,omitempty"`
	// TokenUse lists the accepted Cognito token kinds, "access" and/or "id".
	// Empty accepts both.
	TokenUse []string `json:"tokenUse,omitempty"`

	// Issuer is the exact `iss` of accepted tokens. Required for oidc; for
	// cognito it is derived (https://cognito-idp.<region>.amazonaws.com/<pool>)
	// unless set, which is how an emulator such as cognito-local is used.
	Issuer string `json:"issuer,omitempty"`
	// JWKSURL overrides where signing keys are fetched. oidc: found by
	// discovery (<issuer>/.well-known/openid-configuration) when empty;
	// cognito: <issuer>/.well-known/jwks.json when empty.
	JWKSURL string `json:"jwksUrl,omitempty"`

	// Audiences are the accepted `aud` values of oidc tokens (at least one).
	Audiences []string `json:"audiences,omitempty"`
	// UsernameClaim names the oidc claim that becomes Principal.Username
	// (default DefaultUsernameClaim). A token without it is refused.
	UsernameClaim string `json:"usernameClaim,omitempty"`
	// GroupsClaim names the oidc claim listing groups (default "groups"),
	// a list of strings or a single string. Absent means no groups.
	GroupsClaim string `json:"groupsClaim,omitempty"`
	// EmailClaim names the oidc claim holding the email (default "email").
	EmailClaim string `json:"emailClaim,omitempty"`
}

var (
	// At most 63 characters, checked apart (a counted repetition compiles
	// to a copy of its class per count).
	namePattern   = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*$`)
	poolPattern   = regexp.MustCompile(`^[\w-]+_[0-9A-Za-z]+$`)
	regionPattern = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-\d+$`)
)

// Validate reports every problem of one provider at once. Each message
// starts with the json name of the field; the caller prefixes the path.
func (c ProviderConfig) Validate() []error {
	var errs []error
	add := func(field, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", field, fmt.Sprintf(format, args...)))
	}

	switch {
	case c.Name == "":
		add("name", "required")
	case len(c.Name) > 63 || !namePattern.MatchString(c.Name):
		add("name", "must be 1-63 letters, digits, '.', '_' or '-', starting with a letter or digit")
	}
	if c.Issuer != "" {
		if err := checkEndpoint(c.Issuer); err != nil {
			add("issuer", "%v", err)
		}
	}
	if c.JWKSURL != "" {
		if err := checkEndpoint(c.JWKSURL); err != nil {
			add("jwksUrl", "%v", err)
		}
	}

	switch c.Type {
	case TypeOIDC:
		if c.Issuer == "" {
			add("issuer", "required for oidc providers")
		}
		if len(c.Audiences) == 0 {
			add("audiences", "at least one audience is required for oidc providers")
		}
		checkNonEmpty(add, "audiences", c.Audiences)
		for _, f := range []struct {
			name string
			set  bool
		}{
			{"userPoolId", c.UserPoolID != ""}, {"region", c.Region != ""},
			{"clientIds", len(c.ClientIDs) > 0}, {"tokenUse", len(c.TokenUse) > 0},
		} {
			if f.set {
				add(f.name, "only applies to cognito providers")
			}
		}
		for _, f := range []struct{ name, claim string }{
			{"usernameClaim", c.UsernameClaim}, {"groupsClaim", c.GroupsClaim}, {"emailClaim", c.EmailClaim},
		} {
			if f.claim != "" && strings.TrimSpace(f.claim) != f.claim {
				add(f.name, "must not have surrounding spaces")
			}
		}
	case TypeCognito:
		errs = append(errs, c.validateCognito()...)
	case "":
		add("type", "required: oidc or cognito")
	default:
		add("type", "must be oidc or cognito")
	}
	return errs
}

func (c ProviderConfig) validateCognito() []error {
	var errs []error
	add := func(field, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", field, fmt.Sprintf(format, args...)))
	}
	switch {
	case c.UserPoolID == "":
		add("userPoolId", "required for cognito providers")
	case !poolPattern.MatchString(c.UserPoolID):
		add("userPoolId", "must look like <region>_<id>, e.g. eu-west-1_AbCdEf123")
	}
	if c.Region != "" && !regionPattern.MatchString(c.Region) {
		add("region", "must be an AWS region such as eu-west-1")
	}
	if pr := poolRegion(c.UserPoolID); c.Region != "" && pr != "" && pr != c.Region {
		add("region", "%q does not match the region of userPoolId (%q)", c.Region, pr)
	}
	if c.Issuer == "" && c.cognitoRegion() == "" && poolPattern.MatchString(c.UserPoolID) {
		add("region", "required: it cannot be derived from userPoolId; or set issuer explicitly")
	}
	if len(c.ClientIDs) == 0 {
		// Without it any app client of the pool, including ones made for
		// other applications, could call sagegate.
		add("clientIds", "at least one app client id is required for cognito providers")
	}
	checkNonEmpty(add, "clientIds", c.ClientIDs)
	for i, u := range c.TokenUse {
		if u != TokenUseAccess && u != TokenUseID {
			add(fmt.Sprintf("tokenUse[%d]", i), "must be access or id")
		}
	}
	for _, f := range []struct {
		name string
		set  bool
	}{
		{"audiences", len(c.Audiences) > 0}, {"usernameClaim", c.UsernameClaim != ""},
		{"groupsClaim", c.GroupsClaim != ""}, {"emailClaim", c.EmailClaim != ""},
	} {
		if f.set {
			add(f.name, "only applies to oidc providers (cognito uses clientIds and its own claims)")
		}
	}
	return errs
}

func checkNonEmpty(add func(field, format string, args ...any), field string, vs []string) {
	for i, v := range vs {
		if strings.TrimSpace(v) == "" {
			add(fmt.Sprintf("%s[%d]", field, i), "must not be empty")
		}
	}
}

// checkEndpoint accepts absolute https URLs, and http only on loopback so
// that `sagegate dev` and local emulators work while a production config
// can never fetch signing keys over a network in clear text.
func checkEndpoint(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("not a valid URL")
	}
	if u.Host == "" || u.Opaque != "" {
		return fmt.Errorf("must be an absolute URL")
	}
	if u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return fmt.Errorf("must not contain credentials, a query or a fragment")
	}
	return secureScheme(u)
}

// secureScheme is the transport part of checkEndpoint, also applied to
// redirects followed while fetching keys.
func secureScheme(u *url.URL) error {
	switch u.Scheme {
	case "https":
	case "http":
		if !isLoopback(u.Hostname()) {
			return fmt.Errorf("must use https (http is only allowed for localhost)")
		}
	default:
		return fmt.Errorf("must use https")
	}
	return nil
}

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// poolRegion returns the region prefix of a user pool id, or "" when the
// prefix is not a region (emulators use ids such as "local_abc").
func poolRegion(pool string) string {
	prefix, _, ok := strings.Cut(pool, "_")
	if !ok || !regionPattern.MatchString(prefix) {
		return ""
	}
	return prefix
}

func (c ProviderConfig) cognitoRegion() string {
	if c.Region != "" {
		return c.Region
	}
	return poolRegion(c.UserPoolID)
}

// WithDefaults returns the config with every derived value filled in: the
// Cognito issuer and JWKS URL, the token uses, the oidc claim names. It is
// what the verifier uses and what `sagegate config check` can show.
func (c ProviderConfig) WithDefaults() ProviderConfig {
	switch c.Type {
	case TypeCognito:
		if c.Region == "" {
			c.Region = poolRegion(c.UserPoolID)
		}
		if c.Issuer == "" && c.Region != "" {
			c.Issuer = fmt.Sprintf("https://cognito-idp.%s.amazonaws.com/%s", c.Region, c.UserPoolID)
		}
		if c.JWKSURL == "" && c.Issuer != "" {
			c.JWKSURL = strings.TrimSuffix(c.Issuer, "/") + "/.well-known/jwks.json"
		}
		if len(c.TokenUse) == 0 {
			c.TokenUse = []string{TokenUseAccess, TokenUseID}
		}
	case TypeOIDC:
		if c.UsernameClaim == "" {
			c.UsernameClaim = DefaultUsernameClaim
		}
		if c.GroupsClaim == "" {
			c.GroupsClaim = DefaultGroupsClaim
		}
		if c.EmailClaim == "" {
			c.EmailClaim = DefaultEmailClaim
		}
	}
	return c
}

// ValidateProviders reports the problems of a provider list as a whole,
// which Validate cannot see: tokens are matched to a provider by exact
// issuer, so names and (derived) issuers must be unique. Messages start
// with "[i].field". Callers run Validate on each provider as well;
// NewVerifier does both.
func ValidateProviders(providers []ProviderConfig) []error {
	var errs []error
	names := map[string]int{}
	issuers := map[string]int{}
	for i, p := range providers {
		if p.Name != "" {
			if j, dup := names[p.Name]; dup {
				errs = append(errs, fmt.Errorf("[%d].name: %q is already the name of [%d]", i, p.Name, j))
			} else {
				names[p.Name] = i
			}
		}
		if iss := p.WithDefaults().Issuer; iss != "" {
			if j, dup := issuers[iss]; dup {
				errs = append(errs, fmt.Errorf("[%d].issuer: %q is already the issuer of [%d]", i, iss, j))
			} else {
				issuers[iss] = i
			}
		}
	}
	return errs
}

// validateAll is every check NewVerifier needs before it trusts a config.
func validateAll(providers []ProviderConfig) []error {
	if len(providers) == 0 {
		return []error{fmt.Errorf("at least one provider is required")}
	}
	var errs []error
	for i, p := range providers {
		for _, err := range p.Validate() {
			errs = append(errs, fmt.Errorf("[%d].%w", i, err))
		}
	}
	return append(errs, ValidateProviders(providers)...)
}
