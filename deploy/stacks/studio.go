package stacks

import (
	"errors"
	"fmt"
	"net"
	"sort"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssagemaker"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

// StudioDomainProps configure a VPC-only Studio installation in one account.
type StudioDomainProps struct {
	awscdk.StackProps
	// Name prefixes the key alias and lifecycle configurations.
	Name string
	// CIDR of the VPC; its two isolated subnets take a quarter each.
	CIDR              string
	AvailabilityZones []string
	// ECR adds the ECR endpoints and image pull rights.
	ECR bool
	// ClientCIDRs may reach the studio and notebook endpoints (browsers).
	ClientCIDRs      []string
	FlowLogRetention awslogs.RetentionDays
	// Tags go on every domain and user profile, e.g. the tag an access role
	// is scoped to.
	Tags    map[string]string
	Domains []StudioDomain
}

// StudioDomain is one domain and its user profiles.
type StudioDomain struct {
	Name               string
	Users              []string
	IdleTimeoutMinutes int
	InstanceType       string
}

// StudioDomainStack is the network, key, bucket and domains of one account.
type StudioDomainStack struct {
	awscdk.Stack
	VPC                    awsec2.Vpc
	AppsSecurityGroup      awsec2.SecurityGroup
	EndpointsSecurityGroup awsec2.SecurityGroup
	Key                    awskms.Key
	Bucket                 awss3.Bucket
	Domains                []*StudioDomainResources
}

// StudioDomainResources are what one StudioDomain became.
type StudioDomainResources struct {
	Domain          awssagemaker.CfnDomain
	ExecutionRole   awsiam.Role
	LifecycleConfig awscdk.CfnResource
	Profiles        []awssagemaker.CfnUserProfile
}

// DomainIDs are the ids of the domains (tokens until deployed).
func (s *StudioDomainStack) DomainIDs() []string {
	ids := make([]string, 0, len(s.Domains))
	for _, d := range s.Domains {
		ids = append(ids, *d.Domain.AttrDomainId())
	}
	return ids
}

// NewStudioDomainStack builds the VPC-only setup: isolated subnets, VPC
// endpoints, security groups, a KMS key, a private TLS-only bucket, and per
// domain a least-privilege execution role, a lifecycle configuration, idle
// shutdown and user profiles, in IAM auth mode.
func NewStudioDomainStack(scope constructs.Construct, id string, props *StudioDomainProps) (*StudioDomainStack, error) {
	var mask float64
	stack, account, region, err := newStack(scope, id, &props.StackProps, func() (err error) {
		mask, err = props.check()
		return err
	})
	if err != nil {
		return nil, err
	}
	// The VPC checks its zones against the account's, which CDK would look
	// up with the account's credentials at synth: answering from the props
	// keeps synth offline, and lets one account be deployed with only its
	// own credentials.
	stack.Node().SetContext(jsii.String(fmt.Sprintf("availability-zones:account=%s:region=%s", account, region)),
		props.AvailabilityZones)
	net := newStudioNetwork(stack, networkProps{
		cidr: props.CIDR, subnetMask: mask, zones: props.AvailabilityZones, ecr: props.ECR,
		clientCIDRs: props.ClientCIDRs, flowLogs: props.FlowLogRetention,
	})
	key := newKey(stack, "sagegate "+props.Name+": Studio storage, EFS and the data bucket", "alias/"+props.Name+"-studio")
	bucket := awss3.NewBucket(stack, jsii.String("Bucket"), &awss3.BucketProps{
		Encryption:        awss3.BucketEncryption_KMS,
		EncryptionKey:     key,
		BucketKeyEnabled:  jsii.Bool(true),
		BlockPublicAccess: awss3.BlockPublicAccess_BLOCK_ALL(),
		EnforceSSL:        jsii.Bool(true),
		MinimumTLSVersion: jsii.Number(1.2),
		ObjectOwnership:   awss3.ObjectOwnership_BUCKET_OWNER_ENFORCED,
		Versioned:         jsii.Bool(true),
		RemovalPolicy:     awscdk.RemovalPolicy_RETAIN,
		LifecycleRules: &[]*awss3.LifecycleRule{{
			AbortIncompleteMultipartUploadAfter: awscdk.Duration_Days(jsii.Number(7)),
			NoncurrentVersionExpiration:         awscdk.Duration_Days(jsii.Number(90)),
		}},
	})
	out := &StudioDomainStack{
		Stack: stack, VPC: net.vpc, AppsSecurityGroup: net.apps, EndpointsSecurityGroup: net.endpoints,
		Key: key, Bucket: bucket,
	}
	subnets := net.vpc.SelectSubnets(&awsec2.SubnetSelection{SubnetType: awsec2.SubnetType_PRIVATE_ISOLATED}).SubnetIds
	for i, d := range props.Domains {
		res := newDomain(stack, fmt.Sprintf("Domain%d", i), d, domainDeps{
			scope: execScope{
				account: account, region: region, bucketARN: *bucket.BucketArn(), prefix: d.Name,
				keyARN: *key.KeyArn(), vpcID: *net.vpc.VpcId(), ecr: props.ECR,
			},
			vpcID: net.vpc.VpcId(), subnets: subnets, securityGroup: net.apps.SecurityGroupId(),
			bucket: bucket, key: key, tags: props.Tags,
		})
		out.Domains = append(out.Domains, res)
		awscdk.NewCfnOutput(stack, jsii.String(fmt.Sprintf("Domain%dId", i)), &awscdk.CfnOutputProps{
			Description: jsii.String("Studio domain " + d.Name),
			Value:       res.Domain.AttrDomainId(),
		})
	}
	return out, nil
}

// check validates what CloudFormation would only refuse half-way, and
// returns the subnet mask: two subnets of a quarter of the VPC each leave
// room for more.
func (p *StudioDomainProps) check() (float64, error) {
	var errs []error
	_, n, err := net.ParseCIDR(p.CIDR)
	ones := 0
	if err == nil {
		ones, _ = n.Mask.Size()
	}
	if err != nil || ones < 16 || ones > 22 {
		errs = append(errs, fmt.Errorf("studio: CIDR %q must be an IPv4 /16../22", p.CIDR))
	}
	if len(p.AvailabilityZones) != 2 {
		errs = append(errs, errors.New("studio: exactly two availability zones are needed"))
	}
	if p.Name == "" || len(p.Domains) == 0 {
		errs = append(errs, errors.New("studio: Name and at least one domain are required"))
	}
	for _, d := range p.Domains {
		if d.IdleTimeoutMinutes < 60 || d.IdleTimeoutMinutes > 525600 {
			errs = append(errs, fmt.Errorf("studio: domain %s: idle timeout %d is not within 60..525600 minutes", d.Name, d.IdleTimeoutMinutes))
		}
		if d.Name == "" || d.InstanceType == "" {
			errs = append(errs, errors.New("studio: every domain needs a Name and an InstanceType"))
		}
	}
	return float64(ones + 2), errors.Join(errs...)
}

type domainDeps struct {
	scope         execScope
	vpcID         *string
	subnets       *[]*string
	securityGroup *string
	bucket        awss3.Bucket
	key           awskms.Key
	tags          map[string]string
}

func newDomain(stack awscdk.Stack, id string, d StudioDomain, deps domainDeps) *StudioDomainResources {
	scope := constructs.NewConstruct(stack, jsii.String(id))
	// AWS::SageMaker::StudioLifecycleConfig has no L1 class in aws-cdk-lib
	// 2.150 (it came in 2.154); the resource itself is long established.
	lifecycle := awscdk.NewCfnResource(scope, jsii.String("JupyterLabLifecycle"), &awscdk.CfnResourceProps{
		Type: jsii.String("AWS::SageMaker::StudioLifecycleConfig"),
		Properties: &map[string]any{
			"StudioLifecycleConfigName":    sageMakerName(d.Name, "-jupyterlab"),
			"StudioLifecycleConfigAppType": "JupyterLab",
			"StudioLifecycleConfigContent": jupyterLabLifecycle(d.IdleTimeoutMinutes),
		},
	})
	lifecycleARN := lifecycle.GetAtt(jsii.String("StudioLifecycleConfigArn"), awscdk.ResolutionTypeHint_STRING).ToString()
	// The domain needs the role's ARN, and the role's policy the domain's
	// id: the policy is a resource of its own, created after the domain.
	role := newExecutionRole(scope, "ExecutionRole", "", "sagegate: Studio execution role of domain "+d.Name)
	tags := cfnTags(deps.tags, "sagegate:domain", d.Name)
	domain := awssagemaker.NewCfnDomain(scope, jsii.String("Domain"), &awssagemaker.CfnDomainProps{
		DomainName:           jsii.String(d.Name),
		AuthMode:             jsii.String("IAM"),
		AppNetworkAccessType: jsii.String("VpcOnly"),
		VpcId:                deps.vpcID,
		SubnetIds:            deps.subnets,
		KmsKeyId:             deps.key.KeyArn(),
		DefaultUserSettings: &awssagemaker.CfnDomain_UserSettingsProperty{
			ExecutionRole:     role.RoleArn(),
			SecurityGroups:    &[]*string{deps.securityGroup},
			StudioWebPortal:   jsii.String("ENABLED"),
			DefaultLandingUri: jsii.String("studio::"),
			SharingSettings: &awssagemaker.CfnDomain_SharingSettingsProperty{
				NotebookOutputOption: jsii.String("Allowed"),
				S3OutputPath:         jsii.String("s3://" + *deps.bucket.BucketName() + "/" + d.Name + "/sharing"),
				S3KmsKeyId:           deps.key.KeyArn(),
			},
			JupyterLabAppSettings: &awssagemaker.CfnDomain_JupyterLabAppSettingsProperty{
				DefaultResourceSpec: &awssagemaker.CfnDomain_ResourceSpecProperty{
					InstanceType:       jsii.String(d.InstanceType),
					LifecycleConfigArn: lifecycleARN,
				},
				LifecycleConfigArns: &[]*string{lifecycleARN},
			},
		},
		DefaultSpaceSettings: &awssagemaker.CfnDomain_DefaultSpaceSettingsProperty{
			ExecutionRole:  role.RoleArn(),
			SecurityGroups: &[]*string{deps.securityGroup},
		},
		Tags: &tags,
	})
	// Idle shutdown: aws-cdk-lib 2.150 predates these CloudFormation
	// properties. People may shorten the timeout, never extend it.
	idle := map[string]any{"IdleSettings": map[string]any{
		"LifecycleManagement":     "ENABLED",
		"IdleTimeoutInMinutes":    d.IdleTimeoutMinutes,
		"MinIdleTimeoutInMinutes": 60,
		"MaxIdleTimeoutInMinutes": d.IdleTimeoutMinutes,
	}}
	domain.AddPropertyOverride(jsii.String("DefaultUserSettings.JupyterLabAppSettings.AppLifecycleManagement"), idle)
	domain.AddPropertyOverride(jsii.String("DefaultUserSettings.CodeEditorAppSettings.AppLifecycleManagement"), idle)

	s := deps.scope
	s.domainID = *domain.AttrDomainId()
	s.grant(role)

	res := &StudioDomainResources{Domain: domain, ExecutionRole: role, LifecycleConfig: lifecycle}
	for i, user := range d.Users {
		ptags := cfnTags(deps.tags, "sagegate:user", user)
		res.Profiles = append(res.Profiles, awssagemaker.NewCfnUserProfile(scope, jsii.String(fmt.Sprintf("Profile%d", i)), &awssagemaker.CfnUserProfileProps{
			DomainId:        domain.AttrDomainId(),
			UserProfileName: jsii.String(user),
			Tags:            &ptags,
		}))
	}
	return res
}

// cfnTags renders tags in a stable order, plus one more.
func cfnTags(tags map[string]string, key, value string) []*awscdk.CfnTag {
	keys := make([]string, 0, len(tags))
	for k := range tags {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := []*awscdk.CfnTag{{Key: jsii.String(key), Value: jsii.String(value)}}
	for _, k := range keys {
		out = append(out, &awscdk.CfnTag{Key: jsii.String(k), Value: jsii.String(tags[k])})
	}
	return out
}

// sageMakerName appends a suffix and keeps the result within SageMaker's
// 63 characters.
func sageMakerName(base, suffix string) string {
	if len(base)+len(suffix) > 63 {
		base = strings.TrimRight(base[:63-len(suffix)], "-")
	}
	return base + suffix
}
