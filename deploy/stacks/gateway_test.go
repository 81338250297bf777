package stacks

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"

	"github.com/sagegate/sagegate/deploy/internal/templatecheck"
)

var accessRoles = []string{
	"arn:aws:iam::111111111111:role/sagegate-access",
	"arn:aws:iam::222222222222:role/sagegate-access",
}

func gatewayProps(t *testing.T, mod func(*GatewayProps)) *GatewayProps {
	p := &GatewayProps{
		StackProps:     stackEnv(gatewayAccount),
		Name:           "sagegate",
		RoleName:       "sagegate-gateway",
		AccessRoleARNs: accessRoles,
		LambdaAsset:    lambdaAsset(t),
		Architecture:   awslambda.Architecture_ARM_64(),
		MemoryMB:       512,
		ConfigDir:      configDir(t),
		ConfigFile:     "sagegate.yaml",
		Environment:    map[string]string{"SAGEGATE_DOMAIN_LOB_A": "d-abc123"},
		API: APIProps{
			Stage: "prod", Authorizer: AuthorizerCognito, AuthorizerCacheSeconds: 300, RateLimit: 50, BurstLimit: 100,
		},
		Cognito:      &CognitoProps{DomainPrefix: "sagegate-test", PublicURL: "https://studio.example.com"},
		UsersTable:   "users-map-table",
		LobsTable:    "lobs-map-table",
		LogRetention: awslogs.RetentionDays_THREE_MONTHS,
		AlarmEmail:   "ops@example.com",
	}
	if mod != nil {
		mod(p)
	}
	return p
}

func synthGateway(t *testing.T, p *GatewayProps) *synthesized {
	t.Helper()
	g, err := NewGatewayStack(newApp(t), "Gateway", p)
	if err != nil {
		t.Fatal(err)
	}
	s := synth(t, g.Stack)
	s.secure()
	return s
}

// functions returns each function's environment by SAGEGATE_LAMBDA_ROLE.
func functions(t *testing.T, s *synthesized) map[string]map[string]any {
	out := map[string]map[string]any{}
	for id, fn := range s.resources("AWS::Lambda::Function") {
		env := fn["Environment"].(map[string]any)["Variables"].(map[string]any)
		role, _ := env["SAGEGATE_LAMBDA_ROLE"].(string)
		if _, dup := out[role]; dup {
			t.Errorf("%s: a second %q function", id, role)
		}
		out[role] = env
	}
	return out
}

func TestGatewayFunctions(t *testing.T) {
	s := synthGateway(t, gatewayProps(t, nil))
	s.count("AWS::Lambda::Function", 3)
	for role, timeout := range map[string]int{RoleHTTP: 25, RoleAuthorizer: 10, RoleEvents: 60} {
		s.has("AWS::Lambda::Function", map[string]any{
			"FunctionName":  "sagegate-" + role,
			"Runtime":       "provided.al2023",
			"Handler":       "bootstrap",
			"Architectures": []any{"arm64"},
			"MemorySize":    512,
			"Timeout":       timeout,
			"Layers":        []any{map[string]any{"Ref": assertions.Match_StringLikeRegexp(jsiiStr("^Config"))}},
			"LoggingConfig": map[string]any{"LogGroup": map[string]any{"Ref": assertions.Match_StringLikeRegexp(jsiiStr("FunctionLogs"))}},
		})
	}
	envs := functions(t, s)
	for _, role := range []string{RoleHTTP, RoleAuthorizer, RoleEvents} {
		env := envs[role]
		if env["SAGEGATE_CONFIG"] != "/opt/sagegate.yaml" || env["SAGEGATE_DOMAIN_LOB_A"] != "d-abc123" {
			t.Errorf("%s: config %v", role, env)
		}
		for _, k := range []string{"SAGEGATE_USERS_TABLE", "SAGEGATE_LOBS_TABLE", "SAGEGATE_COGNITO_USER_POOL_ID", "SAGEGATE_COGNITO_CLIENT_ID", "SAGEGATE_COGNITO_DOMAIN"} {
			if env[k] == nil {
				t.Errorf("%s: no %s", role, k)
			}
		}
		if env["SAGEGATE_PUBLIC_URL"] != "https://studio.example.com" {
			t.Errorf("%s: public URL %v", role, env["SAGEGATE_PUBLIC_URL"])
		}
	}
	s.count("AWS::Logs::LogGroup", 4) // three functions and the API's access log
	s.has("AWS::Logs::LogGroup", map[string]any{"RetentionInDays": 90})
	s.has("AWS::Lambda::LayerVersion", map[string]any{"CompatibleArchitectures": []any{"arm64"}})
	// Failed events are kept and alarmed on.
	s.has("AWS::Lambda::EventInvokeConfig", map[string]any{
		"MaximumRetryAttempts": 2,
		"DestinationConfig":    map[string]any{"OnFailure": map[string]any{"Destination": assertions.Match_AnyValue()}},
	})
	s.has("AWS::SQS::Queue", map[string]any{"SqsManagedSseEnabled": true})
}

func TestGatewayRoles(t *testing.T) {
	s := synthGateway(t, gatewayProps(t, nil))
	s.has("AWS::IAM::Role", map[string]any{"RoleName": "sagegate-gateway"})
	assume := s.statement(templatecheck.Identity, "AssumeAccessRoles")
	if !slices.Equal(assume.Resources, accessRoles) || !slices.Equal(assume.Actions, []string{"sts:AssumeRole", "sts:SetSourceIdentity"}) {
		t.Errorf("the gateway may %v on %v", assume.Actions, assume.Resources)
	}
	// Only that statement grants sts actions, and the authorizer has none.
	for _, st := range templatecheck.Statements(s.json) {
		for _, a := range st.Actions {
			if st.Kind == templatecheck.Identity && strings.HasPrefix(a, "sts:") && st.Sid != "AssumeAccessRoles" {
				t.Errorf("%s also grants %s", st, a)
			}
			if strings.HasPrefix(st.Logical, "AuthorizerRole") && st.Kind == templatecheck.Identity && !strings.HasPrefix(a, "logs:") {
				t.Errorf("the authorizer may %s", a)
			}
		}
	}
}

func TestGatewayTables(t *testing.T) {
	s := synthGateway(t, gatewayProps(t, nil))
	for _, name := range []string{"users-map-table", "lobs-map-table"} {
		s.has("AWS::DynamoDB::Table", map[string]any{
			"TableName":                        name,
			"KeySchema":                        []any{map[string]any{"AttributeName": "PK", "KeyType": "HASH"}},
			"AttributeDefinitions":             []any{map[string]any{"AttributeName": "PK", "AttributeType": "S"}},
			"BillingMode":                      "PAY_PER_REQUEST",
			"PointInTimeRecoverySpecification": map[string]any{"PointInTimeRecoveryEnabled": true},
			"SSESpecification":                 map[string]any{"SSEEnabled": true, "SSEType": "KMS", "KMSMasterKeyId": assertions.Match_AnyValue()},
			"DeletionProtectionEnabled":        true,
		})
	}
	s.has("AWS::KMS::Key", map[string]any{"EnableKeyRotation": true})
}

func TestGatewayRegionalAPIWithCognito(t *testing.T) {
	s := synthGateway(t, gatewayProps(t, func(p *GatewayProps) {
		p.API.DomainName = "studio.example.com"
		p.API.CertificateARN = "arn:aws:acm:eu-west-1:111111111111:certificate/0a1b2c3d-0000-0000-0000-000000000000"
	}))
	s.has("AWS::ApiGateway::DomainName", map[string]any{
		"DomainName":             "studio.example.com",
		"SecurityPolicy":         "TLS_1_2",
		"EndpointConfiguration":  map[string]any{"Types": []any{"REGIONAL"}},
		"RegionalCertificateArn": "arn:aws:acm:eu-west-1:111111111111:certificate/0a1b2c3d-0000-0000-0000-000000000000",
	})
	// No base path: sagegate's pages link to root paths.
	s.has("AWS::ApiGateway::BasePathMapping", map[string]any{"BasePath": assertions.Match_Absent()})
	s.has("AWS::ApiGateway::RestApi", map[string]any{
		"EndpointConfiguration": map[string]any{"Types": []any{"REGIONAL"}},
		"Policy":                assertions.Match_Absent(),
	})
	s.has("AWS::ApiGateway::Stage", map[string]any{
		"StageName":        "prod",
		"AccessLogSetting": objectLike(map[string]any{"DestinationArn": assertions.Match_AnyValue()}),
		"MethodSettings": arrayWith(objectLike(map[string]any{
			"DataTraceEnabled": false, "LoggingLevel": "OFF", "ThrottlingRateLimit": 50, "ThrottlingBurstLimit": 100,
		})),
		"TracingEnabled":       assertions.Match_Absent(),
		"ClientCertificateId":  assertions.Match_Absent(),
		"CacheClusterEnabled":  assertions.Match_Absent(),
		"DocumentationVersion": assertions.Match_Absent(),
	})
	s.has("AWS::ApiGateway::Authorizer", map[string]any{"Type": "COGNITO_USER_POOLS", "AuthorizerResultTtlInSeconds": 300})
	s.has("AWS::Cognito::UserPool", map[string]any{
		"AdminCreateUserConfig": map[string]any{"AllowAdminCreateUserOnly": true},
		"MfaConfiguration":      "OPTIONAL",
		"DeletionProtection":    "ACTIVE",
	})
	s.has("AWS::Cognito::UserPoolClient", map[string]any{
		"GenerateSecret":     false,
		"AllowedOAuthFlows":  []any{"code"},
		"CallbackURLs":       []any{"https://studio.example.com/auth/callback"},
		"AllowedOAuthScopes": arrayWith("openid"),
	})
	s.has("AWS::Cognito::UserPoolDomain", map[string]any{"Domain": "sagegate-test"})
	checkMethods(t, s, "COGNITO_USER_POOLS")
}

// checkMethods: the root and the public paths need no authorization,
// everything else the given type.
func checkMethods(t *testing.T, s *synthesized, protected string) {
	t.Helper()
	paths := map[string]string{} // logical id -> path part
	for id, r := range s.resources("AWS::ApiGateway::Resource") {
		paths[id] = r["PathPart"].(string)
	}
	public, guarded := 0, 0
	for id, m := range s.resources("AWS::ApiGateway::Method") {
		part := "/"
		if ref, ok := m["ResourceId"].(map[string]any)["Ref"].(string); ok {
			part = paths[ref]
		}
		want := protected
		switch part {
		case "/", "healthz", "readyz", "login-config":
			want = "NONE"
		case "{proxy+}":
			// A public proxy sits under static, auth or help.
			if parent := parentOf(s, m); parent == "static" || parent == "auth" || parent == "help" {
				want = "NONE"
			}
		}
		if m["AuthorizationType"] != want {
			t.Errorf("%s (%s): authorization %v, want %s", id, part, m["AuthorizationType"], want)
		}
		if want == "NONE" {
			public++
		} else {
			guarded++
		}
	}
	if public != 7 || guarded < 5 {
		t.Errorf("%d public and %d guarded methods", public, guarded)
	}
}

func parentOf(s *synthesized, method map[string]any) string {
	ref := method["ResourceId"].(map[string]any)["Ref"].(string)
	res := s.resources("AWS::ApiGateway::Resource")
	parent, ok := res[ref]["ParentId"].(map[string]any)["Ref"].(string)
	if !ok {
		return "/"
	}
	return res[parent]["PathPart"].(string)
}

func TestGatewayPrivateAPIWithLambdaAuthorizer(t *testing.T) {
	endpoints := []string{"vpce-0a1b2c3d4e5f60718", "vpce-0a1b2c3d4e5f60719"}
	s := synthGateway(t, gatewayProps(t, func(p *GatewayProps) {
		p.API.Private, p.API.VPCEndpointIDs, p.API.Authorizer = true, endpoints, AuthorizerLambda
		p.Cognito, p.OIDCIssuer = nil, "https://idp.example.com/oauth2/default"
	}))
	s.has("AWS::ApiGateway::RestApi", map[string]any{
		"EndpointConfiguration": map[string]any{"Types": []any{"PRIVATE"}, "VpcEndpointIds": endpoints},
	})
	deny := s.statement(templatecheck.Resource, "DenyOutsideVpcEndpoints")
	allow := s.statement(templatecheck.Resource, "AllowVpcEndpoints")
	if deny.Effect != "Deny" || templatecheck.Render(cond(deny, "StringNotEquals", "aws:SourceVpce")) != `["vpce-0a1b2c3d4e5f60718","vpce-0a1b2c3d4e5f60719"]` {
		t.Errorf("deny: %v", deny)
	}
	if allow.Effect != "Allow" || templatecheck.Render(cond(allow, "StringEquals", "aws:SourceVpce")) != `["vpce-0a1b2c3d4e5f60718","vpce-0a1b2c3d4e5f60719"]` {
		t.Errorf("allow: %v", allow)
	}
	s.has("AWS::ApiGateway::Authorizer", map[string]any{
		"Type": "REQUEST", "IdentitySource": "method.request.header.Authorization", "AuthorizerResultTtlInSeconds": 300,
	})
	s.has("AWS::ApiGateway::GatewayResponse", map[string]any{
		"ResponseType": "UNAUTHORIZED", "ResponseParameters": map[string]any{"gatewayresponse.header.WWW-Authenticate": "'Bearer'"},
	})
	checkMethods(t, s, "CUSTOM")
	s.count("AWS::Cognito::UserPool", 0)
	for role, env := range functions(t, s) {
		if env["SAGEGATE_OIDC_ISSUER"] != "https://idp.example.com/oauth2/default" || env["SAGEGATE_COGNITO_USER_POOL_ID"] != nil {
			t.Errorf("%s: identity %v", role, env)
		}
	}
}

func TestGatewayAlarms(t *testing.T) {
	s := synthGateway(t, gatewayProps(t, nil))
	s.count("AWS::CloudWatch::Alarm", 8)
	for metric, what := range map[string]string{"Errors": "errors", "Throttles": "throttled"} {
		for _, role := range []string{RoleHTTP, RoleAuthorizer, RoleEvents} {
			s.has("AWS::CloudWatch::Alarm", map[string]any{
				"Namespace": "AWS/Lambda", "MetricName": metric, "Threshold": 1,
				"Dimensions":       []any{map[string]any{"Name": "FunctionName", "Value": assertions.Match_AnyValue()}},
				"AlarmDescription": "sagegate " + role + " function " + what,
				"AlarmActions":     []any{map[string]any{"Ref": assertions.Match_StringLikeRegexp(jsiiStr("AlarmTopic"))}},
			})
		}
	}
	s.has("AWS::CloudWatch::Alarm", map[string]any{"Namespace": "AWS/ApiGateway", "MetricName": "5XXError"})
	s.has("AWS::CloudWatch::Alarm", map[string]any{"Namespace": "AWS/SQS", "MetricName": "ApproximateNumberOfMessagesVisible"})
	s.has("AWS::SNS::Topic", map[string]any{"KmsMasterKeyId": assertions.Match_AnyValue()})
	s.has("AWS::SNS::Subscription", map[string]any{"Protocol": "email", "Endpoint": "ops@example.com"})
	s.has("AWS::KMS::Key", map[string]any{"KeyPolicy": objectLike(map[string]any{"Statement": arrayWith(objectLike(map[string]any{
		"Sid": "CloudWatchAlarmsPublish", "Principal": map[string]any{"Service": "cloudwatch.amazonaws.com"},
	}))})})
}

func TestGatewayVendingAndNetwork(t *testing.T) {
	s := synthGateway(t, gatewayProps(t, func(p *GatewayProps) {
		p.VendingAccounts = []string{lobAccount}
		p.Network = &LambdaNetwork{SubnetIDs: []string{"subnet-0a1b2c3d"}, SecurityGroupIDs: []string{"sg-0a1b2c3d"}}
	}))
	s.has("AWS::Events::EventBusPolicy", map[string]any{
		"EventBusName": "default",
		"Statement": map[string]any{
			"Effect": "Allow", "Action": "events:PutEvents",
			"Principal": map[string]any{"AWS": "arn:aws:iam::222222222222:root"},
			"Resource":  "arn:aws:events:eu-west-1:111111111111:event-bus/default",
		},
	})
	s.has("AWS::Events::Rule", map[string]any{
		"EventPattern": map[string]any{
			"source": []any{"aws.servicecatalog"}, "account": []any{lobAccount},
			"detail": map[string]any{"eventSource": []any{"servicecatalog.amazonaws.com"}, "eventName": []any{"ProvisionProduct"}},
		},
		"Targets": arrayWith(objectLike(map[string]any{"Arn": map[string]any{"Fn::GetAtt": arrayWith(assertions.Match_StringLikeRegexp(jsiiStr("^EventsFunction")))}})),
	})
	for id, fn := range s.resources("AWS::Lambda::Function") {
		if got := templatecheck.Render(fn["VpcConfig"]); got != `{"SecurityGroupIds":["sg-0a1b2c3d"],"SubnetIds":["subnet-0a1b2c3d"]}` {
			t.Errorf("%s: VpcConfig %s", id, got)
		}
	}
	for _, r := range s.resources("AWS::IAM::Role") {
		if r["RoleName"] == "sagegate-gateway" && !strings.Contains(templatecheck.Render(r["ManagedPolicyArns"]), "service-role/AWSLambdaVPCAccessExecutionRole") {
			t.Errorf("the gateway role cannot attach to the VPC: %v", r["ManagedPolicyArns"])
		}
	}
}

// The configuration layer holds the configuration file and nothing else
// from its directory.
func TestGatewayConfigLayer(t *testing.T) {
	out := t.TempDir()
	p := gatewayProps(t, nil)
	g, err := NewGatewayStack(awscdk.NewApp(&awscdk.AppProps{Outdir: &out}), "Gateway", p)
	if err != nil {
		t.Fatal(err)
	}
	synth(t, g.Stack)
	found := 0
	entries, _ := os.ReadDir(out)
	for _, e := range entries {
		files, _ := os.ReadDir(filepath.Join(out, e.Name()))
		var names []string
		for _, f := range files {
			names = append(names, f.Name())
		}
		if contains(names, "sagegate.yaml") {
			found++
			if !slices.Equal(names, []string{"sagegate.yaml"}) {
				t.Errorf("layer %s holds %v", e.Name(), names)
			}
		}
	}
	if found != 1 {
		t.Errorf("%d configuration layers staged", found)
	}
}

func TestGatewayRefuses(t *testing.T) {
	for name, tt := range map[string]struct {
		mod  func(*GatewayProps)
		want string
	}{
		"a wildcard access role":    {func(p *GatewayProps) { p.AccessRoleARNs = []string{"arn:aws:iam::*:role/sagegate-access"} }, "one exact role ARN"},
		"no access roles":           {func(p *GatewayProps) { p.AccessRoleARNs = nil }, "at least one access role"},
		"no asset":                  {func(p *GatewayProps) { p.LambdaAsset += ".missing" }, "lambdaAsset"},
		"no configuration":          {func(p *GatewayProps) { p.ConfigFile = "other.yaml" }, "configuration"},
		"private without endpoints": {func(p *GatewayProps) { p.API.Private = true }, "needs VPCEndpointIDs"},
		"cognito authorizer without cognito": {func(p *GatewayProps) {
			p.Cognito, p.OIDCIssuer = nil, "https://idp.example.com"
		}, "needs Cognito"},
		"two identities":               {func(p *GatewayProps) { p.OIDCIssuer = "https://idp.example.com" }, "either Cognito or OIDCIssuer"},
		"a domain without certificate": {func(p *GatewayProps) { p.API.DomainName = "studio.example.com" }, "custom domain needs both"},
	} {
		t.Run(name, func(t *testing.T) {
			buildErr(t, func(app awscdk.App) error {
				_, err := NewGatewayStack(app, "Gateway", gatewayProps(t, tt.mod))
				return err
			}, tt.want)
		})
	}
}

func jsiiStr(s string) *string { return &s }
