package templatecheck

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
)

// Unscopable are actions IAM cannot restrict to a resource: "*" is their
// only possible resource.
var Unscopable = []string{
	"sagemaker:ListDomains", "sagemaker:ListApps", "sagemaker:ListSpaces", "sagemaker:ListUserProfiles",
	"sagemaker:ListTrainingJobs", "sagemaker:ListProcessingJobs", "sagemaker:ListNotebookInstances",
	"sagemaker:Search", "ecr:GetAuthorizationToken",
	"cloudformation:GetTemplateSummary", "cloudformation:ValidateTemplate",
	"ec2:DescribeNetworkInterfaces", "ec2:DescribeVpcs", "ec2:DescribeSubnets",
	"ec2:DescribeSecurityGroups", "ec2:DescribeDhcpOptions",
}

// sensitive actions must always name their resources, condition or not.
var sensitive = []string{
	"sts:", "iam:", "kms:", "s3:", "dynamodb:", "lambda:", "events:PutEvents", "ssm:", "sqs:", "sns:", "logs:",
	"sagemaker:CreatePresigned", "sagemaker:Create", "sagemaker:Delete", "sagemaker:Start",
	"sagemaker:Stop", "sagemaker:Update", "sagemaker:Describe", "sagemaker:AddTags",
}

func isSensitive(action string) bool {
	for _, p := range sensitive {
		if strings.HasPrefix(action, p) {
			return true
		}
	}
	return false
}

// rePartition is a partition, literal or the AWS::Partition parameter.
const rePartition = `(aws[a-z-]*|\$\{Ref:AWS::Partition\})`

var (
	// An ARN whose partition, service, region or account is a wildcard
	// (arn:aws:iam::*:role/x) names nothing in particular.
	reARN       = regexp.MustCompile(`^arn:([^:]*):([^:]*):([^:]*):([^:]*):`)
	reExactRole = regexp.MustCompile(`^arn:` + rePartition + `:iam::[0-9]{12}:role/[\w+=,.@/-]+$`)
	reRoot      = regexp.MustCompile(`^arn:` + rePartition + `:iam::[0-9]{12}:root$`)
)

// wildcardScope says why a resource names no particular thing, or "".
func wildcardScope(resource string) string {
	if resource == "*" {
		return "is *"
	}
	if m := reARN.FindStringSubmatch(resource); m != nil {
		for i, field := range []string{"partition", "service", "region", "account"} {
			if strings.Contains(m[i+1], "*") {
				return "has a wildcard " + field
			}
		}
	}
	return ""
}

// Check runs every check on a template and returns its problems.
func Check(t Template) []string {
	var probs []string
	for _, s := range Statements(t) {
		probs = append(probs, CheckStatement(s)...)
	}
	probs = append(probs, CheckBuckets(t)...)
	probs = append(probs, CheckTables(t)...)
	probs = append(probs, CheckLogs(t)...)
	probs = append(probs, CheckMessaging(t)...)
	probs = append(probs, CheckNoCustomResources(t)...)
	return probs
}

// CheckStatement applies the policy rules to one statement.
func CheckStatement(s Statement) []string {
	var probs []string
	bad := func(format string, args ...any) { probs = append(probs, s.String()+": "+fmt.Sprintf(format, args...)) }
	if s.Effect != "Allow" && s.Effect != "Deny" {
		// Left out, IAM reads Allow: the VPC-only Studio sample's bug.
		bad("effect %q must be Allow or Deny, explicitly", s.Effect)
	}
	// A statement named as a denial that allows: what a forgotten effect
	// turns a Deny into.
	if strings.HasPrefix(s.Sid, "Deny") && s.Effect != "Deny" {
		bad("named %s but its effect is %q", s.Sid, s.Effect)
	}
	if s.Kind == Key {
		// A key policy's resource is the key; kms:* goes only to an
		// account root (handing the key to IAM) or a service.
		for typ, ps := range s.Principals {
			for _, p := range ps {
				if (typ == "AWS" && !reRoot.MatchString(p)) || typ == "*" {
					bad("key policy principal %s %q", typ, p)
				}
			}
		}
		return probs
	}
	// A Deny of everything (s3:* without TLS) is as strong as it gets.
	for _, a := range s.Actions {
		if s.Effect != "Deny" && (a == "*" || strings.HasSuffix(a, ":*")) {
			bad("wildcard action %q", a)
		}
	}
	switch s.Kind {
	case Identity:
		if s.Effect == "Allow" {
			checkScope(s, bad)
		}
	case Trust:
		checkTrust(s, bad)
	case Resource:
		if _, anyone := s.Principals["*"]; anyone && s.Effect == "Allow" && len(s.Condition) == 0 {
			bad("allows anyone without a condition")
		}
		for _, p := range s.Principals["AWS"] {
			if p == "*" && s.Effect == "Allow" && len(s.Condition) == 0 {
				bad("allows anyone without a condition")
			}
		}
	}
	return probs
}

func checkScope(s Statement, bad func(string, ...any)) {
	for _, r := range s.Resources {
		why := wildcardScope(r)
		if why == "" {
			continue
		}
		for _, a := range s.Actions {
			switch {
			case slices.Contains(Unscopable, a):
			case isSensitive(a):
				bad("sensitive action %s on a resource that %s", a, why)
			case len(s.Condition) == 0:
				bad("action %s on a resource that %s, without a condition", a, why)
			}
		}
	}
}

func checkTrust(s Statement, bad func(string, ...any)) {
	if _, anyone := s.Principals["*"]; anyone {
		bad("trusts anyone")
	}
	for _, p := range s.Principals["AWS"] {
		if !reExactRole.MatchString(p) {
			bad("trusts %q, not one exact role", p)
		}
		if slices.Contains(s.Actions, "sts:AssumeRole") && !hasCondition(s, "StringEquals", "sts:ExternalId") {
			bad("trusts %q without an external id", p)
		}
	}
	for _, p := range s.Principals["Service"] {
		if strings.Contains(p, "*") {
			bad("trusts service %q", p)
		}
	}
}

func hasCondition(s Statement, op, key string) bool {
	m, _ := s.Condition[op].(map[string]any)
	_, ok := m[key]
	return ok
}
