// Package config is sagegate's configuration file: its format, strict
// decoding, ${ENV} expansion, defaults, and a Validate that reports every
// problem at once, each with the path of the key at fault.
package config

import (
	"github.com/sagegate/sagegate/internal/gctune"
	"github.com/sagegate/sagegate/internal/identity"
	"github.com/sagegate/sagegate/internal/routing"
	"github.com/sagegate/sagegate/internal/routing/cache"
	"github.com/sagegate/sagegate/internal/routing/dynamodb"
	"github.com/sagegate/sagegate/internal/routing/file"
)

// Config is the whole file.
type Config struct {
	Server   Server   `json:"server"`
	Identity Identity `json:"identity"`
	Login    *Login   `json:"login,omitempty"`
	AWS      AWS      `json:"aws"`
	Routing  Routing  `json:"routing"`
	Audit    Audit    `json:"audit"`
	Log      Log      `json:"log"`
	Limits   Limits   `json:"limits"`
	Metrics  Metrics  `json:"metrics"`
	// Notebooks tunes notebook instance targets (notebooks.go).
	Notebooks Notebooks `json:"notebooks"`
	// Lambda only matters when sagegate runs as a Lambda function.
	Lambda Lambda `json:"lambda"`
	// Runtime tunes the Go runtime's memory.
	Runtime Runtime `json:"runtime"`
}

// Runtime tunes the Go garbage collector (internal/gctune). GOGC and
// GOMEMLIMIT in the environment win over both keys.
type Runtime struct {
	// GCPercent is how far (in percent of the live data) the heap may
	// grow between collections: 10 to 1000, default 30, which holds about
	// a quarter less memory than Go's 100 for more CPU per request when the
	// gateway runs flat out (BENCHMARKS.md).
	GCPercent int `json:"gcPercent,omitempty"`
	// MemoryLimit is a soft limit on the process's memory: "auto" (the
	// default: 90% of the Lambda function's or container's memory, none
	// when neither is bounded), "off", or a size such as "256MiB".
	MemoryLimit string `json:"memoryLimit,omitempty"`
}

// GC is r as gctune takes it.
func (r Runtime) GC() gctune.Settings {
	return gctune.Settings{GCPercent: r.GCPercent, MemoryLimit: r.MemoryLimit}
}

// Server is the HTTP listener.
type Server struct {
	// Addr to listen on. Default 127.0.0.1:8080: exposing the gateway
	// beyond the host is a decision, not a default.
	Addr string `json:"addr,omitempty"`
	// PublicURL is how browsers reach sagegate (for login redirects and
	// cookie security). Default http://<addr>.
	PublicURL string `json:"publicUrl,omitempty"`
	// ShutdownTimeout bounds how long SIGTERM waits for in-flight requests.
	ShutdownTimeout Duration `json:"shutdownTimeout,omitempty"`
}

// Identity lists the trusted token issuers.
type Identity struct {
	Providers []identity.ProviderConfig `json:"providers"`
	// Algorithms allow-lists JWS algorithms; default RS256, ES256.
	Algorithms []string `json:"algorithms,omitempty"`
	// Leeway tolerates clock skew on exp/nbf; default 30s, at most 5m.
	Leeway Duration `json:"leeway,omitempty"`
	// JWKSRefreshCooldown is the minimum time between two key fetches of
	// one issuer triggered by unknown key ids.
	JWKSRefreshCooldown Duration `json:"jwksRefreshCooldown,omitempty"`
	// FetchTimeout bounds discovery and JWKS requests; default 5s.
	FetchTimeout Duration `json:"fetchTimeout,omitempty"`
}

// Login enables browser sign-in (OIDC authorization code + PKCE).
type Login struct {
	// Provider names the identity provider (in identity.providers) whose
	// tokens the login returns.
	Provider     string   `json:"provider"`
	Issuer       string   `json:"issuer,omitempty"`
	ClientID     string   `json:"clientId"`
	ClientSecret string   `json:"clientSecret,omitempty"`
	Scopes       []string `json:"scopes,omitempty"`
	// AuthURL, TokenURL and LogoutURL override discovery (Cognito's hosted
	// UI has no discovery document for logout).
	AuthURL   string `json:"authUrl,omitempty"`
	TokenURL  string `json:"tokenUrl,omitempty"`
	LogoutURL string `json:"logoutUrl,omitempty"`
	// VerifyToken is "id_token" (default) or "access_token".
	VerifyToken string `json:"verifyToken,omitempty"`
	// CookieKeys are base64 32-byte keys; the first seals, all open.
	CookieKeys  []string `json:"cookieKeys"`
	IdleTTL     Duration `json:"idleTtl,omitempty"`
	AbsoluteTTL Duration `json:"absoluteTtl,omitempty"`
}

// AWS is how sagegate reaches AWS with its own identity.
type AWS struct {
	// Region of the gateway's own clients (STS); LOBs default to it.
	Region string `json:"region"`
	// CallTimeout bounds every AWS call including retries; default 5s.
	CallTimeout Duration `json:"callTimeout,omitempty"`
	// MaxAttempts per AWS call; default 7 (see broker.Options).
	MaxAttempts int `json:"maxAttempts,omitempty"`
	// AssumeRoleDuration of the access-role sessions; default 1h.
	AssumeRoleDuration Duration `json:"assumeRoleDuration,omitempty"`
	// Endpoints override AWS endpoints (VPC endpoints, the simulator).
	Endpoints Endpoints `json:"endpoints,omitempty"`
}

// Endpoints override service endpoints.
type Endpoints struct {
	STS       string `json:"sts,omitempty"`
	SageMaker string `json:"sagemaker,omitempty"`
	// SSM is used to publish notebook URLs (notebooks.ssm).
	SSM string `json:"ssm,omitempty"`
}

// Routing chooses the routes backend and launch defaults.
type Routing struct {
	// Type of backend: "file" (default) or "dynamodb".
	Type     string           `json:"type,omitempty"`
	File     *file.Config     `json:"file,omitempty"`
	DynamoDB *dynamodb.Config `json:"dynamodb,omitempty"`
	// Cache tunes the cache in front of a remote backend (dynamodb).
	Cache cache.Config `json:"cache,omitempty"`
	// DefaultRole is the access role of LOBs that name none (the AWS
	// sample's LOBs table has no role column): a role name that exists in
	// every LOB account, or an ARN.
	DefaultRole string `json:"defaultRole,omitempty"`
	// SessionDuration and URLLifetime are the defaults for every LOB.
	SessionDuration Duration `json:"sessionDuration,omitempty"`
	URLLifetime     Duration `json:"urlLifetime,omitempty"`
}

// Audit says where audit records go.
type Audit struct {
	// Output: "stdout" (default), "stderr", or a file path (appended).
	Output string `json:"output,omitempty"`
}

// Log configures the operational log.
type Log struct {
	// Level: debug, info (default), warn, error.
	Level string `json:"level,omitempty"`
	// Format: json (default) or text.
	Format string `json:"format,omitempty"`
}

// Limits protect AWS accounts and the gateway itself.
type Limits struct {
	// LaunchesPerMinute and LaunchBurst: each person's token bucket of
	// launches. Defaults 30 per minute, bursts of 10.
	LaunchesPerMinute float64 `json:"launchesPerMinute,omitempty"`
	LaunchBurst       int     `json:"launchBurst,omitempty"`
	// AccountConcurrency caps AWS calls in flight per account; default 64.
	AccountConcurrency int `json:"accountConcurrency,omitempty"`
	// MaxInFlight caps requests served at once; default 1024.
	MaxInFlight int `json:"maxInFlight,omitempty"`
	// CredentialSessions bounds the assumed-role sessions kept (one per
	// person and access role); past it the least recently used is dropped
	// and that person's next launch waits on STS. Size it above the people
	// active in an hour. Default 10000 (about 2 KB each).
	CredentialSessions int `json:"credentialSessions,omitempty"`
	// BreakerThreshold consecutive failures open an account's circuit for
	// BreakerCooldown; defaults 5 and 10s.
	BreakerThreshold int      `json:"breakerThreshold,omitempty"`
	BreakerCooldown  Duration `json:"breakerCooldown,omitempty"`
}

// Metrics configures Prometheus metrics.
type Metrics struct {
	// Disabled turns /metrics off.
	Disabled bool `json:"disabled,omitempty"`
	// Addr, when set, serves /metrics on its own listener (keep it off the
	// public port); otherwise it is served on server.addr.
	Addr string `json:"addr,omitempty"`
}

// Lambda configures `sagegate lambda` (API Gateway, ALB and EventBridge).
type Lambda struct {
	// TrustAuthorizerContext says whose verified identity in an API Gateway
	// request context the HTTP handler may take instead of verifying a
	// token again: "none" (default: never), "cognito" (the claims of a
	// Cognito user pool authorizer or an HTTP API JWT authorizer, from a
	// configured provider) or "sagegate" (the context of `sagegate lambda`
	// running as the API's Lambda authorizer).
	TrustAuthorizerContext string `json:"trustAuthorizerContext,omitempty"`
	// BasePath is the base path mapping of a custom domain ("/sagegate"),
	// stripped from request paths. The stage of an execute-api URL is
	// stripped without it.
	BasePath string `json:"basePath,omitempty"`
	// HTTPAPIAuthorizerResponse is what the authorizer answers an HTTP API
	// (payload 2.0): "simple" ({isAuthorized, context}, the default) or
	// "policy" (an IAM policy, when simple responses are not enabled).
	HTTPAPIAuthorizerResponse string `json:"httpApiAuthorizerResponse,omitempty"`
	// MetricsNamespace is the CloudWatch namespace of the embedded metric
	// format lines written to stdout; default "sagegate".
	MetricsNamespace string `json:"metricsNamespace,omitempty"`
}

// Duration reads Go duration strings ("5s", "12h"); it is the same type
// the routing records use, so every duration in the file reads one way.
type Duration = routing.Duration
