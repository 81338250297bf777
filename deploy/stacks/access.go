package stacks

import (
	"errors"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

// Tag is a resource tag that scopes permissions.
type Tag struct{ Key, Value string }

// AccessRoleProps configure the role sagegate assumes in a LOB account.
type AccessRoleProps struct {
	awscdk.StackProps
	// RoleName is fixed so the gateway can name it in its own policy.
	RoleName string
	// GatewayRoleARN is the only principal trusted.
	GatewayRoleARN string
	ExternalID     string
	// OrganizationID, when set, is required of the caller too.
	OrganizationID string
	// DomainIDs scope the role to these domains (ids may be tokens of a
	// StudioDomainStack in the same account); or ResourceTag scopes it to
	// domains and profiles carrying that tag.
	DomainIDs   []string
	ResourceTag *Tag
	// SourceVPCEndpointIDs, when set, restrict every SageMaker action to
	// calls through these endpoints, and with it every request made with a
	// presigned URL this role minted.
	SourceVPCEndpointIDs []string
	// CreateUserProfiles allows sagegate's just-in-time profiles: creating
	// a missing user profile (and its private space) in the scoped domains,
	// passing one of ExecutionRoleARNs to it.
	CreateUserProfiles bool
	ExecutionRoleARNs  []string
	// Notebooks allows opening, starting and stopping notebook instances
	// named NotebookPrefix*; with NotebookRoleARN also creating them, in a
	// VPC, without internet access or root, running that role.
	Notebooks       bool
	NotebookPrefix  string
	NotebookRoleARN string
	// PublishNotebookURLs allows writing notebook URLs to SSM Parameter
	// Store under /SageMaker/Notebooks/ (notebooks.publishSsm), encrypted
	// with ParameterKeyARN when set (else the account's aws/ssm key).
	PublishNotebookURLs bool
	ParameterKeyARN     string
}

// AccessRoleStack holds the access role of one LOB account.
type AccessRoleStack struct {
	awscdk.Stack
	Role awsiam.Role
}

// NewAccessRoleStack builds the access role: trusted only by the gateway's
// role with the external id, allowed only what a launch needs, on this
// account's domains.
func NewAccessRoleStack(scope constructs.Construct, id string, props *AccessRoleProps) (*AccessRoleStack, error) {
	stack, account, region, err := newStack(scope, id, &props.StackProps, props.check)
	if err != nil {
		return nil, err
	}

	trust := conds{"StringEquals": {"sts:ExternalId": props.ExternalID}}
	if props.OrganizationID != "" {
		trust["StringEquals"]["aws:PrincipalOrgID"] = props.OrganizationID
	}
	gateway := awsiam.NewArnPrincipal(jsii.String(props.GatewayRoleARN))
	role := awsiam.NewRole(stack, jsii.String("AccessRole"), &awsiam.RoleProps{
		RoleName:           jsii.String(props.RoleName),
		Description:        jsii.String("sagegate: mints Studio presigned URLs for the gateway, with the person's SourceIdentity"),
		AssumedBy:          gateway.WithConditions(trust.jsii()),
		MaxSessionDuration: awscdk.Duration_Hours(jsii.Number(1)),
		InlinePolicies: &map[string]awsiam.PolicyDocument{
			"sagegate-access": awsiam.NewPolicyDocument(&awsiam.PolicyDocumentProps{
				Statements: props.statements(account, region),
			}),
		},
	})
	// SourceIdentity (the username) is what makes this account's CloudTrail
	// show who opened Studio; it needs its own trust statement.
	role.AssumeRolePolicy().AddStatements(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:        jsii.String("GatewaySetsSourceIdentity"),
		Effect:     awsiam.Effect_ALLOW,
		Principals: &[]awsiam.IPrincipal{gateway},
		Actions:    strs("sts:SetSourceIdentity"),
		Conditions: trust.jsii(),
	}))
	awscdk.NewCfnOutput(stack, jsii.String("AccessRoleArn"), &awscdk.CfnOutputProps{Value: role.RoleArn()})
	return &AccessRoleStack{Stack: stack, Role: role}, nil
}

func (p *AccessRoleProps) check() error {
	var errs []error
	if p.RoleName == "" || p.GatewayRoleARN == "" || p.ExternalID == "" {
		errs = append(errs, errors.New("access role: RoleName, GatewayRoleARN and ExternalID are required"))
	}
	if strings.Contains(p.GatewayRoleARN, "*") {
		errs = append(errs, errors.New("access role: GatewayRoleARN must name one role, without wildcards"))
	}
	if (len(p.DomainIDs) == 0) == (p.ResourceTag == nil) {
		errs = append(errs, errors.New("access role: give either DomainIDs or ResourceTag"))
	}
	if p.Notebooks && p.NotebookPrefix == "" {
		errs = append(errs, errors.New("access role: Notebooks needs a NotebookPrefix"))
	}
	return errors.Join(errs...)
}

// statements are the role's permissions. Every SageMaker statement is
// scoped to this account and region and to the domains (or tag) given;
// only ListDomains and ListNotebookInstances, which IAM cannot scope to a
// resource, have "*".
func (p *AccessRoleProps) statements(account, region string) *[]awsiam.PolicyStatement {
	sm := func(resource string) string { return arn("sagemaker", region, account, resource) }
	var network conds
	if len(p.SourceVPCEndpointIDs) > 0 {
		network = conds{"StringEquals": {"aws:SourceVpce": p.SourceVPCEndpointIDs}}
	}

	var domains, profiles, spaces []string
	var scope, tagOnCreate conds
	if t := p.ResourceTag; t != nil {
		domains, profiles, spaces = []string{sm("domain/*")}, []string{sm("user-profile/*")}, []string{sm("space/*")}
		scope = conds{"StringEquals": {"aws:ResourceTag/" + t.Key: t.Value}}
		tagOnCreate = conds{"StringEquals": {"aws:RequestTag/" + t.Key: t.Value}}
	} else {
		for _, d := range p.DomainIDs {
			domains = append(domains, sm("domain/"+d))
			profiles = append(profiles, sm("user-profile/"+d+"/*"))
			spaces = append(spaces, sm("space/"+d+"/*"))
		}
	}

	out := []awsiam.PolicyStatement{
		allow("PresignStudio", []string{"sagemaker:CreatePresignedDomainUrl"}, profiles, merge(scope, network)),
		allow("DescribeStudio", []string{"sagemaker:DescribeDomain", "sagemaker:DescribeUserProfile"},
			append(append([]string{}, domains...), profiles...), merge(scope, network)),
		allow("ListDomains", []string{"sagemaker:ListDomains"}, []string{"*"}, network),
	}
	if p.CreateUserProfiles {
		// A new profile or space must carry the scope tag, or the role could
		// not open it afterwards.
		out = append(out,
			allow("CreateUserProfiles", []string{"sagemaker:CreateUserProfile", "sagemaker:AddTags"},
				profiles, merge(tagOnCreate, network)),
			allow("CreatePrivateSpaces", []string{"sagemaker:CreateSpace", "sagemaker:AddTags"},
				spaces, merge(tagOnCreate, network)),
			allow("DescribeSpaces", []string{"sagemaker:DescribeSpace"}, spaces, merge(scope, network)))
		if len(p.ExecutionRoleARNs) > 0 {
			out = append(out, allow("PassExecutionRoles", []string{"iam:PassRole"}, p.ExecutionRoleARNs,
				conds{"StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}}))
		}
	}
	if p.Notebooks {
		// SageMaker lower-cases notebook instance names in their ARNs.
		notebooks := []string{sm("notebook-instance/" + strings.ToLower(p.NotebookPrefix) + "*")}
		out = append(out,
			allow("OpenNotebooks", []string{
				"sagemaker:CreatePresignedNotebookInstanceUrl", "sagemaker:DescribeNotebookInstance",
				"sagemaker:StartNotebookInstance", "sagemaker:StopNotebookInstance", "sagemaker:ListTags",
			}, notebooks, network),
			// sagegate records each launch as the sagegate:last-launch tag
			// of the instance, which the idle reaper reads.
			allow("TagNotebooks", []string{"sagemaker:AddTags"}, notebooks, network),
			allow("ListNotebooks", []string{"sagemaker:ListNotebookInstances"}, []string{"*"}, network))
		if p.PublishNotebookURLs {
			out = append(out, allow("PublishNotebookURLs", []string{"ssm:PutParameter"},
				[]string{arn("ssm", region, account, "parameter/SageMaker/Notebooks/*")}, nil))
			if p.ParameterKeyARN != "" {
				out = append(out, allow("EncryptNotebookURLs", []string{"kms:Encrypt", "kms:GenerateDataKey"}, []string{p.ParameterKeyARN},
					conds{"StringEquals": {"kms:ViaService": "ssm." + region + ".amazonaws.com"}}))
			}
		}
		if p.NotebookRoleARN != "" {
			out = append(out,
				allow("CreateNotebooks", []string{"sagemaker:CreateNotebookInstance"}, notebooks, merge(network, conds{
					"StringEquals": {"sagemaker:DirectInternetAccess": "Disabled", "sagemaker:RootAccess": "Disabled"},
					"Null":         {"sagemaker:VpcSubnets": "false"},
				})),
				allow("PassNotebookRole", []string{"iam:PassRole"}, []string{p.NotebookRoleARN},
					conds{"StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}}))
		}
	}
	return &out
}
