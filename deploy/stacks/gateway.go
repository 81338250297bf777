package stacks

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigateway"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatch"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscognito"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsdynamodb"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambdadestinations"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3assets"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssqs"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

// Lambda roles of the sagegate binary (SAGEGATE_LAMBDA_ROLE).
const (
	RoleHTTP       = "http"
	RoleAuthorizer = "authorizer"
	RoleEvents     = "events"
)

// GatewayProps configure sagegate's own account.
type GatewayProps struct {
	awscdk.StackProps
	// Name prefixes the functions (<Name>-http, -authorizer, -events), the
	// API, the user pool and the key alias.
	Name string
	// RoleName is the fixed name of the role the http and events functions
	// run as: the one principal every access role trusts.
	RoleName string
	// AccessRoleARNs are the exact roles the gateway may assume, one per
	// LOB account; nothing else.
	AccessRoleARNs []string
	// LambdaAsset is the bootstrap zip built for Architecture.
	LambdaAsset  string
	Architecture awslambda.Architecture
	MemoryMB     int
	// ConfigDir holds ConfigFile, the sagegate configuration; it is shipped
	// as a layer and found at /opt/<ConfigFile> through SAGEGATE_CONFIG.
	ConfigDir, ConfigFile string
	// Environment is added to every function (values the configuration
	// reads with ${NAME}).
	Environment map[string]string
	API         APIProps
	// Cognito creates a user pool, app client and hosted domain; otherwise
	// OIDCIssuer names the external issuer.
	Cognito    *CognitoProps
	OIDCIssuer string
	// UsersTable and LobsTable are the routing tables' names.
	UsersTable, LobsTable string
	LogRetention          awslogs.RetentionDays
	AlarmEmail            string
	Network               *LambdaNetwork
	// VendingAccounts forward Service Catalog ProvisionProduct events to
	// this account's default bus (accounts other than this one).
	VendingAccounts []string
}

// APIProps shape the REST API.
type APIProps struct {
	// Private makes an API only the VPCEndpointIDs may invoke.
	Private        bool
	VPCEndpointIDs []string
	Stage          string
	// DomainName with CertificateARN (ACM, same region) serves a regional
	// API on a custom domain without a base path, where sagegate's pages
	// link correctly (an execute-api URL puts the stage in front).
	DomainName, CertificateARN string
	// Authorizer is AuthorizerNone, AuthorizerLambda or AuthorizerCognito.
	Authorizer             string
	AuthorizerCacheSeconds int
	RateLimit              float64
	BurstLimit             int
}

// Authorizers of the REST API.
const (
	AuthorizerNone    = "none"
	AuthorizerLambda  = "lambda"
	AuthorizerCognito = "cognito"
)

// CognitoProps configure the user pool's hosted sign-in.
type CognitoProps struct {
	DomainPrefix string
	// PublicURL is where browsers reach sagegate; the app client's callback
	// is <PublicURL>/auth/callback.
	PublicURL string
}

// LambdaNetwork places the functions in existing subnets.
type LambdaNetwork struct {
	SubnetIDs, SecurityGroupIDs []string
}

// GatewayStack is sagegate's account: functions, API, identity, tables,
// alarms.
type GatewayStack struct {
	awscdk.Stack
	Role                  awsiam.Role
	HTTP, Authorizer      awslambda.Function
	Events                awslambda.Function
	EventsDeadLetters     awssqs.Queue
	API                   awsapigateway.RestApi
	UsersTable, LobsTable awsdynamodb.Table
	Key                   awskms.Key
	UserPool              awscognito.UserPool       // nil with an external issuer
	UserPoolClient        awscognito.UserPoolClient // nil with an external issuer
	Alarms                []awscloudwatch.Alarm
}

// FunctionName is the fixed name of one of the gateway's functions, so
// stacks in other accounts can target them without cross-stack references.
func FunctionName(name, role string) string { return name + "-" + role }

// FunctionARN is the ARN of one of the gateway's functions.
func FunctionARN(region, account, name, role string) string {
	return arn("lambda", region, account, "function:"+FunctionName(name, role))
}

// NewGatewayStack builds the gateway's account.
func NewGatewayStack(scope constructs.Construct, id string, props *GatewayProps) (*GatewayStack, error) {
	stack, account, region, err := newStack(scope, id, &props.StackProps, props.check)
	if err != nil {
		return nil, err
	}
	g := &GatewayStack{Stack: stack}

	g.Key = newKey(stack, props.Name+": routing tables and alarm topic", "alias/"+props.Name+"-gateway")
	g.UsersTable = newTable(stack, "UsersTable", props.UsersTable, g.Key)
	g.LobsTable = newTable(stack, "LobsTable", props.LobsTable, g.Key)

	env := map[string]string{
		"SAGEGATE_CONFIG":      "/opt/" + props.ConfigFile,
		"SAGEGATE_USERS_TABLE": *g.UsersTable.TableName(),
		"SAGEGATE_LOBS_TABLE":  *g.LobsTable.TableName(),
	}
	for k, v := range props.Environment {
		env[k] = v
	}
	if props.Cognito != nil {
		g.addCognito(props, env)
	} else {
		env["SAGEGATE_OIDC_ISSUER"] = props.OIDCIssuer
	}

	g.Role = awsiam.NewRole(stack, jsii.String("GatewayRole"), &awsiam.RoleProps{
		RoleName:    jsii.String(props.RoleName),
		Description: jsii.String("sagegate gateway: assumes the access roles of the LOB accounts"),
		AssumedBy:   awsiam.NewServicePrincipal(jsii.String("lambda.amazonaws.com"), nil),
	})
	g.Role.AddToPrincipalPolicy(allow("AssumeAccessRoles", []string{"sts:AssumeRole", "sts:SetSourceIdentity"}, props.AccessRoleARNs, nil))
	g.UsersTable.GrantReadData(g.Role)
	g.LobsTable.GrantReadData(g.Role)
	authorizerRole := awsiam.NewRole(stack, jsii.String("AuthorizerRole"), &awsiam.RoleProps{
		Description: jsii.String("sagegate authorizer: verifies tokens, calls no AWS API"),
		AssumedBy:   awsiam.NewServicePrincipal(jsii.String("lambda.amazonaws.com"), nil),
	})
	if props.Network != nil {
		vpcAccess := awsiam.ManagedPolicy_FromAwsManagedPolicyName(jsii.String("service-role/AWSLambdaVPCAccessExecutionRole"))
		g.Role.AddManagedPolicy(vpcAccess)
		authorizerRole.AddManagedPolicy(vpcAccess)
	}

	code := awslambda.Code_FromAsset(jsii.String(props.LambdaAsset), nil)
	config := awslambda.NewLayerVersion(stack, jsii.String("Config"), &awslambda.LayerVersionProps{
		Description: jsii.String(props.Name + " configuration (" + props.ConfigFile + ")"),
		// Only the configuration file, whatever else sits beside it.
		Code: awslambda.Code_FromAsset(jsii.String(props.ConfigDir), &awss3assets.AssetOptions{
			Exclude: jsii.Strings("*", "!"+props.ConfigFile),
		}),
		CompatibleArchitectures: &[]awslambda.Architecture{props.Architecture},
	})
	fn := func(role, id string, r awsiam.IRole, timeout float64) awslambda.Function {
		return newGatewayFunction(stack, id, props, gatewayFunction{
			role: role, iamRole: r, code: code, layer: config, env: env, timeout: timeout,
		})
	}
	// API Gateway gives up on a REST integration after 29 seconds.
	g.HTTP = fn(RoleHTTP, "HttpFunction", g.Role, 25)
	g.Authorizer = fn(RoleAuthorizer, "AuthorizerFunction", authorizerRole, 10)
	g.EventsDeadLetters = awssqs.NewQueue(stack, jsii.String("EventsDeadLetters"), &awssqs.QueueProps{
		Encryption:      awssqs.QueueEncryption_SQS_MANAGED,
		EnforceSSL:      jsii.Bool(true),
		RetentionPeriod: awscdk.Duration_Days(jsii.Number(14)),
	})
	g.Events = fn(RoleEvents, "EventsFunction", g.Role, 60)
	// EventBridge invokes asynchronously: what still fails after the retries
	// lands in a queue (and raises an alarm) instead of vanishing.
	g.Events.ConfigureAsyncInvoke(&awslambda.EventInvokeConfigOptions{
		RetryAttempts: jsii.Number(2),
		MaxEventAge:   awscdk.Duration_Hours(jsii.Number(6)),
		OnFailure:     awslambdadestinations.NewSqsDestination(g.EventsDeadLetters),
	})

	g.addAPI(props)
	g.addForwardedEvents(props, account, region)
	g.addAlarms(props)

	awscdk.NewCfnOutput(stack, jsii.String("ApiUrl"), &awscdk.CfnOutputProps{Value: g.API.Url()})
	awscdk.NewCfnOutput(stack, jsii.String("GatewayRoleArn"), &awscdk.CfnOutputProps{Value: g.Role.RoleArn()})
	return g, nil
}

func (p *GatewayProps) check() error {
	var errs []error
	add := func(format string, args ...any) { errs = append(errs, fmt.Errorf("gateway: "+format, args...)) }
	if p.Name == "" || p.RoleName == "" {
		add("Name and RoleName are required")
	}
	if len(p.AccessRoleARNs) == 0 {
		add("at least one access role is required")
	}
	for _, a := range p.AccessRoleARNs {
		if strings.Contains(a, "*") || !strings.HasPrefix(a, "arn:") {
			add("access role %q must be one exact role ARN", a)
		}
	}
	if _, err := os.Stat(p.LambdaAsset); err != nil {
		add("lambda asset: %v (build the bootstrap zips, or pass -c lambdaAsset=<zip>)", err)
	}
	if _, err := os.Stat(filepath.Join(p.ConfigDir, p.ConfigFile)); err != nil {
		add("configuration: %v", err)
	}
	if (p.Cognito == nil) == (p.OIDCIssuer == "") {
		add("give either Cognito or OIDCIssuer")
	}
	if p.API.Private && len(p.API.VPCEndpointIDs) == 0 {
		add("a private API needs VPCEndpointIDs")
	}
	if (p.API.DomainName == "") != (p.API.CertificateARN == "") || (p.API.DomainName != "" && p.API.Private) {
		add("a custom domain needs both DomainName and CertificateARN, on a regional API")
	}
	if !slices.Contains([]string{AuthorizerNone, AuthorizerLambda, AuthorizerCognito}, p.API.Authorizer) {
		add("unknown authorizer %q", p.API.Authorizer)
	}
	if p.API.Authorizer == AuthorizerCognito && p.Cognito == nil {
		add("the cognito authorizer needs Cognito")
	}
	if p.MemoryMB == 0 || p.API.Stage == "" || p.LogRetention == "" {
		add("MemoryMB, API.Stage and LogRetention are required")
	}
	return errors.Join(errs...)
}

func newTable(stack awscdk.Stack, id, name string, key awskms.IKey) awsdynamodb.Table {
	// Keyed like the AWS multi-account sample's tables (PK, a string), so
	// its data can be reused.
	return awsdynamodb.NewTable(stack, jsii.String(id), &awsdynamodb.TableProps{
		TableName:           jsii.String(name),
		PartitionKey:        &awsdynamodb.Attribute{Name: jsii.String("PK"), Type: awsdynamodb.AttributeType_STRING},
		BillingMode:         awsdynamodb.BillingMode_PAY_PER_REQUEST,
		PointInTimeRecovery: jsii.Bool(true),
		Encryption:          awsdynamodb.TableEncryption_CUSTOMER_MANAGED,
		EncryptionKey:       key,
		DeletionProtection:  jsii.Bool(true),
		RemovalPolicy:       awscdk.RemovalPolicy_RETAIN,
	})
}

type gatewayFunction struct {
	role    string
	iamRole awsiam.IRole
	code    awslambda.Code
	layer   awslambda.ILayerVersion
	env     map[string]string
	timeout float64
}

func newGatewayFunction(stack awscdk.Stack, id string, props *GatewayProps, f gatewayFunction) awslambda.Function {
	env := map[string]*string{"SAGEGATE_LAMBDA_ROLE": jsii.String(f.role)}
	for k, v := range f.env {
		env[k] = jsii.String(v)
	}
	// An explicit log group gives the function a retention; without one
	// Lambda creates a group that keeps logs forever.
	logs := newLogGroup(stack, id+"Logs", props.LogRetention)
	logs.GrantWrite(f.iamRole)
	fp := awslambda.FunctionProps{
		FunctionName: jsii.String(FunctionName(props.Name, f.role)),
		Description:  jsii.String("sagegate " + f.role),
		Runtime:      awslambda.Runtime_PROVIDED_AL2023(),
		Handler:      jsii.String("bootstrap"),
		Architecture: props.Architecture,
		Code:         f.code,
		Layers:       &[]awslambda.ILayerVersion{f.layer},
		MemorySize:   jsii.Number(float64(props.MemoryMB)),
		Timeout:      awscdk.Duration_Seconds(jsii.Number(f.timeout)),
		Role:         f.iamRole,
		Environment:  &env,
		LogGroup:     logs,
	}
	fn := awslambda.NewFunction(stack, jsii.String(id), &fp)
	if n := props.Network; n != nil {
		// The L2 construct wants an imported VPC; the ids are all Lambda
		// needs.
		cfn := fn.Node().DefaultChild().(awslambda.CfnFunction)
		cfn.SetVpcConfig(&awslambda.CfnFunction_VpcConfigProperty{
			SubnetIds:        jsii.Strings(n.SubnetIDs...),
			SecurityGroupIds: jsii.Strings(n.SecurityGroupIDs...),
		})
	}
	return fn
}
