package stacks

import (
	"fmt"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigateway"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscertificatemanager"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscognito"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/jsii-runtime-go"
)

// publicPaths are served without an API Gateway authorizer: sign-in, the
// launcher page and its assets, health checks. Everything else needs one
// when an authorizer is configured.
var publicPaths = []string{
	"healthz", "readyz", "static/{proxy+}", "auth/{proxy+}", "help/{proxy+}", "api/v1/login-config",
}

func (g *GatewayStack) addAPI(props *GatewayProps) {
	stack := g.Stack
	a := props.API
	access := newLogGroup(stack, "ApiAccessLogs", props.LogRetention)
	apiProps := &awsapigateway.RestApiProps{
		RestApiName: jsii.String(props.Name),
		Description: jsii.String("sagegate: one-click access to SageMaker Studio"),
		// Access logs need the account's API Gateway CloudWatch role; kept
		// on deletion because it is shared by every API in the region.
		CloudWatchRole:              jsii.Bool(true),
		CloudWatchRoleRemovalPolicy: awscdk.RemovalPolicy_RETAIN,
		DeployOptions: &awsapigateway.StageOptions{
			StageName:            jsii.String(a.Stage),
			AccessLogDestination: awsapigateway.NewLogGroupLogDestination(access),
			AccessLogFormat: awsapigateway.AccessLogFormat_JsonWithStandardFields(&awsapigateway.JsonWithStandardFieldProps{
				Caller: jsii.Bool(true), HttpMethod: jsii.Bool(true), Ip: jsii.Bool(true), Protocol: jsii.Bool(true),
				RequestTime: jsii.Bool(true), ResourcePath: jsii.Bool(true), ResponseLength: jsii.Bool(true),
				Status: jsii.Bool(true), User: jsii.Bool(true),
			}),
			MetricsEnabled: jsii.Bool(true),
			// Execution logs would go to a group API Gateway creates itself,
			// kept forever; the access log and the functions' logs say enough.
			LoggingLevel:         awsapigateway.MethodLoggingLevel_OFF,
			DataTraceEnabled:     jsii.Bool(false), // bodies and headers hold tokens and presigned URLs
			ThrottlingRateLimit:  jsii.Number(a.RateLimit),
			ThrottlingBurstLimit: jsii.Number(float64(a.BurstLimit)),
		},
		EndpointTypes: &[]awsapigateway.EndpointType{awsapigateway.EndpointType_REGIONAL},
	}
	if a.Private {
		apiProps.EndpointTypes = nil
		var endpoints []awsec2.IVpcEndpoint
		for i, id := range a.VPCEndpointIDs {
			endpoints = append(endpoints, awsec2.InterfaceVpcEndpoint_FromInterfaceVpcEndpointAttributes(stack,
				jsii.String(fmt.Sprintf("ApiEndpoint%d", i)), &awsec2.InterfaceVpcEndpointAttributes{
					VpcEndpointId: jsii.String(id), Port: jsii.Number(443),
				}))
		}
		apiProps.EndpointConfiguration = &awsapigateway.EndpointConfiguration{
			Types:        &[]awsapigateway.EndpointType{awsapigateway.EndpointType_PRIVATE},
			VpcEndpoints: &endpoints,
		}
		apiProps.Policy = privateAPIPolicy(a.VPCEndpointIDs)
	}
	if a.DomainName != "" {
		apiProps.DomainName = &awsapigateway.DomainNameOptions{
			DomainName:     jsii.String(a.DomainName),
			Certificate:    awscertificatemanager.Certificate_FromCertificateArn(stack, jsii.String("Certificate"), jsii.String(a.CertificateARN)),
			EndpointType:   awsapigateway.EndpointType_REGIONAL,
			SecurityPolicy: awsapigateway.SecurityPolicy_TLS_1_2,
		}
	}
	api := awsapigateway.NewRestApi(stack, jsii.String("Api"), apiProps)
	g.API = api
	if a.DomainName != "" {
		awscdk.NewCfnOutput(stack, jsii.String("ApiDomainTarget"), &awscdk.CfnOutputProps{
			Description: jsii.String("point " + a.DomainName + " here (CNAME or alias)"),
			Value:       api.DomainName().DomainNameAliasDomainName(),
		})
	}

	integration := awsapigateway.NewLambdaIntegration(g.HTTP, &awsapigateway.LambdaIntegrationOptions{
		Proxy:           jsii.Bool(true),
		AllowTestInvoke: jsii.Bool(false),
	})
	protected := g.methodOptions(props)
	public := &awsapigateway.MethodOptions{AuthorizationType: awsapigateway.AuthorizationType_NONE}

	// The launcher page is public; every other path goes to the function
	// through the greedy proxy, behind the authorizer if there is one.
	api.Root().AddMethod(jsii.String("ANY"), integration, public)
	api.Root().AddProxy(&awsapigateway.ProxyResourceOptions{
		DefaultIntegration: integration, DefaultMethodOptions: protected, AnyMethod: jsii.Bool(true),
	})
	if protected.AuthorizationType == awsapigateway.AuthorizationType_NONE {
		return
	}
	for _, p := range publicPaths {
		addPublicPath(api.Root(), p, integration, public, protected)
	}
	// API Gateway answers a missing or refused token with 401 but no
	// challenge; clients expect one.
	api.AddGatewayResponse(jsii.String("Unauthorized"), &awsapigateway.GatewayResponseOptions{
		Type:            awsapigateway.ResponseType_UNAUTHORIZED(),
		ResponseHeaders: &map[string]*string{"WWW-Authenticate": jsii.String("'Bearer'")},
	})
}

// addPublicPath adds one public path. API Gateway never backtracks from an
// explicit resource to its parent's greedy proxy, so every resource created
// on the way gets its own protected method and proxy.
func addPublicPath(root awsapigateway.IResource, path string, integ awsapigateway.Integration, public, protected *awsapigateway.MethodOptions) {
	parts := strings.Split(path, "/")
	res := root
	for i, part := range parts {
		last := i == len(parts)-1
		if child := res.GetResource(jsii.String(part)); child != nil {
			res = child
			continue
		}
		res = res.AddResource(jsii.String(part), nil)
		if last {
			res.AddMethod(jsii.String("ANY"), integ, public)
			continue
		}
		res.AddMethod(jsii.String("ANY"), integ, protected)
		if parts[i+1] != "{proxy+}" { // else the public path is this proxy
			res.AddProxy(&awsapigateway.ProxyResourceOptions{
				DefaultIntegration: integ, DefaultMethodOptions: protected, AnyMethod: jsii.Bool(true),
			})
		}
	}
}

func (g *GatewayStack) methodOptions(props *GatewayProps) *awsapigateway.MethodOptions {
	ttl := awscdk.Duration_Seconds(jsii.Number(float64(props.API.AuthorizerCacheSeconds)))
	switch props.API.Authorizer {
	case AuthorizerLambda:
		// The authorizer's policy covers every path the caller may use, so
		// caching it per token is correct for any request that token makes.
		auth := awsapigateway.NewRequestAuthorizer(g.Stack, jsii.String("LambdaAuthorizer"), &awsapigateway.RequestAuthorizerProps{
			AuthorizerName:  jsii.String(props.Name),
			Handler:         g.Authorizer,
			IdentitySources: &[]*string{awsapigateway.IdentitySource_Header(jsii.String("Authorization"))},
			ResultsCacheTtl: ttl,
		})
		return &awsapigateway.MethodOptions{AuthorizationType: awsapigateway.AuthorizationType_CUSTOM, Authorizer: auth}
	case AuthorizerCognito:
		auth := awsapigateway.NewCognitoUserPoolsAuthorizer(g.Stack, jsii.String("CognitoAuthorizer"), &awsapigateway.CognitoUserPoolsAuthorizerProps{
			AuthorizerName:   jsii.String(props.Name + "-cognito"),
			CognitoUserPools: &[]awscognito.IUserPool{g.UserPool},
			ResultsCacheTtl:  ttl,
		})
		return &awsapigateway.MethodOptions{AuthorizationType: awsapigateway.AuthorizationType_COGNITO, Authorizer: auth}
	}
	return &awsapigateway.MethodOptions{AuthorizationType: awsapigateway.AuthorizationType_NONE}
}

// privateAPIPolicy lets only the given VPC endpoints invoke the API: the
// Deny holds even if another statement is added later.
func privateAPIPolicy(endpoints []string) awsiam.PolicyDocument {
	anyone := &[]awsiam.IPrincipal{awsiam.NewAnyPrincipal()}
	return awsiam.NewPolicyDocument(&awsiam.PolicyDocumentProps{Statements: &[]awsiam.PolicyStatement{
		awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid: jsii.String("DenyOutsideVpcEndpoints"), Effect: awsiam.Effect_DENY, Principals: anyone,
			Actions: strs("execute-api:Invoke"), Resources: strs("execute-api:/*"),
			Conditions: conds{"StringNotEquals": {"aws:SourceVpce": endpoints}}.jsii(),
		}),
		awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid: jsii.String("AllowVpcEndpoints"), Effect: awsiam.Effect_ALLOW, Principals: anyone,
			Actions: strs("execute-api:Invoke"), Resources: strs("execute-api:/*"),
			Conditions: conds{"StringEquals": {"aws:SourceVpce": endpoints}}.jsii(),
		}),
	}})
}
