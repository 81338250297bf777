// Package sandbox is what `sagegate dev` runs: the real gateway, wired by
// the real config parser, in front of a built-in OIDC issuer, a simulated
// STS + SageMaker control plane and a simulated Studio, all on one port.
package sandbox

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	_ "embed"
	"encoding/base64"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/sagegate/sagegate/internal/config"
	"github.com/sagegate/sagegate/internal/gateway"
	"github.com/sagegate/sagegate/internal/sandbox/awssim"
	"github.com/sagegate/sagegate/internal/sandbox/devidp"
)

//go:embed dev.yaml
var devConfig []byte

// Demo identities. The gateway's own keys are fixed so the AWS CLI can be
// pointed at the simulator with documented credentials.
const (
	GatewayAccount   = "000000000000"
	GatewayAccessKey = "AKIASAGEGATEDEV00001"
	GatewaySecretKey = "sagegate-dev-secret-key-not-a-real-secret"
	ClientID         = "sagegate-dev"
	Audience         = "sagegate"
	AccessRole       = "sagegate-access"
	ExternalID       = "sagegate-demo"
)

// DemoUsers are the people of the demo, as in the AWS multi-account sample
// plus one with both LOBs and one with none.
var DemoUsers = []devidp.User{
	{Username: "user-lob-a", Email: "user-lob-a@example.com", Name: "User of LOB A"},
	{Username: "user-lob-b", Email: "user-lob-b@example.com", Name: "User of LOB B"},
	{Username: "user-both", Email: "user-both@example.com", Name: "User of both LOBs"},
	{Username: "user-none", Email: "user-none@example.com", Name: "User of no LOB"},
}

// Options tune the sandbox.
type Options struct {
	Logger      *slog.Logger
	AuditWriter io.Writer
	Now         func() time.Time
	// Population adds generated users and LOBs to the named ones.
	Population Population
	// Chaos is the simulated AWS's misbehaviour from the start (latency,
	// throttling, errors, outages); Dev.Sim.SetChaos changes it later.
	Chaos awssim.Chaos
	// NotebookDelay is how long a notebook instance takes to start (and
	// half of it to stop), on the sandbox's clock. 0 means
	// DefaultNotebookDelay; negative means instantly.
	NotebookDelay time.Duration
	// NotebookSleep replaces the gateway's wait between two polls of a
	// starting notebook (tests move their clock instead of sleeping).
	NotebookSleep func(ctx context.Context, d time.Duration) error
}

// Dev is a built sandbox. Handler serves the gateway and everything
// under /dev/.
type Dev struct {
	URL     string
	Config  *config.Config
	Handler http.Handler
	Sim     *awssim.Simulator
	IdP     *devidp.Issuer
	Gateway *gateway.Gateway
}

// New builds the sandbox for a server reachable at baseURL (for example
// http://127.0.0.1:8080) and listening on addr.
func New(ctx context.Context, baseURL, addr string, opts Options) (*Dev, error) {
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	baseURL = strings.TrimRight(baseURL, "/")
	if _, err := url.Parse(baseURL); err != nil {
		return nil, err
	}
	cookieKey := make([]byte, 32)
	if _, err := rand.Read(cookieKey); err != nil {
		return nil, err
	}
	cfg, err := devConfigFor(opts.Population, baseURL, addr, base64.StdEncoding.EncodeToString(cookieKey))
	if err != nil {
		return nil, err
	}

	sim := awssim.New(awssim.Options{Now: opts.Now, Logger: log.With("component", "awssim"), StudioBaseURL: baseURL + "/dev/studio",
		NotebookBaseURL: baseURL + NotebookPath})
	seedSimulator(sim, cfg)
	seedNotebooks(sim, cfg, opts.NotebookDelay)
	if err := sim.SetChaos(opts.Chaos); err != nil {
		return nil, fmt.Errorf("simulated AWS faults: %w", err)
	}

	// ECDSA keeps start-up instant; RSA generation would take a moment.
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	idp, err := devidp.New(devidp.Options{
		Issuer:   baseURL + "/dev/oidc",
		Audience: Audience,
		Users:    opts.Population.idpUsers(),
		Clients: []devidp.Client{{
			ID: ClientID, Public: true,
			RedirectURIs:           []string{baseURL + "/auth/callback", "http://127.0.0.1/callback"},
			PostLogoutRedirectURIs: []string{baseURL + "/"},
		}},
		Now:    opts.Now,
		Logger: log.With("component", "devidp"),
		Key:    key,
	})
	if err != nil {
		return nil, err
	}

	awsCfg := aws.Config{
		Region:      cfg.AWS.Region,
		Credentials: credentials.NewStaticCredentialsProvider(GatewayAccessKey, GatewaySecretKey, ""),
	}
	gw, err := gateway.Build(ctx, cfg, gateway.Deps{Logger: log, AWS: &awsCfg, AuditWriter: opts.AuditWriter, Now: opts.Now,
		NotebookSleep: opts.NotebookSleep})
	if err != nil {
		return nil, err
	}

	mux := http.NewServeMux()
	mux.Handle("/dev/oidc/", idp.Handler())
	// The SDK joins the endpoint path with "/" into "/dev/aws" exactly.
	mux.Handle("/dev/aws", sim.APIHandler())
	mux.Handle("/dev/aws/", sim.APIHandler())
	mux.Handle("GET /dev/aws/calls", sim.CallsHandler())
	mux.Handle("/dev/aws/faults", sim.FaultsHandler())
	mux.Handle("/dev/studio/", sim.StudioHandler())
	mux.Handle(NotebookPath+"/", sim.NotebookHandler())
	mux.Handle("/", gw.Handler)
	return &Dev{URL: baseURL, Config: cfg, Handler: mux, Sim: sim, IdP: idp, Gateway: gw}, nil
}

// devConfigFor parses the embedded dev config for a server at baseURL and
// adds the population to it.
func devConfigFor(p Population, baseURL, addr, cookieKey string) (*config.Config, error) {
	env := map[string]string{
		"SAGEGATE_DEV_URL":        baseURL,
		"SAGEGATE_DEV_ADDR":       addr,
		"SAGEGATE_DEV_COOKIE_KEY": cookieKey,
	}
	cfg, err := config.Parse(devConfig, func(k string) (string, bool) { v, ok := env[k]; return v, ok })
	if err != nil {
		return nil, fmt.Errorf("embedded dev config: %w", err)
	}
	if err := p.apply(cfg); err != nil {
		return nil, err
	}
	return cfg, nil
}

// seedSimulator creates, for every LOB of the dev config, its account, the
// access role trusting the gateway, and its domain with a profile for each
// user routed to it, so the demo works end to end out of the box.
func seedSimulator(sim *awssim.Simulator, cfg *config.Config) {
	sim.AddCaller(awssim.Caller{
		AccessKeyID: GatewayAccessKey, SecretAccessKey: GatewaySecretKey,
		AccountID: GatewayAccount, ARN: "arn:aws:iam::" + GatewayAccount + ":user/sagegate-dev",
	})
	profiles := map[string][]string{}
	for name, u := range cfg.Routing.File.Users {
		for _, lob := range u.LOBs {
			profiles[lob] = append(profiles[lob], name)
		}
	}
	for name, lob := range cfg.Routing.File.LOBs {
		sim.AddAccount(awssim.Account{
			ID:    lob.AccountID,
			Roles: []awssim.Role{{Name: AccessRole, ExternalID: ExternalID, TrustedAccounts: []string{GatewayAccount}}},
			Domains: []awssim.Domain{{
				ID: lob.DomainID, Name: "studio-" + name, Region: cfg.AWS.Region,
				AuthMode: "IAM", Status: "InService", UserProfiles: profiles[name],
			}},
		})
	}
}
