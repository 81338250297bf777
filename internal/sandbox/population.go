package sandbox

import (
	"fmt"
	"strconv"
	"time"

	"github.com/sagegate/sagegate/internal/config"
	"github.com/sagegate/sagegate/internal/routing"
	"github.com/sagegate/sagegate/internal/sandbox/devidp"
)

// Population sizes the demo beyond dev.yaml's four named users and two
// LOBs, for load tests and for trying sagegate with many people. Generated
// users are named user-0001, user-0002, ... and user i belongs to LOB
// (i-1) mod LOBs; the LOBs are lob-a and lob-b, then lob-003, lob-004, ...
// in accounts 300000000003, 300000000004, ... Everything is derived from
// the two numbers, so a load test that knows them knows every route.
type Population struct {
	// Users is how many users to generate; 0 keeps the named users only.
	Users int
	// LOBs is how many LOBs the generated users are spread over. 0 means 2
	// (lob-a and lob-b); more adds generated LOBs even without users.
	LOBs int
}

// maxPopulation keeps a typo from building a million-user sandbox.
const maxPopulation = 1_000_000

// Validate checks the sizes.
func (p Population) Validate() error {
	switch {
	case p.Users < 0 || p.Users > maxPopulation:
		return fmt.Errorf("demo users must be between 0 and %d, got %d", maxPopulation, p.Users)
	case p.LOBs < 0 || p.LOBs > 999:
		return fmt.Errorf("demo LOBs must be between 0 and 999, got %d", p.LOBs)
	}
	return nil
}

func (p Population) lobCount() int {
	if p.LOBs == 0 {
		return 2
	}
	return p.LOBs
}

// UserName is the name of generated user i (1-based): user-0001 and so on,
// zero-padded to at least four digits so that names sort in order.
func (p Population) UserName(i int) string {
	width := max(4, len(strconv.Itoa(p.Users)))
	return fmt.Sprintf("user-%0*d", width, i)
}

// LOBName is the name of LOB j (0-based).
func (p Population) LOBName(j int) string {
	switch j {
	case 0:
		return "lob-a"
	case 1:
		return "lob-b"
	}
	return fmt.Sprintf("lob-%03d", j+1)
}

// LOBOf is the LOB index of generated user i.
func (p Population) LOBOf(i int) int { return (i - 1) % p.lobCount() }

// apply adds the population to the parsed dev config: generated LOBs are
// copies of lob-a in their own account and domain, and generated users get
// one LOB each.
func (p Population) apply(cfg *config.Config) error {
	if err := p.Validate(); err != nil {
		return err
	}
	routes := cfg.Routing.File
	proto, ok := routes.LOBs["lob-a"]
	if !ok {
		return fmt.Errorf("dev config has no lob-a to model generated LOBs on")
	}
	for j := 2; j < p.lobCount(); j++ {
		l := proto
		l.Name = ""
		l.AccountID = fmt.Sprintf("3%011d", j+1)
		l.DomainID = fmt.Sprintf("d-lob%07d", j+1)
		l.Label = fmt.Sprintf("LOB %03d (simulated)", j+1)
		// A bare role name: Normalize puts it in the LOB's own account.
		l.RoleARN = AccessRole
		routes.LOBs[p.LOBName(j)] = l
	}
	for i := 1; i <= p.Users; i++ {
		name := p.UserName(i)
		if _, taken := routes.Users[name]; taken {
			return fmt.Errorf("generated user %q is already in the dev config", name)
		}
		routes.Users[name] = routing.User{LOBs: []string{p.LOBName(p.LOBOf(i))}}
	}
	if probs := cfg.Validate(); len(probs) > 0 {
		return fmt.Errorf("dev config with the demo population: %w", probs)
	}
	return nil
}

// idpUsers returns the named demo users followed by the generated ones.
func (p Population) idpUsers() []devidp.User {
	users := make([]devidp.User, 0, len(DemoUsers)+p.Users)
	users = append(users, DemoUsers...)
	for i := 1; i <= p.Users; i++ {
		name := p.UserName(i)
		users = append(users, devidp.User{Username: name, Email: name + "@example.com", Name: "Demo " + name})
	}
	return users
}

// DemoLOB is one LOB of the sandbox as a client sees it, with what the
// gateway's AWS calls for it carry (a load test makes them itself to
// compare).
type DemoLOB struct {
	Name      string
	AccountID string
	DomainID  string
	Region    string
	// RoleARN and ExternalID are the access role the gateway assumes.
	RoleARN    string
	ExternalID string
	// SessionDuration and URLLifetime are the presign's parameters.
	SessionDuration time.Duration
	URLLifetime     time.Duration
}

// Routes returns every user of a sandbox with population p (the named users
// included, even those with no LOB) mapped to their LOBs, in the order the
// gateway lists them. A load test checks the gateway's answers against it.
func Routes(p Population) (map[string][]DemoLOB, error) {
	cfg, err := devConfigFor(p, "http://127.0.0.1:0", "127.0.0.1:0", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=")
	if err != nil {
		return nil, err
	}
	routes := cfg.Routing.File
	out := make(map[string][]DemoLOB, len(routes.Users)+len(DemoUsers))
	for _, u := range DemoUsers {
		out[u.Username] = nil
	}
	for name, u := range routes.Users {
		lobs := make([]DemoLOB, 0, len(u.LOBs))
		for _, l := range u.LOBs {
			lob := routes.LOBs[l]
			lob.Normalize(routing.Defaults{
				Region: cfg.AWS.Region, SessionDuration: cfg.Routing.SessionDuration.D(),
				URLLifetime: cfg.Routing.URLLifetime.D(), RoleName: cfg.Routing.DefaultRole,
			})
			lobs = append(lobs, DemoLOB{
				Name: l, AccountID: lob.AccountID, DomainID: lob.DomainID, Region: lob.Region,
				RoleARN: lob.RoleARN, ExternalID: lob.ExternalID,
				SessionDuration: lob.SessionDuration.D(), URLLifetime: lob.URLLifetime.D(),
			})
		}
		out[name] = lobs
	}
	return out, nil
}
