package stacks

import (
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsevents"
	"github.com/aws/aws-cdk-go/awscdk/v2/awseventstargets"
	"github.com/aws/jsii-runtime-go"
)

// provisionProductPattern matches the CloudTrail record of a Service
// Catalog ProvisionProduct call, as EventBridge delivers it.
func provisionProductPattern(accounts []string, productIDs []string) *awsevents.EventPattern {
	detail := map[string]any{
		"eventSource": []string{"servicecatalog.amazonaws.com"},
		"eventName":   []string{"ProvisionProduct"},
	}
	if len(productIDs) > 0 {
		detail["requestParameters"] = map[string]any{"productId": productIDs}
	}
	p := &awsevents.EventPattern{
		Source:     jsii.Strings("aws.servicecatalog"),
		DetailType: jsii.Strings("AWS API Call via CloudTrail"),
		Detail:     &detail,
	}
	if len(accounts) > 0 {
		p.Account = jsii.Strings(accounts...)
	}
	return p
}

// addForwardedEvents lets the vending accounts put their ProvisionProduct
// events on this account's default bus, and sends them to the events
// function. Same-account vending targets the function directly.
func (g *GatewayStack) addForwardedEvents(props *GatewayProps, account, region string) {
	if len(props.VendingAccounts) == 0 {
		return
	}
	bus := arn("events", region, account, "event-bus/default")
	for i, from := range props.VendingAccounts {
		awsevents.NewCfnEventBusPolicy(g.Stack, jsii.String(fmt.Sprintf("VendingAccount%d", i)), &awsevents.CfnEventBusPolicyProps{
			EventBusName: jsii.String("default"),
			StatementId:  jsii.String(fmt.Sprintf("%s-vending-%s", props.Name, from)),
			Statement: map[string]any{
				"Sid":       fmt.Sprintf("%s-vending-%s", props.Name, from),
				"Effect":    "Allow",
				"Principal": map[string]any{"AWS": fmt.Sprintf("arn:%s:iam::%s:root", partition(region), from)},
				"Action":    "events:PutEvents",
				"Resource":  bus,
				"Condition": map[string]any{"StringEquals": map[string]any{"events:source": "aws.servicecatalog"}},
			},
		})
	}
	awsevents.NewRule(g.Stack, jsii.String("ForwardedProvisionProduct"), &awsevents.RuleProps{
		Description:  jsii.String("sagegate: notebook products provisioned in the vending accounts"),
		EventPattern: provisionProductPattern(props.VendingAccounts, nil),
		Targets: &[]awsevents.IRuleTarget{awseventstargets.NewLambdaFunction(g.Events, &awseventstargets.LambdaFunctionProps{
			RetryAttempts: jsii.Number(4),
			MaxEventAge:   awscdk.Duration_Hours(jsii.Number(2)),
		})},
	})
}
