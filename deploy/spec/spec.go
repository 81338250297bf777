// Package spec is the deployment file of sagegate's CDK app: which accounts
// exist, what runs in each and how the gateway reaches them. It is plain
// data with defaults and validation, free of CDK, so that every mistake is
// reported at once before a single construct is built.
package spec

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
)

// Deployment is one sagegate installation: a gateway account and the LOB
// accounts it opens Studio in.
type Deployment struct {
	// Name prefixes stack names, the gateway's function and role names and
	// other account-wide names; default "sagegate".
	Name string `json:"name,omitempty"`
	// AccessRoleName is the name of the role AccessRoleStack creates in every
	// LOB account; the gateway may assume exactly these roles.
	AccessRoleName string    `json:"accessRoleName,omitempty"`
	Gateway        Gateway   `json:"gateway"`
	Accounts       []Account `json:"accounts"`

	// dir is the directory of the file, the base of its relative paths.
	dir string
}

// Gateway is the account running sagegate's Lambda functions and API.
type Gateway struct {
	Account string `json:"account"`
	Region  string `json:"region"`
	// RoleName is the fixed name of the gateway's role; access roles trust
	// arn:aws:iam::<account>:role/<RoleName>. Default "<name>-gateway".
	RoleName string `json:"roleName,omitempty"`
	// Architecture of the bootstrap binary: "arm64" (default) or "amd64".
	Architecture string `json:"architecture,omitempty"`
	// MemoryMB of each function; default 512.
	MemoryMB int `json:"memoryMb,omitempty"`
	// ConfigDir holds the sagegate configuration file, shipped as a Lambda
	// layer (so it appears under /opt); relative to this file.
	ConfigDir string `json:"configDir"`
	// ConfigFile is the file's name inside ConfigDir; default sagegate.yaml.
	ConfigFile string `json:"configFile,omitempty"`
	// Environment is added to every function's environment, e.g. values
	// the configuration file reads with ${NAME}. Not for secrets.
	Environment map[string]string `json:"environment,omitempty"`
	API         API               `json:"api"`
	Identity    Identity          `json:"identity"`
	// UsersTable and LobsTable name the DynamoDB tables; defaults are those
	// of the AWS multi-account sample, users-map-table and lobs-map-table.
	UsersTable string `json:"usersTable,omitempty"`
	LobsTable  string `json:"lobsTable,omitempty"`
	// LogRetentionDays of every log group; default 90.
	LogRetentionDays int `json:"logRetentionDays,omitempty"`
	// AlarmEmail, when set, subscribes to the alarm topic.
	AlarmEmail string `json:"alarmEmail,omitempty"`
	// Network puts the functions in existing subnets (needed for VPC
	// endpoints and aws:SourceVpce conditions).
	Network *Network `json:"network,omitempty"`
}

// API is the API Gateway REST API in front of the http function.
type API struct {
	// Endpoint is "regional" (default) or "private".
	Endpoint string `json:"endpoint,omitempty"`
	// VPCEndpointIDs are the execute-api interface endpoints a private API
	// accepts; nothing else may invoke it.
	VPCEndpointIDs []string `json:"vpcEndpointIds,omitempty"`
	// DomainName and CertificateARN (ACM, in the gateway's region) put a
	// regional API on a custom domain: browsers need one, because sagegate's
	// pages link to root paths and an execute-api URL starts with the stage.
	DomainName     string `json:"domainName,omitempty"`
	CertificateARN string `json:"certificateArn,omitempty"`
	// Stage name; default "prod".
	Stage string `json:"stage,omitempty"`
	// Authorizer is "none" (default: sagegate verifies tokens itself, and
	// browser sessions work), "lambda" (the authorizer function) or
	// "cognito" (a user pool authorizer; identity.type must be cognito).
	Authorizer string `json:"authorizer,omitempty"`
	// AuthorizerCacheSeconds caches authorizer answers per token; 0..3600,
	// default 300.
	AuthorizerCacheSeconds *int `json:"authorizerCacheSeconds,omitempty"`
	// RateLimit and BurstLimit throttle the stage; defaults 50 and 100.
	RateLimit  float64 `json:"rateLimit,omitempty"`
	BurstLimit int     `json:"burstLimit,omitempty"`
}

// Identity says who issues the tokens sagegate accepts.
type Identity struct {
	// Type is "cognito" (a user pool, app client and hosted domain are
	// created) or "oidc" (an external issuer).
	Type string `json:"type"`
	// DomainPrefix of the Cognito hosted domain (cognito).
	DomainPrefix string `json:"domainPrefix,omitempty"`
	// PublicURL is how browsers reach sagegate (https); the app client's
	// callback is <PublicURL>/auth/callback (cognito).
	PublicURL string `json:"publicUrl,omitempty"`
	// Issuer of the external provider (oidc).
	Issuer string `json:"issuer,omitempty"`
}

// Network names existing subnets and security groups for the functions.
type Network struct {
	SubnetIDs        []string `json:"subnetIds"`
	SecurityGroupIDs []string `json:"securityGroupIds"`
}

// Account is one LOB account: its access role and, optionally, the Studio
// domains and notebook vending deployed in it.
type Account struct {
	// Name identifies the account in stack names and context overrides
	// (account:<name>).
	Name   string `json:"name"`
	ID     string `json:"id"`
	Region string `json:"region"`
	// ExternalID is required in the access role's trust policy.
	ExternalID string `json:"externalId"`
	// OrganizationID, when set, is also required of the caller
	// (aws:PrincipalOrgID).
	OrganizationID string `json:"organizationId,omitempty"`
	// SourceVPCEndpointIDs, when set, restrict every SageMaker call of the
	// access role, and so every request made with a presigned URL it
	// minted, to these VPC endpoints.
	SourceVPCEndpointIDs []string `json:"sourceVpcEndpointIds,omitempty"`
	// DomainIDs are existing domains the access role may open, in addition
	// to those Studio creates.
	DomainIDs []string `json:"domainIds,omitempty"`
	// ResourceTag scopes the access role to domains and profiles carrying
	// this tag instead of to domain ids; Studio puts it on its domains.
	ResourceTag *Tag `json:"resourceTag,omitempty"`
	// CreateUserProfiles lets the gateway create missing user profiles and
	// private spaces (LOBs with jitProfiles), with the account's Studio
	// execution roles.
	CreateUserProfiles bool `json:"createUserProfiles,omitempty"`
	// Notebooks lets the gateway open, start and create notebook instances
	// whose names start with NotebookPrefix (default "<name>-").
	Notebooks      bool     `json:"notebooks,omitempty"`
	NotebookPrefix string   `json:"notebookPrefix,omitempty"`
	Studio         *Studio  `json:"studio,omitempty"`
	Vending        *Vending `json:"vending,omitempty"`
}

// Tag is a resource tag.
type Tag struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// Studio is a VPC-only network with one or more Studio domains.
type Studio struct {
	// CIDR of the new VPC; default 10.20.0.0/16.
	CIDR string `json:"cidr,omitempty"`
	// AvailabilityZones of the two isolated subnets; default <region>a and
	// <region>b. Given explicitly so synth never looks them up.
	AvailabilityZones []string `json:"availabilityZones,omitempty"`
	// ECR adds the ECR endpoints and image pull rights (custom images,
	// bring-your-own containers).
	ECR bool `json:"ecr,omitempty"`
	// ClientCIDRs are the networks browsers open Studio from (VPN, Direct
	// Connect): they may reach the studio and notebook endpoints.
	ClientCIDRs []string `json:"clientCidrs,omitempty"`
	// LogRetentionDays of the flow logs; default 90.
	LogRetentionDays int      `json:"logRetentionDays,omitempty"`
	Domains          []Domain `json:"domains"`
}

// Domain is one Studio domain.
type Domain struct {
	Name string `json:"name"`
	// Users get a user profile each.
	Users []string `json:"users,omitempty"`
	// IdleTimeoutMinutes shuts idle JupyterLab and Code Editor apps down;
	// 60..525600, default 120.
	IdleTimeoutMinutes int `json:"idleTimeoutMinutes,omitempty"`
	// InstanceType of the default JupyterLab space; default ml.t3.medium.
	InstanceType string `json:"instanceType,omitempty"`
}

// Vending is a Service Catalog notebook product in the account's Studio
// network, whose ProvisionProduct events reach the gateway's events function.
type Vending struct {
	PortfolioName string `json:"portfolioName,omitempty"`
	// InstanceTypes offered; default ml.t3.medium and ml.t3.large.
	InstanceTypes []string `json:"instanceTypes,omitempty"`
	// LaunchRoleARNs are IAM roles given access to the portfolio.
	LaunchRoleARNs []string `json:"launchRoleArns,omitempty"`
}

// Load reads a deployment file strictly (an unknown key is an error). The
// caller applies its overrides, then ApplyDefaults and Validate.
func Load(path string) (*Deployment, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	d, err := Parse(raw, filepath.Dir(path))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return d, nil
}

// Parse decodes a deployment whose relative paths are relative to dir. It
// does not validate: callers may override fields first (context
// parameters), then call Validate.
func Parse(raw []byte, dir string) (*Deployment, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	var d Deployment
	if err := dec.Decode(&d); err != nil {
		return nil, err
	}
	if dec.More() {
		return nil, fmt.Errorf("unexpected data after the deployment object")
	}
	d.dir = dir
	return &d, nil
}

// Path resolves a path of the file against the file's directory.
func (d *Deployment) Path(p string) string {
	if p == "" || filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(d.dir, p)
}

// Account returns the account with this name.
func (d *Deployment) Account(name string) (*Account, bool) {
	for i := range d.Accounts {
		if d.Accounts[i].Name == name {
			return &d.Accounts[i], true
		}
	}
	return nil, false
}
