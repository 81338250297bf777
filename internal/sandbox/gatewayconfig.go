package sandbox

import (
	"bytes"
	"fmt"
	"strings"

	"sigs.k8s.io/yaml"

	"github.com/sagegate/sagegate/internal/config"
)

// GatewayConfig returns a `sagegate serve` configuration equivalent to the
// gateway inside a sandbox reachable at devURL with population p: the same
// issuer (the sandbox's /dev/oidc), the simulator as AWS endpoints, the same
// routes (inline) and limits. It listens on addr instead and has no login
// section, so it serves bearer tokens only. The gateway credentials are not
// in it: `serve` reads them from the standard AWS environment variables
// (GatewayAccessKey, GatewaySecretKey).
//
// It exists so that the gateway can run as its own process against a
// running `sagegate dev`, and its memory and CPU be measured apart from the
// issuer and the simulator.
func GatewayConfig(p Population, devURL, addr string, log config.Log) ([]byte, error) {
	devURL = strings.TrimRight(devURL, "/")
	// The cookie key is never used: the login section is dropped below.
	cfg, err := devConfigFor(p, devURL, addr, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=")
	if err != nil {
		return nil, err
	}
	cfg.Login = nil
	cfg.Server = config.Server{Addr: addr, PublicURL: "http://" + addr, ShutdownTimeout: cfg.Server.ShutdownTimeout}
	if log.Level != "" {
		cfg.Log.Level = log.Level
	}
	if log.Format != "" {
		cfg.Log.Format = log.Format
	}
	body, err := yaml.Marshal(cfg)
	if err != nil {
		return nil, err
	}
	var out bytes.Buffer
	fmt.Fprintf(&out, `# sagegate serve configuration equivalent to the gateway of the sagegate dev
# at %s (%d generated users over %d LOBs), written by
# "sagegate dev --write-gateway-config". Run it with the simulator's
# gateway keys:
#
#   AWS_ACCESS_KEY_ID=%s \
#   AWS_SECRET_ACCESS_KEY=%s \
#     sagegate serve --config THIS_FILE
#
`, devURL, p.Users, p.lobCount(), GatewayAccessKey, GatewaySecretKey)
	out.Write(body)
	// What serve would refuse must fail here, not in the other process.
	if _, err := config.Parse(out.Bytes(), func(string) (string, bool) { return "", false }); err != nil {
		return nil, fmt.Errorf("generated gateway config does not load: %w", err)
	}
	return out.Bytes(), nil
}
