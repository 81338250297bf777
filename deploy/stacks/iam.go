package stacks

import (
	"fmt"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/jsii-runtime-go"
)

// conds is an IAM condition block: operator -> key -> value(s).
type conds map[string]map[string]any

// allow and deny build policy statements. Both always set the effect: a
// statement whose effect is left out defaults to Allow, which is how the
// CDK sample for a VPC-only Studio domain ended up granting what it meant
// to deny.
func allow(sid string, actions, resources []string, c conds) awsiam.PolicyStatement {
	return statement(awsiam.Effect_ALLOW, sid, actions, resources, c)
}

func deny(sid string, actions, resources []string, c conds) awsiam.PolicyStatement {
	return statement(awsiam.Effect_DENY, sid, actions, resources, c)
}

func statement(effect awsiam.Effect, sid string, actions, resources []string, c conds) awsiam.PolicyStatement {
	props := &awsiam.PolicyStatementProps{
		Sid:       jsii.String(sid),
		Effect:    effect,
		Actions:   jsii.Strings(actions...),
		Resources: jsii.Strings(resources...),
	}
	if len(c) > 0 {
		props.Conditions = c.jsii()
	}
	return awsiam.NewPolicyStatement(props)
}

func (c conds) jsii() *map[string]any {
	m := make(map[string]any, len(c))
	for op, kv := range c {
		m[op] = kv
	}
	return &m
}

// merge returns the union of condition blocks (later keys win).
func merge(blocks ...conds) conds {
	out := conds{}
	for _, b := range blocks {
		for op, kv := range b {
			if out[op] == nil {
				out[op] = map[string]any{}
			}
			for k, v := range kv {
				out[op][k] = v
			}
		}
	}
	return out
}

// partition is the ARN partition of a region. ARNs are written out as
// literal strings rather than with the AWS::Partition pseudo parameter, so
// that templates read plainly and tests can check them as text.
func partition(region string) string {
	switch {
	case strings.HasPrefix(region, "cn-"):
		return "aws-cn"
	case strings.HasPrefix(region, "us-gov-"):
		return "aws-us-gov"
	}
	return "aws"
}

// arn formats an ARN; resource may hold tokens (a domain id from another
// construct), which CDK renders with Fn::Join.
func arn(service, region, account, resource string) string {
	return fmt.Sprintf("arn:%s:%s:%s:%s:%s", partition(region), service, region, account, resource)
}

// RoleARN is the ARN of a role with a fixed name in another account, which
// is how stacks in different accounts refer to each other without
// cross-stack references.
func RoleARN(region, account, name string) string {
	return fmt.Sprintf("arn:%s:iam::%s:role/%s", partition(region), account, name)
}

func strs(vs ...string) *[]*string { return jsii.Strings(vs...) }
