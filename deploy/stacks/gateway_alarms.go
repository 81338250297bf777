package stacks

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatch"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatchactions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssns"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssnssubscriptions"
	"github.com/aws/jsii-runtime-go"
)

// addAlarms raises an alarm on any function error or throttle, on API
// server errors and on failed events, to an encrypted topic.
func (g *GatewayStack) addAlarms(props *GatewayProps) {
	// CloudWatch can only publish to an encrypted topic whose key lets it.
	g.Key.AddToResourcePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:        jsii.String("CloudWatchAlarmsPublish"),
		Effect:     awsiam.Effect_ALLOW,
		Principals: &[]awsiam.IPrincipal{awsiam.NewServicePrincipal(jsii.String("cloudwatch.amazonaws.com"), nil)},
		Actions:    strs("kms:Decrypt", "kms:GenerateDataKey*"),
		Resources:  strs("*"),
	}), nil)
	topic := awssns.NewTopic(g.Stack, jsii.String("AlarmTopic"), &awssns.TopicProps{
		DisplayName: jsii.String(props.Name + " alarms"),
		MasterKey:   g.Key,
		EnforceSSL:  jsii.Bool(true),
	})
	if props.AlarmEmail != "" {
		topic.AddSubscription(awssnssubscriptions.NewEmailSubscription(jsii.String(props.AlarmEmail), nil))
	}
	action := awscloudwatchactions.NewSnsAction(topic)
	fiveMinutes := &awscloudwatch.MetricOptions{Period: awscdk.Duration_Minutes(jsii.Number(5)), Statistic: jsii.String("Sum")}
	alarm := func(id, description string, metric awscloudwatch.Metric) {
		a := metric.CreateAlarm(g.Stack, jsii.String(id), &awscloudwatch.CreateAlarmOptions{
			AlarmDescription:   jsii.String(description),
			Threshold:          jsii.Number(1),
			EvaluationPeriods:  jsii.Number(1),
			ComparisonOperator: awscloudwatch.ComparisonOperator_GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
			TreatMissingData:   awscloudwatch.TreatMissingData_NOT_BREACHING,
		})
		a.AddAlarmAction(action)
		g.Alarms = append(g.Alarms, a)
	}
	for _, f := range []struct {
		id   string
		role string
		fn   interface {
			MetricErrors(*awscloudwatch.MetricOptions) awscloudwatch.Metric
			MetricThrottles(*awscloudwatch.MetricOptions) awscloudwatch.Metric
		}
	}{{"Http", RoleHTTP, g.HTTP}, {"Authorizer", RoleAuthorizer, g.Authorizer}, {"Events", RoleEvents, g.Events}} {
		alarm(f.id+"Errors", "sagegate "+f.role+" function errors", f.fn.MetricErrors(fiveMinutes))
		alarm(f.id+"Throttles", "sagegate "+f.role+" function throttled", f.fn.MetricThrottles(fiveMinutes))
	}
	alarm("ApiServerErrors", "sagegate API answered 5xx", g.API.MetricServerError(fiveMinutes))
	alarm("EventsFailed", "sagegate events that failed every retry",
		g.EventsDeadLetters.MetricApproximateNumberOfMessagesVisible(&awscloudwatch.MetricOptions{
			Period: awscdk.Duration_Minutes(jsii.Number(5)), Statistic: jsii.String("Maximum"),
		}))
}
