package stacks

import (
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

// execScope is what a SageMaker execution role (a Studio domain's or a
// vended notebook's) may reach: its account, one bucket prefix, one key,
// one VPC.
type execScope struct {
	account, region string
	bucketARN       string
	prefix          string // objects under <prefix>/ only
	keyARN          string
	vpcID           string
	domainID        string // Studio apps and spaces of this domain; "" for notebooks
	ecr             bool
}

// newExecutionRole creates a role SageMaker runs Studio apps, notebooks and
// jobs as (named, when name is not empty); grant gives it its permissions.
func newExecutionRole(scope constructs.Construct, id, name, description string) awsiam.Role {
	props := &awsiam.RoleProps{
		Description: jsii.String(description),
		AssumedBy:   awsiam.NewServicePrincipal(jsii.String("sagemaker.amazonaws.com"), nil),
	}
	if name != "" {
		props.RoleName = jsii.String(name)
	}
	return awsiam.NewRole(scope, jsii.String(id), props)
}

// grant gives an execution role the least its workloads need, and explicit
// denials that hold whatever else is attached to the role later.
func (s execScope) grant(role awsiam.Role) {
	for _, st := range s.statements(role.RoleArn()) {
		role.AddToPrincipalPolicy(st)
	}
}

func (s execScope) statements(self *string) []awsiam.PolicyStatement {
	sm := func(resource string) string { return arn("sagemaker", s.region, s.account, resource) }
	out := []awsiam.PolicyStatement{}
	if s.domainID != "" {
		out = append(out, allow("StudioAppsAndSpaces", []string{
			"sagemaker:CreateApp", "sagemaker:DeleteApp", "sagemaker:DescribeApp",
			"sagemaker:CreateSpace", "sagemaker:UpdateSpace", "sagemaker:DeleteSpace", "sagemaker:DescribeSpace",
			"sagemaker:DescribeDomain", "sagemaker:DescribeUserProfile", "sagemaker:AddTags", "sagemaker:ListTags",
		}, []string{
			sm("app/" + s.domainID + "/*"), sm("space/" + s.domainID + "/*"),
			sm("domain/" + s.domainID), sm("user-profile/" + s.domainID + "/*"),
		}, nil))
	}
	out = append(out,
		// List and Search actions cannot be scoped to a resource.
		allow("ListSageMaker", []string{
			"sagemaker:ListApps", "sagemaker:ListSpaces", "sagemaker:ListUserProfiles", "sagemaker:ListDomains",
			"sagemaker:ListTrainingJobs", "sagemaker:ListProcessingJobs", "sagemaker:Search",
		}, []string{"*"}, nil),
		allow("Jobs", []string{
			"sagemaker:CreateTrainingJob", "sagemaker:DescribeTrainingJob", "sagemaker:StopTrainingJob",
			"sagemaker:CreateProcessingJob", "sagemaker:DescribeProcessingJob", "sagemaker:StopProcessingJob",
		}, []string{sm("training-job/*"), sm("processing-job/*")}, nil),
		allow("PassOwnRoleToSageMaker", []string{"iam:PassRole"}, []string{*self},
			conds{"StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}}),
		allow("ReadWriteOwnPrefix", []string{"s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload"},
			[]string{s.bucketARN + "/" + s.prefix + "/*"}, nil),
		allow("ListOwnPrefix", []string{"s3:ListBucket"}, []string{s.bucketARN},
			conds{"StringLike": {"s3:prefix": []string{s.prefix, s.prefix + "/*"}}}),
		allow("LocateBucket", []string{"s3:GetBucketLocation"}, []string{s.bucketARN}, nil),
		allow("UseKey", []string{"kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey", "kms:DescribeKey"},
			[]string{s.keyARN}, nil),
		allow("Logs", []string{"logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"},
			[]string{arn("logs", s.region, s.account, "log-group:/aws/sagemaker/*")}, nil),
		allow("Metrics", []string{"cloudwatch:PutMetricData"}, []string{"*"},
			conds{"StringLike": {"cloudwatch:namespace": "/aws/sagemaker/*"}}),
		// Jobs and notebooks attach network interfaces, in this VPC only.
		allow("NetworkInterfacesInVpc", []string{
			"ec2:CreateNetworkInterface", "ec2:CreateNetworkInterfacePermission",
			"ec2:DeleteNetworkInterface", "ec2:DeleteNetworkInterfacePermission",
		}, []string{"*"}, conds{"ArnEquals": {"ec2:Vpc": arn("ec2", s.region, s.account, "vpc/"+s.vpcID)}}),
		allow("DescribeNetwork", []string{
			"ec2:DescribeNetworkInterfaces", "ec2:DescribeVpcs", "ec2:DescribeSubnets",
			"ec2:DescribeSecurityGroups", "ec2:DescribeDhcpOptions",
		}, []string{"*"}, nil),
	)
	if s.ecr {
		out = append(out,
			allow("EcrToken", []string{"ecr:GetAuthorizationToken"}, []string{"*"}, nil),
			allow("PullImages", []string{"ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:BatchCheckLayerAvailability"},
				[]string{arn("ecr", s.region, s.account, "repository/*")}, nil))
	}
	return append(out,
		// Work started from a notebook stays in the VPC: a job without
		// subnets would run with internet access.
		deny("DenyWorkOutsideVpc", []string{
			"sagemaker:CreateTrainingJob", "sagemaker:CreateProcessingJob", "sagemaker:CreateHyperParameterTuningJob",
			"sagemaker:CreateModel", "sagemaker:CreateNotebookInstance", "sagemaker:CreateAutoMLJob", "sagemaker:CreateAutoMLJobV2",
		}, []string{"*"}, conds{"Null": {"sagemaker:VpcSubnets": "true"}}),
		// Only the gateway mints presigned URLs, after checking who asks; code
		// running in Studio must not open someone else's Studio.
		deny("DenyPresignedUrls", []string{
			"sagemaker:CreatePresignedDomainUrl", "sagemaker:CreatePresignedNotebookInstanceUrl",
		}, []string{"*"}, nil),
	)
}
