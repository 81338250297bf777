package stacks

import (
	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

// studioNetwork is a VPC with two isolated subnets (no internet gateway, no
// NAT) where everything AWS is reached through VPC endpoints.
type studioNetwork struct {
	vpc       awsec2.Vpc
	apps      awsec2.SecurityGroup // Studio apps, notebooks, jobs
	endpoints awsec2.SecurityGroup // interface endpoints
}

type networkProps struct {
	cidr        string
	subnetMask  float64
	zones       []string
	ecr         bool
	clientCIDRs []string
	flowLogs    awslogs.RetentionDays
}

func newStudioNetwork(scope constructs.Construct, p networkProps) studioNetwork {
	isolated := &awsec2.SubnetSelection{SubnetType: awsec2.SubnetType_PRIVATE_ISOLATED}
	flowLogs := newLogGroup(scope, "FlowLogs", p.flowLogs)
	vpc := awsec2.NewVpc(scope, jsii.String("Vpc"), &awsec2.VpcProps{
		IpAddresses:       awsec2.IpAddresses_Cidr(jsii.String(p.cidr)),
		AvailabilityZones: jsii.Strings(p.zones...),
		NatGateways:       jsii.Number(0),
		SubnetConfiguration: &[]*awsec2.SubnetConfiguration{{
			Name: jsii.String("studio"), SubnetType: awsec2.SubnetType_PRIVATE_ISOLATED, CidrMask: jsii.Number(p.subnetMask),
		}},
		// Private DNS of interface endpoints needs both.
		EnableDnsHostnames: jsii.Bool(true),
		EnableDnsSupport:   jsii.Bool(true),
		// Restricting the default security group takes a custom-resource
		// Lambda; nothing here uses that group, every interface gets ours.
		RestrictDefaultSecurityGroup: jsii.Bool(false),
		FlowLogs: &map[string]*awsec2.FlowLogOptions{"all": {
			Destination: awsec2.FlowLogDestination_ToCloudWatchLogs(flowLogs, nil),
			TrafficType: awsec2.FlowLogTrafficType_ALL,
		}},
		GatewayEndpoints: &map[string]*awsec2.GatewayVpcEndpointOptions{"S3": {
			Service: awsec2.GatewayVpcEndpointAwsService_S3(),
			Subnets: &[]*awsec2.SubnetSelection{isolated},
		}},
	})

	apps := awsec2.NewSecurityGroup(scope, jsii.String("AppsSecurityGroup"), &awsec2.SecurityGroupProps{
		Vpc:              vpc,
		Description:      jsii.String("sagegate Studio apps, notebooks and jobs"),
		AllowAllOutbound: jsii.Bool(false),
	})
	endpoints := awsec2.NewSecurityGroup(scope, jsii.String("EndpointsSecurityGroup"), &awsec2.SecurityGroupProps{
		Vpc:              vpc,
		Description:      jsii.String("sagegate VPC interface endpoints"),
		AllowAllOutbound: jsii.Bool(false),
	})
	// Studio's JupyterServer, kernel gateways and their storage talk to
	// each other inside this group (required for VPC-only domains).
	apps.AddIngressRule(apps, awsec2.Port_AllTraffic(), jsii.String("Studio apps among themselves"), nil)
	apps.AddEgressRule(apps, awsec2.Port_AllTraffic(), jsii.String("Studio apps among themselves"), nil)
	apps.AddEgressRule(endpoints, awsec2.Port_Tcp(jsii.Number(443)), jsii.String("AWS APIs through interface endpoints"), nil)
	// The S3 gateway endpoint is reached by its prefix list, whose id is only
	// known once deployed; the isolated subnets have no other route out.
	apps.AddEgressRule(awsec2.Peer_AnyIpv4(), awsec2.Port_Tcp(jsii.Number(443)), jsii.String("S3 through the gateway endpoint"), nil)
	endpoints.AddIngressRule(apps, awsec2.Port_Tcp(jsii.Number(443)), jsii.String("from Studio apps"), nil)
	// Browsers reach Studio through the studio and notebook endpoints from
	// the corporate network (VPN, Direct Connect, transit gateway).
	for _, cidr := range p.clientCIDRs {
		endpoints.AddIngressRule(awsec2.Peer_Ipv4(jsii.String(cidr)), awsec2.Port_Tcp(jsii.Number(443)),
			jsii.String("browsers opening Studio"), nil)
	}

	type endpoint struct {
		id      string
		service awsec2.InterfaceVpcEndpointAwsService
	}
	services := []endpoint{
		{"SageMakerApi", awsec2.InterfaceVpcEndpointAwsService_SAGEMAKER_API()},
		{"SageMakerRuntime", awsec2.InterfaceVpcEndpointAwsService_SAGEMAKER_RUNTIME()},
		{"SageMakerStudio", awsec2.InterfaceVpcEndpointAwsService_SAGEMAKER_STUDIO()},
		{"SageMakerNotebook", awsec2.InterfaceVpcEndpointAwsService_SAGEMAKER_NOTEBOOK()},
		{"Sts", awsec2.InterfaceVpcEndpointAwsService_STS()},
		{"Logs", awsec2.InterfaceVpcEndpointAwsService_CLOUDWATCH_LOGS()},
	}
	if p.ecr {
		services = append(services,
			endpoint{"Ecr", awsec2.InterfaceVpcEndpointAwsService_ECR()},
			endpoint{"EcrDocker", awsec2.InterfaceVpcEndpointAwsService_ECR_DOCKER()})
	}
	for _, e := range services {
		vpc.AddInterfaceEndpoint(jsii.String(e.id), &awsec2.InterfaceVpcEndpointOptions{
			Service:           e.service,
			PrivateDnsEnabled: jsii.Bool(true),
			SecurityGroups:    &[]awsec2.ISecurityGroup{endpoints},
			Subnets:           isolated,
			// Open would admit the whole VPC CIDR; only Studio's group may.
			Open: jsii.Bool(false),
		})
	}
	return studioNetwork{vpc: vpc, apps: apps, endpoints: endpoints}
}
