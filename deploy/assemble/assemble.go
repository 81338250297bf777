// Package assemble turns a deployment file into CDK stacks: the gateway,
// and per LOB account its Studio domains, access role and notebook vending.
// Stacks in different accounts refer to each other only through fixed
// names (roles, functions, buses), never through cross-stack references,
// which CloudFormation cannot resolve across accounts.
package assemble

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/sagegate/sagegate/deploy/spec"
	"github.com/sagegate/sagegate/deploy/stacks"
)

// Stacks are what Build created, by account name.
type Stacks struct {
	Gateway *stacks.GatewayStack
	Studio  map[string]*stacks.StudioDomainStack
	Access  map[string]*stacks.AccessRoleStack
	Vending map[string]*stacks.NotebookVendingStack
}

// StackName names a stack of an account ("<name>-<account>-<kind>"), or the
// gateway's ("<name>-gateway").
func StackName(d *spec.Deployment, account, kind string) string {
	if account == "" {
		return d.Name + "-" + kind
	}
	return d.Name + "-" + account + "-" + kind
}

// NotebookRoleName is the fixed name of an account's vended notebook role.
func NotebookRoleName(d *spec.Deployment, a *spec.Account) string {
	return d.Name + "-" + a.Name + "-notebook"
}

// Build adds every stack of a validated deployment to scope. lambdaAsset is
// the bootstrap zip of the gateway's architecture.
func Build(scope constructs.Construct, d *spec.Deployment, lambdaAsset string) (*Stacks, error) {
	out := &Stacks{
		Studio:  map[string]*stacks.StudioDomainStack{},
		Access:  map[string]*stacks.AccessRoleStack{},
		Vending: map[string]*stacks.NotebookVendingStack{},
	}
	gw := &d.Gateway
	gatewayRole := stacks.RoleARN(gw.Region, gw.Account, gw.RoleName)

	var accessRoles, vendingAccounts []string
	for i := range d.Accounts {
		a := &d.Accounts[i]
		accessRoles = append(accessRoles, stacks.RoleARN(a.Region, a.ID, d.AccessRoleName))
		if a.Vending != nil && a.ID != gw.Account {
			vendingAccounts = appendOnce(vendingAccounts, a.ID)
		}
	}

	g, err := stacks.NewGatewayStack(scope, StackName(d, "", "gateway"), gatewayProps(d, lambdaAsset, accessRoles, vendingAccounts))
	if err != nil {
		return nil, err
	}
	out.Gateway = g

	for i := range d.Accounts {
		a := &d.Accounts[i]
		env := env(a.ID, a.Region)
		var studio *stacks.StudioDomainStack
		var executionRoles []string
		domainIDs := append([]string{}, a.DomainIDs...)
		if a.Studio != nil {
			if studio, err = buildStudio(scope, d, a, env); err != nil {
				return nil, err
			}
			out.Studio[a.Name] = studio
			if a.ResourceTag == nil {
				domainIDs = append(domainIDs, studio.DomainIDs()...)
			}
			for _, d := range studio.Domains {
				executionRoles = append(executionRoles, *d.ExecutionRole.RoleArn())
			}
		}
		access := &stacks.AccessRoleProps{
			StackProps:           stackProps(d, a.Name, "access", env, "sagegate access role, trusted by the gateway"),
			RoleName:             d.AccessRoleName,
			GatewayRoleARN:       gatewayRole,
			ExternalID:           a.ExternalID,
			OrganizationID:       a.OrganizationID,
			DomainIDs:            domainIDs,
			SourceVPCEndpointIDs: a.SourceVPCEndpointIDs,
			CreateUserProfiles:   a.CreateUserProfiles,
			ExecutionRoleARNs:    executionRoles,
			Notebooks:            a.Notebooks,
			NotebookPrefix:       a.NotebookPrefix,
		}
		if t := a.ResourceTag; t != nil {
			access.DomainIDs, access.ResourceTag = nil, &stacks.Tag{Key: t.Key, Value: t.Value}
		}
		if a.Vending != nil {
			access.NotebookRoleARN = stacks.RoleARN(a.Region, a.ID, NotebookRoleName(d, a))
		}
		if out.Access[a.Name], err = stacks.NewAccessRoleStack(scope, StackName(d, a.Name, "access"), access); err != nil {
			return nil, err
		}
		if a.Vending != nil {
			if out.Vending[a.Name], err = buildVending(scope, d, a, env, studio); err != nil {
				return nil, err
			}
		}
	}
	return out, nil
}

func gatewayProps(d *spec.Deployment, lambdaAsset string, accessRoles, vendingAccounts []string) *stacks.GatewayProps {
	gw := &d.Gateway
	retention, _ := stacks.Retention(gw.LogRetentionDays) // validated by spec
	arch := awslambda.Architecture_ARM_64()
	if gw.Architecture == "amd64" {
		arch = awslambda.Architecture_X86_64()
	}
	p := &stacks.GatewayProps{
		StackProps:     stackProps(d, "", "gateway", env(gw.Account, gw.Region), "sagegate gateway: functions, API, identity, routing tables"),
		Name:           d.Name,
		RoleName:       gw.RoleName,
		AccessRoleARNs: accessRoles,
		LambdaAsset:    lambdaAsset,
		Architecture:   arch,
		MemoryMB:       gw.MemoryMB,
		ConfigDir:      d.Path(gw.ConfigDir),
		ConfigFile:     gw.ConfigFile,
		Environment:    gatewayEnv(d),
		API: stacks.APIProps{
			Private:                gw.API.Endpoint == spec.EndpointPrivate,
			VPCEndpointIDs:         gw.API.VPCEndpointIDs,
			Stage:                  gw.API.Stage,
			DomainName:             gw.API.DomainName,
			CertificateARN:         gw.API.CertificateARN,
			Authorizer:             gw.API.Authorizer,
			AuthorizerCacheSeconds: *gw.API.AuthorizerCacheSeconds,
			RateLimit:              gw.API.RateLimit,
			BurstLimit:             gw.API.BurstLimit,
		},
		UsersTable:      gw.UsersTable,
		LobsTable:       gw.LobsTable,
		LogRetention:    retention,
		AlarmEmail:      gw.AlarmEmail,
		VendingAccounts: vendingAccounts,
	}
	if gw.Identity.Type == spec.IdentityCognito {
		p.Cognito = &stacks.CognitoProps{DomainPrefix: gw.Identity.DomainPrefix, PublicURL: gw.Identity.PublicURL}
	} else {
		p.OIDCIssuer = gw.Identity.Issuer
	}
	if n := gw.Network; n != nil {
		p.Network = &stacks.LambdaNetwork{SubnetIDs: n.SubnetIDs, SecurityGroupIDs: n.SecurityGroupIDs}
	}
	return p
}

// gatewayEnv is the deployment's environment for the functions plus each
// account's id as SAGEGATE_ACCOUNT_<NAME>, so the configuration can name
// accounts without repeating (and contradicting) the deployment file.
func gatewayEnv(d *spec.Deployment) map[string]string {
	env := map[string]string{}
	for k, v := range d.Gateway.Environment {
		env[k] = v
	}
	for _, a := range d.Accounts {
		env[spec.AccountEnv(a.Name)] = a.ID
	}
	return env
}

func buildStudio(scope constructs.Construct, d *spec.Deployment, a *spec.Account, env *awscdk.Environment) (*stacks.StudioDomainStack, error) {
	s := a.Studio
	retention, _ := stacks.Retention(s.LogRetentionDays) // validated by spec
	props := &stacks.StudioDomainProps{
		StackProps:        stackProps(d, a.Name, "studio", env, "sagegate VPC-only Studio for "+a.Name),
		Name:              d.Name + "-" + a.Name,
		CIDR:              s.CIDR,
		AvailabilityZones: s.AvailabilityZones,
		ECR:               s.ECR,
		ClientCIDRs:       s.ClientCIDRs,
		FlowLogRetention:  retention,
	}
	if t := a.ResourceTag; t != nil {
		props.Tags = map[string]string{t.Key: t.Value}
	}
	for _, dom := range s.Domains {
		props.Domains = append(props.Domains, stacks.StudioDomain{
			Name: dom.Name, Users: dom.Users, IdleTimeoutMinutes: dom.IdleTimeoutMinutes, InstanceType: dom.InstanceType,
		})
	}
	return stacks.NewStudioDomainStack(scope, StackName(d, a.Name, "studio"), props)
}

func buildVending(scope constructs.Construct, d *spec.Deployment, a *spec.Account, env *awscdk.Environment, studio *stacks.StudioDomainStack) (*stacks.NotebookVendingStack, error) {
	subnets := studio.VPC.SelectSubnets(&awsec2.SubnetSelection{SubnetType: awsec2.SubnetType_PRIVATE_ISOLATED}).SubnetIds
	return stacks.NewNotebookVendingStack(scope, StackName(d, a.Name, "vending"), &stacks.NotebookVendingProps{
		StackProps:       stackProps(d, a.Name, "vending", env, "sagegate notebook vending for "+a.Name),
		Name:             d.Name + "/" + a.Name,
		NotebookRoleName: NotebookRoleName(d, a),
		Prefix:           a.NotebookPrefix,
		VPCID:            *studio.VPC.VpcId(),
		SubnetID:         *(*subnets)[0],
		SecurityGroupID:  *studio.AppsSecurityGroup.SecurityGroupId(),
		KeyARN:           *studio.Key.KeyArn(),
		BucketARN:        *studio.Bucket.BucketArn(),
		ECR:              a.Studio.ECR,
		InstanceTypes:    a.Vending.InstanceTypes,
		PortfolioName:    a.Vending.PortfolioName,
		LaunchRoleARNs:   a.Vending.LaunchRoleARNs,
		GatewayAccount:   d.Gateway.Account,
		GatewayRegion:    d.Gateway.Region,
		GatewayName:      d.Name,
	})
}

func env(account, region string) *awscdk.Environment {
	return &awscdk.Environment{Account: jsii.String(account), Region: jsii.String(region)}
}

func stackProps(d *spec.Deployment, account, kind string, env *awscdk.Environment, description string) awscdk.StackProps {
	return awscdk.StackProps{
		Env:         env,
		StackName:   jsii.String(StackName(d, account, kind)),
		Description: jsii.String(description),
		Tags:        &map[string]*string{"sagegate:deployment": jsii.String(d.Name)},
	}
}

func appendOnce(vs []string, v string) []string {
	for _, x := range vs {
		if x == v {
			return vs
		}
	}
	return append(vs, v)
}
