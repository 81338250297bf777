package stacks

import (
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsevents"
	"github.com/aws/aws-cdk-go/awscdk/v2/awseventstargets"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsservicecatalog"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsssm"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

var notebookPrefix = regexp.MustCompile(`^[a-zA-Z0-9-]{1,40}$`)

// NotebookVendingProps configure a Service Catalog notebook product in a
// LOB account's Studio network.
type NotebookVendingProps struct {
	awscdk.StackProps
	// Name names the parameters (/<Name>/notebooks/...) and the portfolio's
	// resources.
	Name string
	// NotebookRoleName is fixed so the access role may pass exactly it.
	NotebookRoleName string
	// Prefix every vended notebook's name starts with; the access role
	// opens notebooks with this prefix.
	Prefix string
	// The Studio network and storage the notebooks use.
	VPCID, SubnetID, SecurityGroupID, KeyARN, BucketARN string
	ECR                                                 bool
	InstanceTypes                                       []string
	PortfolioName                                       string
	// LaunchRoleARNs are the IAM roles people provision the product with.
	LaunchRoleARNs []string
	// The gateway's account, region and name, whose events function is told
	// about every provisioned notebook.
	GatewayAccount, GatewayRegion, GatewayName string
}

// NotebookVendingStack is the portfolio, product, roles and event rule.
type NotebookVendingStack struct {
	awscdk.Stack
	NotebookRole awsiam.Role
	LaunchRole   awsiam.Role
	Portfolio    awsservicecatalog.Portfolio
	Product      awsservicecatalog.CloudFormationProduct
	// ProductStack is the notebook template Service Catalog provisions.
	ProductStack awsservicecatalog.ProductStack
	Rule         awsevents.Rule
}

// NewNotebookVendingStack builds notebook vending: people provision a
// notebook through Service Catalog (under a launch role, so they need no
// SageMaker rights themselves), and the ProvisionProduct event reaches the
// gateway's events function.
func NewNotebookVendingStack(scope constructs.Construct, id string, props *NotebookVendingProps) (*NotebookVendingStack, error) {
	stack, account, region, err := newStack(scope, id, &props.StackProps, props.check)
	if err != nil {
		return nil, err
	}
	v := &NotebookVendingStack{Stack: stack}

	v.NotebookRole = newExecutionRole(stack, "NotebookRole", props.NotebookRoleName, "sagegate: execution role of vended notebook instances")
	execScope{
		account: account, region: region, bucketARN: props.BucketARN, prefix: "notebooks",
		keyARN: props.KeyARN, vpcID: props.VPCID, ecr: props.ECR,
	}.grant(v.NotebookRole)

	// The product template is a separate template: it reads the network and
	// key through SSM dynamic references instead of parameters people could
	// change when they provision.
	params := map[string]string{"subnet-id": props.SubnetID, "security-group-id": props.SecurityGroupID, "kms-key-arn": props.KeyARN}
	var paramARNs []string
	refs := map[string]string{}
	for _, key := range []string{"subnet-id", "security-group-id", "kms-key-arn"} {
		name := fmt.Sprintf("/%s/notebooks/%s", props.Name, key)
		awsssm.NewStringParameter(stack, jsii.String("Param-"+key), &awsssm.StringParameterProps{
			ParameterName: jsii.String(name),
			StringValue:   jsii.String(params[key]),
			Description:   jsii.String("sagegate notebook vending: " + key),
		})
		paramARNs = append(paramARNs, arn("ssm", region, account, "parameter"+name))
		refs[key] = "{{resolve:ssm:" + name + "}}"
	}

	product := newNotebookProductStack(stack, props, RoleARN(region, account, props.NotebookRoleName), refs)
	v.ProductStack = product
	v.Product = awsservicecatalog.NewCloudFormationProduct(stack, jsii.String("Product"), &awsservicecatalog.CloudFormationProductProps{
		ProductName: jsii.String(props.PortfolioName + ": notebook instance"),
		Owner:       jsii.String("sagegate"),
		Description: jsii.String("A SageMaker notebook instance in the Studio VPC, without internet access or root, opened through sagegate"),
		ProductVersions: &[]*awsservicecatalog.CloudFormationProductVersion{{
			ProductVersionName:     jsii.String("v1"),
			CloudFormationTemplate: awsservicecatalog.CloudFormationTemplate_FromProductStack(product),
		}},
	})
	v.Portfolio = awsservicecatalog.NewPortfolio(stack, jsii.String("Portfolio"), &awsservicecatalog.PortfolioProps{
		DisplayName:  jsii.String(props.PortfolioName),
		ProviderName: jsii.String("sagegate"),
		Description:  jsii.String("Notebook instances opened through sagegate"),
	})
	v.Portfolio.AddProduct(v.Product)
	v.LaunchRole = newLaunchRole(stack, props, account, region, paramARNs)
	v.Portfolio.SetLaunchRole(v.Product, v.LaunchRole, nil)
	for i, a := range props.LaunchRoleARNs {
		v.Portfolio.GiveAccessToRole(awsiam.Role_FromRoleArn(stack, jsii.String(fmt.Sprintf("Consumer%d", i)), jsii.String(a), &awsiam.FromRoleArnOptions{Mutable: jsii.Bool(false)}))
	}

	v.Rule = awsevents.NewRule(stack, jsii.String("ProvisionProduct"), &awsevents.RuleProps{
		Description:  jsii.String("sagegate: a notebook product was provisioned"),
		EventPattern: provisionProductPattern(nil, []string{*v.Product.ProductId()}),
		Targets:      &[]awsevents.IRuleTarget{eventsTarget(stack, props, account, region)},
	})
	return v, nil
}

func (p *NotebookVendingProps) check() error {
	var errs []error
	for name, v := range map[string]string{
		"Name": p.Name, "NotebookRoleName": p.NotebookRoleName, "Prefix": p.Prefix, "VPCID": p.VPCID,
		"SubnetID": p.SubnetID, "SecurityGroupID": p.SecurityGroupID, "KeyARN": p.KeyARN, "BucketARN": p.BucketARN,
		"PortfolioName": p.PortfolioName, "GatewayAccount": p.GatewayAccount, "GatewayRegion": p.GatewayRegion,
		"GatewayName": p.GatewayName,
	} {
		if v == "" {
			errs = append(errs, fmt.Errorf("notebook vending: %s is required", name))
		}
	}
	// The prefix goes into a pattern and an ARN as it is.
	if !notebookPrefix.MatchString(p.Prefix) {
		errs = append(errs, fmt.Errorf("notebook vending: prefix %q may only hold letters, digits and -", p.Prefix))
	}
	if len(p.InstanceTypes) == 0 {
		errs = append(errs, errors.New("notebook vending: at least one instance type is required"))
	}
	return errors.Join(errs...)
}

// newNotebookProductStack is the template Service Catalog provisions.
func newNotebookProductStack(scope constructs.Construct, props *NotebookVendingProps, roleARN string, refs map[string]string) awsservicecatalog.ProductStack {
	ps := awsservicecatalog.NewProductStack(scope, jsii.String("NotebookProduct"), nil)
	name := awscdk.NewCfnParameter(ps, jsii.String("NotebookInstanceName"), &awscdk.CfnParameterProps{
		Type:                  jsii.String("String"),
		Description:           jsii.String("Name of the notebook instance; it must start with " + props.Prefix),
		AllowedPattern:        jsii.String("^" + props.Prefix + "[a-zA-Z0-9](-*[a-zA-Z0-9])*$"),
		MaxLength:             jsii.Number(63),
		ConstraintDescription: jsii.String("must start with " + props.Prefix + " and hold letters, digits and -"),
	})
	instanceType := awscdk.NewCfnParameter(ps, jsii.String("InstanceType"), &awscdk.CfnParameterProps{
		Type:          jsii.String("String"),
		AllowedValues: jsii.Strings(props.InstanceTypes...),
		Default:       jsii.String(props.InstanceTypes[0]),
	})
	volume := awscdk.NewCfnParameter(ps, jsii.String("VolumeSizeInGB"), &awscdk.CfnParameterProps{
		Type: jsii.String("Number"), MinValue: jsii.Number(5), MaxValue: jsii.Number(500), Default: jsii.Number(20),
	})
	nb := awscdk.NewCfnResource(ps, jsii.String("Notebook"), &awscdk.CfnResourceProps{
		Type: jsii.String("AWS::SageMaker::NotebookInstance"),
		Properties: &map[string]any{
			"NotebookInstanceName": name.ValueAsString(),
			"InstanceType":         instanceType.ValueAsString(),
			"VolumeSizeInGB":       volume.ValueAsNumber(),
			"RoleArn":              roleARN,
			"SubnetId":             refs["subnet-id"],
			"SecurityGroupIds":     []string{refs["security-group-id"]},
			"KmsKeyId":             refs["kms-key-arn"],
			"DirectInternetAccess": "Disabled",
			"RootAccess":           "Disabled",
			"PlatformIdentifier":   "notebook-al2-v3",
			"InstanceMetadataServiceConfiguration": map[string]any{
				"MinimumInstanceMetadataServiceVersion": "2",
			},
			"Tags": []map[string]string{{"Key": "sagegate:vended", "Value": "true"}},
		},
	})
	awscdk.NewCfnOutput(ps, jsii.String("Name"), &awscdk.CfnOutputProps{Value: nb.GetAtt(jsii.String("NotebookInstanceName"), awscdk.ResolutionTypeHint_STRING).ToString()})
	return ps
}

// newLaunchRole is what Service Catalog provisions the product as: only
// the product's stack, notebooks with the prefix and the notebook role.
func newLaunchRole(stack awscdk.Stack, props *NotebookVendingProps, account, region string, paramARNs []string) awsiam.Role {
	role := awsiam.NewRole(stack, jsii.String("LaunchRole"), &awsiam.RoleProps{
		Description: jsii.String("sagegate: Service Catalog launches notebook products as this role"),
		AssumedBy:   awsiam.NewServicePrincipal(jsii.String("servicecatalog.amazonaws.com"), nil),
	})
	notebooks := []string{arn("sagemaker", region, account, "notebook-instance/"+strings.ToLower(props.Prefix)+"*")}
	for _, st := range []awsiam.PolicyStatement{
		allow("ProductStacks", []string{
			"cloudformation:CreateStack", "cloudformation:UpdateStack", "cloudformation:DeleteStack",
			"cloudformation:DescribeStacks", "cloudformation:DescribeStackEvents", "cloudformation:SetStackPolicy",
		}, []string{arn("cloudformation", region, account, "stack/SC-*")}, nil),
		// Neither can be scoped to a resource.
		allow("ReadTemplates", []string{"cloudformation:GetTemplateSummary", "cloudformation:ValidateTemplate"}, []string{"*"}, nil),
		allow("ProductTemplate", []string{"s3:GetObject"},
			[]string{fmt.Sprintf("arn:%s:s3:::cdk-*-assets-%s-%s/*", partition(region), account, region)}, nil),
		allow("CreateNotebooks", []string{"sagemaker:CreateNotebookInstance"}, notebooks, conds{
			"StringEquals": {"sagemaker:DirectInternetAccess": "Disabled", "sagemaker:RootAccess": "Disabled"},
			"Null":         {"sagemaker:VpcSubnets": "false"},
		}),
		allow("ManageNotebooks", []string{
			"sagemaker:DescribeNotebookInstance", "sagemaker:UpdateNotebookInstance", "sagemaker:StopNotebookInstance",
			"sagemaker:DeleteNotebookInstance", "sagemaker:AddTags", "sagemaker:DeleteTags", "sagemaker:ListTags",
		}, notebooks, nil),
		allow("PassNotebookRole", []string{"iam:PassRole"}, []string{RoleARN(region, account, props.NotebookRoleName)},
			conds{"StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}}),
		allow("ReadNetworkParameters", []string{"ssm:GetParameter", "ssm:GetParameters"}, paramARNs, nil),
		allow("EncryptVolumes", []string{"kms:CreateGrant"}, []string{props.KeyARN},
			conds{"Bool": {"kms:GrantIsForAWSResource": "true"}}),
		allow("DescribeKey", []string{"kms:DescribeKey"}, []string{props.KeyARN}, nil),
	} {
		role.AddToPrincipalPolicy(st)
	}
	return role
}

// eventsTarget is the gateway's events function when it runs in this
// account and region, or else the gateway account's default bus (which
// GatewayStack opens to this account and forwards to the function).
func eventsTarget(stack awscdk.Stack, props *NotebookVendingProps, account, region string) awsevents.IRuleTarget {
	if props.GatewayAccount == account && props.GatewayRegion == region {
		fn := awslambda.Function_FromFunctionAttributes(stack, jsii.String("EventsFunction"), &awslambda.FunctionAttributes{
			FunctionArn:     jsii.String(FunctionARN(region, account, props.GatewayName, RoleEvents)),
			SameEnvironment: jsii.Bool(true),
		})
		return awseventstargets.NewLambdaFunction(fn, &awseventstargets.LambdaFunctionProps{
			RetryAttempts: jsii.Number(4),
			MaxEventAge:   awscdk.Duration_Hours(jsii.Number(2)),
		})
	}
	bus := awsevents.EventBus_FromEventBusArn(stack, jsii.String("GatewayBus"),
		jsii.String(arn("events", props.GatewayRegion, props.GatewayAccount, "event-bus/default")))
	return awseventstargets.NewEventBus(bus, nil)
}
