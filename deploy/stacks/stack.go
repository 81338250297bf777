// Package stacks holds sagegate's CDK stacks: GatewayStack (the gateway's
// account), AccessRoleStack and StudioDomainStack (each LOB account) and
// NotebookVendingStack. Each takes plain props, checks them before building
// anything, and names what other accounts need by fixed names.
package stacks

import (
	"errors"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

// newStack checks a stack's environment and props before creating it, so
// a mistake is an error rather than a half-built construct tree. sagegate's
// stacks name resources in other accounts, so they are never
// environment-agnostic.
func newStack(scope constructs.Construct, id string, props *awscdk.StackProps, check func() error) (stack awscdk.Stack, account, region string, err error) {
	env := props.Env
	if env == nil || env.Account == nil || env.Region == nil || *env.Account == "" || *env.Region == "" {
		return nil, "", "", errors.New("the stack needs an explicit Env with Account and Region")
	}
	if err := check(); err != nil {
		return nil, "", "", err
	}
	return awscdk.NewStack(scope, jsii.String(id), props), *env.Account, *env.Region, nil
}

// newKey is a customer-managed key that rotates and outlives its stack
// (what it encrypted may outlive it too).
func newKey(scope constructs.Construct, description, alias string) awskms.Key {
	return awskms.NewKey(scope, jsii.String("Key"), &awskms.KeyProps{
		Description:       jsii.String(description),
		Alias:             jsii.String(alias),
		EnableKeyRotation: jsii.Bool(true),
		RemovalPolicy:     awscdk.RemovalPolicy_RETAIN,
	})
}
