package config

import (
	"fmt"
	"net"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/sagegate/sagegate/internal/identity"
	"github.com/sagegate/sagegate/internal/routing"
	"github.com/sagegate/sagegate/internal/routing/dynamodb"
	"github.com/sagegate/sagegate/internal/session"
)

// Defaults.
const (
	DefaultAddr            = "127.0.0.1:8080"
	DefaultShutdownTimeout = 20 * time.Second
	DefaultCallTimeout     = 5 * time.Second
	DefaultSessionDuration = 12 * time.Hour
	DefaultURLLifetime     = 5 * time.Second
	DefaultMetricsNS       = "sagegate"
)

// Values of lambda.trustAuthorizerContext.
const (
	TrustNone     = "none"
	TrustCognito  = "cognito"
	TrustSagegate = "sagegate"
)

// Values of lambda.httpApiAuthorizerResponse.
const (
	AuthorizerResponseSimple = "simple"
	AuthorizerResponsePolicy = "policy"
)

// ApplyDefaults fills what the file left out. It is idempotent.
func (c *Config) ApplyDefaults() {
	if c.Server.Addr == "" {
		c.Server.Addr = DefaultAddr
	}
	if c.Server.PublicURL == "" {
		c.Server.PublicURL = "http://" + c.Server.Addr
	}
	if c.Server.ShutdownTimeout == 0 {
		c.Server.ShutdownTimeout = Duration(DefaultShutdownTimeout)
	}
	if c.AWS.CallTimeout == 0 {
		c.AWS.CallTimeout = Duration(DefaultCallTimeout)
	}
	if c.Routing.Type == "" {
		c.Routing.Type = "file"
	}
	if c.Routing.SessionDuration == 0 {
		c.Routing.SessionDuration = Duration(DefaultSessionDuration)
	}
	if c.Routing.URLLifetime == 0 {
		c.Routing.URLLifetime = Duration(DefaultURLLifetime)
	}
	if c.Audit.Output == "" {
		c.Audit.Output = "stdout"
	}
	if c.Limits.LaunchesPerMinute == 0 {
		c.Limits.LaunchesPerMinute = 30
	}
	if c.Limits.LaunchBurst == 0 {
		c.Limits.LaunchBurst = 10
	}
	if c.Log.Level == "" {
		c.Log.Level = "info"
	}
	if c.Log.Format == "" {
		c.Log.Format = "json"
	}
	if c.Lambda.TrustAuthorizerContext == "" {
		c.Lambda.TrustAuthorizerContext = TrustNone
	}
	if c.Lambda.HTTPAPIAuthorizerResponse == "" {
		c.Lambda.HTTPAPIAuthorizerResponse = AuthorizerResponseSimple
	}
	if c.Lambda.MetricsNamespace == "" {
		c.Lambda.MetricsNamespace = DefaultMetricsNS
	}
	c.Notebooks.applyDefaults()
}

// RoutingDefaults are the per-LOB defaults the file sets.
func (c *Config) RoutingDefaults() routing.Defaults {
	return routing.Defaults{
		Region:          c.AWS.Region,
		SessionDuration: c.Routing.SessionDuration.D(),
		URLLifetime:     c.Routing.URLLifetime.D(),
		RoleName:        c.Routing.DefaultRole,
	}
}

// Validate reports every problem, each prefixed with its key's path.
func (c *Config) Validate() Problems { return c.validate(true) }

// validate is Validate; without strictRoutes a routes file need only be
// readable, its records are not checked.
func (c *Config) validate(strictRoutes bool) Problems {
	var p Problems
	add := func(path, format string, args ...any) {
		p = append(p, fmt.Errorf("%s: %s", path, fmt.Sprintf(format, args...)))
	}
	prefixed := func(path string, errs []error) {
		for _, e := range errs {
			p = append(p, fmt.Errorf("%s.%w", path, e))
		}
	}

	if _, _, err := net.SplitHostPort(c.Server.Addr); err != nil {
		add("server.addr", "want host:port, got %q", c.Server.Addr)
	}
	if u, err := url.Parse(c.Server.PublicURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		add("server.publicUrl", "want an absolute http(s) URL, got %q", c.Server.PublicURL)
	}
	if c.Server.ShutdownTimeout < 0 {
		add("server.shutdownTimeout", "must not be negative")
	}

	if len(c.Identity.Providers) == 0 {
		add("identity.providers", "at least one identity provider is required")
	}
	for i, pc := range c.Identity.Providers {
		prefixed(fmt.Sprintf("identity.providers[%d]", i), pc.Validate())
	}
	for _, e := range identity.ValidateProviders(c.Identity.Providers) {
		p = append(p, fmt.Errorf("identity.providers: %w", e))
	}
	if l := c.Identity.Leeway.D(); l < 0 || l > 5*time.Minute {
		add("identity.leeway", "must be between 0 and 5m")
	}
	if c.Identity.FetchTimeout < 0 || c.Identity.JWKSRefreshCooldown < 0 {
		add("identity", "durations must not be negative")
	}

	if c.Login != nil {
		c.validateLogin(add)
	}

	if c.AWS.Region == "" {
		add("aws.region", "required (the region of sagegate's own STS calls, and the default for LOBs)")
	}
	if c.AWS.CallTimeout <= 0 {
		add("aws.callTimeout", "must be positive")
	}
	if c.AWS.MaxAttempts < 0 || c.AWS.MaxAttempts > 10 {
		add("aws.maxAttempts", "must be between 1 and 10")
	}
	if d := c.AWS.AssumeRoleDuration.D(); d != 0 && (d < 15*time.Minute || d > 12*time.Hour) {
		add("aws.assumeRoleDuration", "must be between 15m and 12h")
	}
	for name, e := range map[string]string{"sts": c.AWS.Endpoints.STS, "sagemaker": c.AWS.Endpoints.SageMaker, "ssm": c.AWS.Endpoints.SSM} {
		if e == "" {
			continue
		}
		if u, err := url.Parse(e); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			add("aws.endpoints."+name, "want an absolute http(s) URL, got %q", e)
		}
	}

	if s := c.Routing.SessionDuration.D(); s < 1800*time.Second || s > 43200*time.Second {
		add("routing.sessionDuration", "must be between 30m and 12h (SageMaker's 1800..43200 s)")
	}
	if u := c.Routing.URLLifetime.D(); u < 5*time.Second || u > 300*time.Second {
		add("routing.urlLifetime", "must be between 5s and 5m (SageMaker's 5..300 s)")
	}
	switch c.Routing.Type {
	case "file":
		if c.Routing.File == nil {
			add("routing.file", "required when routing.type is file")
		} else if strictRoutes {
			prefixed("routing.file", c.Routing.File.Validate(c.RoutingDefaults()))
		} else {
			prefixed("routing.file", c.Routing.File.ValidateSource())
		}
	case "dynamodb":
		var d dynamodb.Config
		if c.Routing.DynamoDB != nil {
			d = *c.Routing.DynamoDB
		}
		prefixed("routing.dynamodb", d.Validate())
	default:
		add("routing.type", "unknown backend %q (known: file, dynamodb)", c.Routing.Type)
	}
	prefixed("routing.cache", c.Routing.Cache.Validate())

	if c.Limits.LaunchesPerMinute < 0 || c.Limits.LaunchBurst < 0 || c.Limits.AccountConcurrency < 0 ||
		c.Limits.MaxInFlight < 0 || c.Limits.BreakerThreshold < 0 || c.Limits.BreakerCooldown < 0 || c.Limits.CredentialSessions < 0 {
		add("limits", "values must not be negative")
	}
	if c.Metrics.Addr != "" {
		if _, _, err := net.SplitHostPort(c.Metrics.Addr); err != nil {
			add("metrics.addr", "want host:port, got %q", c.Metrics.Addr)
		}
	}
	if !slices.Contains([]string{"debug", "info", "warn", "error"}, c.Log.Level) {
		add("log.level", "want debug, info, warn or error, got %q", c.Log.Level)
	}
	if !slices.Contains([]string{"json", "text"}, c.Log.Format) {
		add("log.format", "want json or text, got %q", c.Log.Format)
	}
	c.validateLambda(add)
	c.Notebooks.validate(add)
	prefixed("runtime", c.Runtime.GC().Validate())
	return p
}

func (c *Config) validateLambda(add func(path, format string, args ...any)) {
	l := c.Lambda
	switch l.TrustAuthorizerContext {
	case TrustNone, TrustSagegate, TrustCognito:
		// cognito trusts claims only from an issuer in identity.providers,
		// which Validate already requires.
	default:
		add("lambda.trustAuthorizerContext", "want none, cognito or sagegate, got %q", l.TrustAuthorizerContext)
	}
	if l.BasePath != "" && (!strings.HasPrefix(l.BasePath, "/") || strings.HasSuffix(l.BasePath, "/") || strings.Contains(l.BasePath, "//")) {
		add("lambda.basePath", "want a path such as /sagegate (leading slash, no trailing slash), got %q", l.BasePath)
	}
	if l.HTTPAPIAuthorizerResponse != AuthorizerResponseSimple && l.HTTPAPIAuthorizerResponse != AuthorizerResponsePolicy {
		add("lambda.httpApiAuthorizerResponse", "want simple or policy, got %q", l.HTTPAPIAuthorizerResponse)
	}
	if n := l.MetricsNamespace; len(n) > 255 || strings.HasPrefix(n, "AWS/") || strings.Contains(n, ":") {
		add("lambda.metricsNamespace", "want at most 255 characters, no ':' and not starting with AWS/, got %q", n)
	}
}

func (c *Config) validateLogin(add func(path, format string, args ...any)) {
	l := c.Login
	found := false
	for _, pc := range c.Identity.Providers {
		found = found || pc.Name == l.Provider
	}
	if !found {
		add("login.provider", "names no provider in identity.providers: %q", l.Provider)
	}
	if l.ClientID == "" {
		add("login.clientId", "required")
	}
	if len(l.CookieKeys) == 0 {
		add("login.cookieKeys", "at least one key is required (32 random bytes, base64: `openssl rand -base64 32`)")
	}
	for i, k := range l.CookieKeys {
		if _, err := session.KeyFromString(k); err != nil {
			add(fmt.Sprintf("login.cookieKeys[%d]", i), "%v", err)
		}
	}
	if l.VerifyToken != "" && l.VerifyToken != "id_token" && l.VerifyToken != "access_token" {
		add("login.verifyToken", "want id_token or access_token, got %q", l.VerifyToken)
	}
	if l.IdleTTL < 0 || l.AbsoluteTTL < 0 {
		add("login", "session lifetimes must not be negative")
	}
}
