package spec

// Defaults of the deployment file.
const (
	DefaultName             = "sagegate"
	DefaultArchitecture     = "arm64"
	DefaultMemoryMB         = 512
	DefaultConfigFile       = "sagegate.yaml"
	DefaultUsersTable       = "users-map-table"
	DefaultLobsTable        = "lobs-map-table"
	DefaultLogRetentionDays = 90
	DefaultStage            = "prod"
	DefaultRateLimit        = 50
	DefaultBurstLimit       = 100
	DefaultAuthorizerCache  = 300
	DefaultStudioCIDR       = "10.20.0.0/16"
	DefaultIdleMinutes      = 120
	DefaultInstanceType     = "ml.t3.medium"
)

// Values of API.Endpoint, API.Authorizer and Identity.Type.
const (
	EndpointRegional  = "regional"
	EndpointPrivate   = "private"
	AuthorizerNone    = "none"
	AuthorizerLambda  = "lambda"
	AuthorizerCognito = "cognito"
	IdentityCognito   = "cognito"
	IdentityOIDC      = "oidc"
)

// ApplyDefaults fills what the file left out. It is idempotent.
func (d *Deployment) ApplyDefaults() {
	setDefault(&d.Name, DefaultName)
	setDefault(&d.AccessRoleName, d.Name+"-access")

	g := &d.Gateway
	setDefault(&g.RoleName, d.Name+"-gateway")
	setDefault(&g.Architecture, DefaultArchitecture)
	setDefault(&g.ConfigFile, DefaultConfigFile)
	setDefault(&g.UsersTable, DefaultUsersTable)
	setDefault(&g.LobsTable, DefaultLobsTable)
	setDefault(&g.API.Endpoint, EndpointRegional)
	setDefault(&g.API.Stage, DefaultStage)
	setDefault(&g.API.Authorizer, AuthorizerNone)
	if g.MemoryMB == 0 {
		g.MemoryMB = DefaultMemoryMB
	}
	if g.LogRetentionDays == 0 {
		g.LogRetentionDays = DefaultLogRetentionDays
	}
	if g.API.AuthorizerCacheSeconds == nil {
		ttl := DefaultAuthorizerCache
		g.API.AuthorizerCacheSeconds = &ttl
	}
	if g.API.RateLimit == 0 {
		g.API.RateLimit = DefaultRateLimit
	}
	if g.API.BurstLimit == 0 {
		g.API.BurstLimit = DefaultBurstLimit
	}

	for i := range d.Accounts {
		a := &d.Accounts[i]
		setDefault(&a.NotebookPrefix, d.Name+"-")
		if s := a.Studio; s != nil {
			setDefault(&s.CIDR, DefaultStudioCIDR)
			if len(s.AvailabilityZones) == 0 && a.Region != "" {
				s.AvailabilityZones = []string{a.Region + "a", a.Region + "b"}
			}
			if s.LogRetentionDays == 0 {
				s.LogRetentionDays = DefaultLogRetentionDays
			}
			for j := range s.Domains {
				dom := &s.Domains[j]
				if dom.IdleTimeoutMinutes == 0 {
					dom.IdleTimeoutMinutes = DefaultIdleMinutes
				}
				setDefault(&dom.InstanceType, DefaultInstanceType)
			}
		}
		if v := a.Vending; v != nil {
			setDefault(&v.PortfolioName, d.Name+" notebooks")
			if len(v.InstanceTypes) == 0 {
				v.InstanceTypes = []string{"ml.t3.medium", "ml.t3.large"}
			}
		}
	}
}

func setDefault(p *string, v string) {
	if *p == "" {
		*p = v
	}
}
