package spec

import (
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
)

// Problems lists every mistake of a deployment file, one per field.
type Problems []string

func (p Problems) Error() string {
	return fmt.Sprintf("%d problem(s):\n  - %s", len(p), strings.Join(p, "\n  - "))
}

// Patterns of the AWS names and ids a deployment holds. SageMaker's own
// patterns are copied from its API reference so a bad name fails here, not
// half-way through a CloudFormation deployment.
var (
	reName         = regexp.MustCompile(`^[a-z][a-z0-9-]{0,19}$`)
	reAccountID    = regexp.MustCompile(`^[0-9]{12}$`)
	reRegion       = regexp.MustCompile(`^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-[0-9]$`)
	reRoleName     = regexp.MustCompile(`^[\w+=,.@-]{1,64}$`)
	reEnvName      = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_]*$`)
	reVPCE         = regexp.MustCompile(`^vpce-[0-9a-f]{8,17}$`)
	reSubnet       = regexp.MustCompile(`^subnet-[0-9a-f]{8,17}$`)
	reSG           = regexp.MustCompile(`^sg-[0-9a-f]{8,17}$`)
	reStage        = regexp.MustCompile(`^[A-Za-z0-9_]{1,128}$`)
	reCognitoPre   = regexp.MustCompile(`^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$`)
	reTable        = regexp.MustCompile(`^[A-Za-z0-9_.-]{3,255}$`)
	reExternalID   = regexp.MustCompile(`^[\w+=,.@:/-]{2,}$`)
	reOrgID        = regexp.MustCompile(`^o-[a-z0-9]{10,32}$`)
	reDomainID     = regexp.MustCompile(`^d-(-*[a-z0-9]){1,61}$`)
	reSageMakerNm  = regexp.MustCompile(`^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$`)
	reNotebookPre  = regexp.MustCompile(`^[a-zA-Z0-9](-*[a-zA-Z0-9])*-?$`)
	reInstanceType = regexp.MustCompile(`^ml\.[a-z0-9]+\.[a-z0-9]+$`)
	reDomain       = regexp.MustCompile(`^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$`)
	reCertificate  = regexp.MustCompile(`^arn:aws[a-z-]*:acm:[a-z0-9-]+:[0-9]{12}:certificate/[0-9a-f-]+$`)
	reRoleARN      = regexp.MustCompile(`^arn:aws[a-z-]*:iam::[0-9]{12}:role/[\w+=,.@/-]{1,512}$`)
)

// retentionDays are the values CloudWatch Logs accepts.
var retentionDays = []int{1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653}

// ReservedEnv are set by GatewayStack itself; the file may not set them.
var ReservedEnv = []string{
	"SAGEGATE_LAMBDA_ROLE", "SAGEGATE_CONFIG", "SAGEGATE_USERS_TABLE", "SAGEGATE_LOBS_TABLE",
	"SAGEGATE_PUBLIC_URL", "SAGEGATE_COGNITO_USER_POOL_ID", "SAGEGATE_COGNITO_CLIENT_ID",
	"SAGEGATE_COGNITO_DOMAIN", "SAGEGATE_OIDC_ISSUER",
}

const accountEnvPrefix = "SAGEGATE_ACCOUNT_"

// AccountEnv is the environment variable holding an account's id in the
// gateway's functions: SAGEGATE_ACCOUNT_LOB_A for lob-a.
func AccountEnv(name string) string {
	return accountEnvPrefix + strings.ToUpper(strings.ReplaceAll(name, "-", "_"))
}

type checker struct{ probs Problems }

func (c *checker) add(field, format string, args ...any) {
	c.probs = append(c.probs, field+": "+fmt.Sprintf(format, args...))
}

func (c *checker) match(field, v string, re *regexp.Regexp, what string) {
	if !re.MatchString(v) {
		c.add(field, "%q is not %s", v, what)
	}
}

func (c *checker) each(field string, vs []string, re *regexp.Regexp, what string) {
	for i, v := range vs {
		c.match(fmt.Sprintf("%s[%d]", field, i), v, re, what)
	}
}

// Validate reports every problem of a deployment with defaults applied, as
// Problems, or nil.
func (d *Deployment) Validate() error {
	c := &checker{}
	c.match("name", d.Name, reName, "a name (lower case letters, digits and -, up to 20)")
	c.match("accessRoleName", d.AccessRoleName, reRoleName, "an IAM role name")
	d.validateGateway(c)
	if len(d.Accounts) == 0 {
		c.add("accounts", "at least one LOB account is required")
	}
	seenName := map[string]string{}
	seenID := map[string]string{}
	for i := range d.Accounts {
		a := &d.Accounts[i]
		f := fmt.Sprintf("accounts[%d]", i)
		if prev, dup := seenName[a.Name]; dup {
			c.add(f+".name", "%q is also the name of %s", a.Name, prev)
		}
		seenName[a.Name] = f
		// The access role has one fixed name per account: IAM is global, so
		// a second entry for the same account would collide.
		if prev, dup := seenID[a.ID]; dup && a.ID != "" {
			c.add(f+".id", "account %s is also %s; put its domains in one entry", a.ID, prev)
		}
		seenID[a.ID] = f
		a.validate(c, f, &d.Gateway)
	}
	if len(c.probs) > 0 {
		return c.probs
	}
	return nil
}

func (d *Deployment) validateGateway(c *checker) {
	g := &d.Gateway
	c.match("gateway.account", g.Account, reAccountID, "a 12-digit account id")
	c.match("gateway.region", g.Region, reRegion, "a region")
	c.match("gateway.roleName", g.RoleName, reRoleName, "an IAM role name")
	if g.Architecture != "arm64" && g.Architecture != "amd64" {
		c.add("gateway.architecture", "%q is not arm64 or amd64", g.Architecture)
	}
	if g.MemoryMB < 128 || g.MemoryMB > 10240 {
		c.add("gateway.memoryMb", "%d is not within 128..10240", g.MemoryMB)
	}
	switch {
	case g.ConfigDir == "":
		c.add("gateway.configDir", "required: the directory holding the sagegate configuration")
	case strings.ContainsAny(g.ConfigFile, `/\`):
		c.add("gateway.configFile", "%q must be a file name inside configDir", g.ConfigFile)
	default:
		if _, err := os.Stat(filepath.Join(d.Path(g.ConfigDir), g.ConfigFile)); err != nil {
			c.add("gateway.configDir", "%v", err)
		}
	}
	for k := range g.Environment {
		switch {
		case !reEnvName.MatchString(k):
			c.add("gateway.environment", "%q is not an environment variable name", k)
		case slices.Contains(ReservedEnv, k) || strings.HasPrefix(k, accountEnvPrefix) ||
			strings.HasPrefix(k, "AWS_") || strings.HasPrefix(k, "LAMBDA_"):
			c.add("gateway.environment", "%s is set by the stack or by Lambda itself", k)
		}
	}
	c.match("gateway.usersTable", g.UsersTable, reTable, "a DynamoDB table name")
	c.match("gateway.lobsTable", g.LobsTable, reTable, "a DynamoDB table name")
	if !slices.Contains(retentionDays, g.LogRetentionDays) {
		c.add("gateway.logRetentionDays", "%d is not one of %v", g.LogRetentionDays, retentionDays)
	}
	if g.AlarmEmail != "" && !strings.Contains(g.AlarmEmail, "@") {
		c.add("gateway.alarmEmail", "%q is not an email address", g.AlarmEmail)
	}
	if n := g.Network; n != nil {
		if len(n.SubnetIDs) == 0 || len(n.SecurityGroupIDs) == 0 {
			c.add("gateway.network", "needs subnetIds and securityGroupIds")
		}
		c.each("gateway.network.subnetIds", n.SubnetIDs, reSubnet, "a subnet id")
		c.each("gateway.network.securityGroupIds", n.SecurityGroupIDs, reSG, "a security group id")
	}
	d.validateAPI(c)
	d.validateIdentity(c)
}

func (d *Deployment) validateAPI(c *checker) {
	a := &d.Gateway.API
	switch a.Endpoint {
	case EndpointPrivate:
		if len(a.VPCEndpointIDs) == 0 {
			c.add("gateway.api.vpcEndpointIds", "a private API needs the execute-api VPC endpoints allowed to call it")
		}
	case EndpointRegional:
		if len(a.VPCEndpointIDs) > 0 {
			c.add("gateway.api.vpcEndpointIds", "only a private API takes VPC endpoints")
		}
	default:
		c.add("gateway.api.endpoint", "%q is not regional or private", a.Endpoint)
	}
	c.each("gateway.api.vpcEndpointIds", a.VPCEndpointIDs, reVPCE, "a VPC endpoint id")
	c.match("gateway.api.stage", a.Stage, reStage, "a stage name")
	if a.DomainName != "" || a.CertificateARN != "" {
		c.match("gateway.api.domainName", a.DomainName, reDomain, "a domain name")
		c.match("gateway.api.certificateArn", a.CertificateARN, reCertificate, "an ACM certificate ARN")
		if a.Endpoint == EndpointPrivate {
			c.add("gateway.api.domainName", "only for a regional API")
		}
		if parts := strings.Split(a.CertificateARN, ":"); len(parts) > 3 && parts[3] != d.Gateway.Region {
			c.add("gateway.api.certificateArn", "must be in the gateway's region %s", d.Gateway.Region)
		}
	}
	switch a.Authorizer {
	case AuthorizerNone, AuthorizerLambda:
	case AuthorizerCognito:
		if d.Gateway.Identity.Type != IdentityCognito {
			c.add("gateway.api.authorizer", "cognito needs identity.type cognito")
		}
	default:
		c.add("gateway.api.authorizer", "%q is not none, lambda or cognito", a.Authorizer)
	}
	if ttl := *a.AuthorizerCacheSeconds; ttl < 0 || ttl > 3600 {
		c.add("gateway.api.authorizerCacheSeconds", "%d is not within 0..3600", ttl)
	}
	if a.RateLimit < 0 || a.BurstLimit < 0 {
		c.add("gateway.api", "rateLimit and burstLimit must not be negative")
	}
}

func (d *Deployment) validateIdentity(c *checker) {
	id := &d.Gateway.Identity
	switch id.Type {
	case IdentityCognito:
		c.match("gateway.identity.domainPrefix", id.DomainPrefix, reCognitoPre, "a Cognito domain prefix")
		// Cognito refuses prefixes holding these words.
		for _, w := range []string{"aws", "amazon", "cognito"} {
			if strings.Contains(id.DomainPrefix, w) {
				c.add("gateway.identity.domainPrefix", "Cognito refuses prefixes containing %q", w)
			}
		}
		checkHTTPS(c, "gateway.identity.publicUrl", id.PublicURL)
		if id.Issuer != "" {
			c.add("gateway.identity.issuer", "only with type oidc")
		}
	case IdentityOIDC:
		checkHTTPS(c, "gateway.identity.issuer", id.Issuer)
		if id.DomainPrefix != "" || id.PublicURL != "" {
			c.add("gateway.identity", "domainPrefix and publicUrl are only for type cognito")
		}
	default:
		c.add("gateway.identity.type", "%q is not cognito or oidc", id.Type)
	}
}

func checkHTTPS(c *checker, field, raw string) {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "https" || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		c.add(field, "%q is not an https URL without query", raw)
	}
}

func (a *Account) validate(c *checker, f string, gw *Gateway) {
	c.match(f+".name", a.Name, reName, "a name (lower case letters, digits and -, up to 20)")
	if a.Name == "gateway" {
		c.add(f+".name", `"gateway" is reserved for the context parameter account:gateway`)
	}
	c.match(f+".id", a.ID, reAccountID, "a 12-digit account id")
	c.match(f+".region", a.Region, reRegion, "a region")
	c.match(f+".externalId", a.ExternalID, reExternalID, "an external id (2..1224 of letters, digits and +=,.@:/-)")
	if len(a.ExternalID) > 1224 {
		c.add(f+".externalId", "longer than 1224 characters")
	}
	if a.OrganizationID != "" {
		c.match(f+".organizationId", a.OrganizationID, reOrgID, "an organization id")
	}
	c.each(f+".sourceVpcEndpointIds", a.SourceVPCEndpointIDs, reVPCE, "a VPC endpoint id")
	c.each(f+".domainIds", a.DomainIDs, reDomainID, "a Studio domain id")
	if t := a.ResourceTag; t != nil {
		if t.Key == "" || len(t.Key) > 128 || strings.HasPrefix(t.Key, "aws:") || t.Value == "" || len(t.Value) > 256 {
			c.add(f+".resourceTag", "needs a key (not aws:) and a value")
		}
		if len(a.DomainIDs) > 0 {
			c.add(f+".resourceTag", "scopes the access role instead of domainIds: use one or the other")
		}
		// sagegate tags the profiles it creates with sagegate:user and
		// sagegate:lob only: the role could never open them.
		if a.CreateUserProfiles {
			c.add(f+".createUserProfiles", "needs domain scoping: profiles sagegate creates do not carry resourceTag")
		}
	} else if len(a.DomainIDs) == 0 && (a.Studio == nil || len(a.Studio.Domains) == 0) {
		c.add(f, "the access role needs a scope: domainIds, studio domains or resourceTag")
	}
	c.match(f+".notebookPrefix", a.NotebookPrefix, reNotebookPre, "a notebook instance name prefix")
	if len(a.NotebookPrefix) > 40 {
		c.add(f+".notebookPrefix", "longer than 40 characters leaves no room for a name")
	}
	if s := a.Studio; s != nil {
		s.validate(c, f+".studio", a.Region)
	}
	if v := a.Vending; v != nil {
		// The gateway's own account targets the function directly, which
		// only works in its region.
		if a.ID == gw.Account && a.Region != gw.Region {
			c.add(f+".vending", "in the gateway's account, vending must be in the gateway's region %s", gw.Region)
		}
		if a.Studio == nil {
			c.add(f+".vending", "needs studio: notebooks are placed in its network")
		}
		if !a.Notebooks {
			c.add(f+".vending", "needs notebooks: true so the gateway can open what it vends")
		}
		if v.PortfolioName == "" || len(v.PortfolioName) > 100 {
			c.add(f+".vending.portfolioName", "must be 1..100 characters")
		}
		c.each(f+".vending.instanceTypes", v.InstanceTypes, reInstanceType, "a SageMaker instance type")
		c.each(f+".vending.launchRoleArns", v.LaunchRoleARNs, reRoleARN, "an IAM role ARN")
	}
}

func (s *Studio) validate(c *checker, f, region string) {
	if _, n, err := net.ParseCIDR(s.CIDR); err != nil || n.IP.To4() == nil {
		c.add(f+".cidr", "%q is not an IPv4 CIDR", s.CIDR)
	} else if ones, _ := n.Mask.Size(); ones < 16 || ones > 22 {
		c.add(f+".cidr", "/%d: use /16../22 so two subnets have room for Studio's network interfaces", ones)
	}
	if len(s.AvailabilityZones) != 2 {
		c.add(f+".availabilityZones", "exactly two are needed, one per isolated subnet")
	}
	for i, az := range s.AvailabilityZones {
		if !strings.HasPrefix(az, region) || len(az) == len(region) {
			c.add(fmt.Sprintf("%s.availabilityZones[%d]", f, i), "%q is not a zone of %s", az, region)
		}
	}
	for i, cidr := range s.ClientCIDRs {
		if _, n, err := net.ParseCIDR(cidr); err != nil || n.IP.To4() == nil {
			c.add(fmt.Sprintf("%s.clientCidrs[%d]", f, i), "%q is not an IPv4 CIDR", cidr)
		}
	}
	if !slices.Contains(retentionDays, s.LogRetentionDays) {
		c.add(f+".logRetentionDays", "%d is not one of %v", s.LogRetentionDays, retentionDays)
	}
	if len(s.Domains) == 0 {
		c.add(f+".domains", "at least one domain is required")
	}
	seen := map[string]bool{}
	for i, d := range s.Domains {
		df := fmt.Sprintf("%s.domains[%d]", f, i)
		c.match(df+".name", d.Name, reSageMakerNm, "a SageMaker domain name")
		if seen[d.Name] {
			c.add(df+".name", "%q is used twice", d.Name)
		}
		seen[d.Name] = true
		c.each(df+".users", d.Users, reSageMakerNm, "a SageMaker user profile name")
		if dup := firstDuplicate(d.Users); dup != "" {
			c.add(df+".users", "%q is listed twice", dup)
		}
		if d.IdleTimeoutMinutes < 60 || d.IdleTimeoutMinutes > 525600 {
			c.add(df+".idleTimeoutMinutes", "%d is not within 60..525600", d.IdleTimeoutMinutes)
		}
		c.match(df+".instanceType", d.InstanceType, reInstanceType, "a SageMaker instance type")
	}
}

func firstDuplicate(vs []string) string {
	seen := map[string]bool{}
	for _, v := range vs {
		if seen[v] {
			return v
		}
		seen[v] = true
	}
	return ""
}
