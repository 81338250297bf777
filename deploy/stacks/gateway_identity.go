package stacks

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscognito"
	"github.com/aws/jsii-runtime-go"
)

// addCognito creates the user pool people sign in to, an app client for
// sagegate's browser login (authorization code with PKCE, no secret to
// deliver) and the hosted domain, and tells the functions about them.
func (g *GatewayStack) addCognito(props *GatewayProps, env map[string]string) {
	c := props.Cognito
	pool := awscognito.NewUserPool(g.Stack, jsii.String("UserPool"), &awscognito.UserPoolProps{
		UserPoolName: jsii.String(props.Name),
		// People are added by administrators (or federated), never sign up.
		SelfSignUpEnabled:   jsii.Bool(false),
		SignInAliases:       &awscognito.SignInAliases{Username: jsii.Bool(true), Email: jsii.Bool(true)},
		SignInCaseSensitive: jsii.Bool(false),
		PasswordPolicy: &awscognito.PasswordPolicy{
			MinLength: jsii.Number(12), RequireDigits: jsii.Bool(true), RequireLowercase: jsii.Bool(true),
			RequireUppercase: jsii.Bool(true), RequireSymbols: jsii.Bool(true),
			TempPasswordValidity: awscdk.Duration_Days(jsii.Number(3)),
		},
		Mfa:                awscognito.Mfa_OPTIONAL,
		MfaSecondFactor:    &awscognito.MfaSecondFactor{Otp: jsii.Bool(true), Sms: jsii.Bool(false)},
		AccountRecovery:    awscognito.AccountRecovery_EMAIL_ONLY,
		DeletionProtection: jsii.Bool(true),
		RemovalPolicy:      awscdk.RemovalPolicy_RETAIN,
	})
	client := pool.AddClient(jsii.String("WebClient"), &awscognito.UserPoolClientOptions{
		UserPoolClientName: jsii.String(props.Name + "-web"),
		GenerateSecret:     jsii.Bool(false),
		AuthFlows:          &awscognito.AuthFlow{UserSrp: jsii.Bool(true)},
		OAuth: &awscognito.OAuthSettings{
			Flows:        &awscognito.OAuthFlows{AuthorizationCodeGrant: jsii.Bool(true)},
			Scopes:       &[]awscognito.OAuthScope{awscognito.OAuthScope_OPENID(), awscognito.OAuthScope_EMAIL(), awscognito.OAuthScope_PROFILE()},
			CallbackUrls: jsii.Strings(c.PublicURL + "/auth/callback"),
			LogoutUrls:   jsii.Strings(c.PublicURL + "/"),
		},
		SupportedIdentityProviders: &[]awscognito.UserPoolClientIdentityProvider{awscognito.UserPoolClientIdentityProvider_COGNITO()},
		PreventUserExistenceErrors: jsii.Bool(true),
		EnableTokenRevocation:      jsii.Bool(true),
		AccessTokenValidity:        awscdk.Duration_Hours(jsii.Number(1)),
		IdTokenValidity:            awscdk.Duration_Hours(jsii.Number(1)),
		RefreshTokenValidity:       awscdk.Duration_Hours(jsii.Number(12)),
	})
	domain := pool.AddDomain(jsii.String("HostedDomain"), &awscognito.UserPoolDomainOptions{
		CognitoDomain: &awscognito.CognitoDomainOptions{DomainPrefix: jsii.String(c.DomainPrefix)},
	})
	g.UserPool, g.UserPoolClient = pool, client
	env["SAGEGATE_PUBLIC_URL"] = c.PublicURL
	env["SAGEGATE_COGNITO_USER_POOL_ID"] = *pool.UserPoolId()
	env["SAGEGATE_COGNITO_CLIENT_ID"] = *client.UserPoolClientId()
	env["SAGEGATE_COGNITO_DOMAIN"] = *domain.BaseUrl(nil)
	awscdk.NewCfnOutput(g.Stack, jsii.String("UserPoolId"), &awscdk.CfnOutputProps{Value: pool.UserPoolId()})
	awscdk.NewCfnOutput(g.Stack, jsii.String("UserPoolClientId"), &awscdk.CfnOutputProps{Value: client.UserPoolClientId()})
	awscdk.NewCfnOutput(g.Stack, jsii.String("HostedDomain"), &awscdk.CfnOutputProps{Value: domain.BaseUrl(nil)})
}
