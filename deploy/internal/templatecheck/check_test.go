package templatecheck

import (
	"encoding/json"
	"strings"
	"testing"
)

func template(t *testing.T, raw string) Template {
	t.Helper()
	var tmpl Template
	if err := json.Unmarshal([]byte(raw), &tmpl); err != nil {
		t.Fatal(err)
	}
	return tmpl
}

// role wraps statements in a role's trust policy and an inline policy.
func role(trust, policy string) string {
	return `{"Resources":{"R":{"Type":"AWS::IAM::Role","Properties":{
		"AssumeRolePolicyDocument":{"Statement":[` + trust + `]},
		"Policies":[{"PolicyName":"p","PolicyDocument":{"Statement":[` + policy + `]}}]}}}}`
}

const lambdaTrust = `{"Effect":"Allow","Action":"sts:AssumeRole","Principal":{"Service":"lambda.amazonaws.com"}}`

func TestStatementRules(t *testing.T) {
	tests := []struct {
		name, trust, policy string
		want                string // substring of the one problem; "" for none
	}{
		{"scoped allow", lambdaTrust,
			`{"Effect":"Allow","Action":"sts:AssumeRole","Resource":"arn:aws:iam::111111111111:role/x"}`, ""},
		{"effect left out", lambdaTrust,
			`{"Action":"sagemaker:CreatePresignedDomainUrl","Resource":"*"}`, "must be Allow or Deny"},
		{"deny that allows", lambdaTrust,
			`{"Sid":"DenyPresignedUrls","Effect":"Allow","Action":"sagemaker:ListDomains","Resource":"*"}`, "named DenyPresignedUrls but its effect"},
		{"wildcard action", lambdaTrust,
			`{"Effect":"Allow","Action":"s3:*","Resource":"arn:aws:s3:::b/*"}`, "wildcard action"},
		{"sensitive on star", lambdaTrust,
			`{"Effect":"Allow","Action":"sts:AssumeRole","Resource":"*"}`, "sensitive action sts:AssumeRole"},
		{"sensitive on star despite condition", lambdaTrust,
			`{"Effect":"Allow","Action":"iam:PassRole","Resource":"*","Condition":{"StringEquals":{"iam:PassedToService":"sagemaker.amazonaws.com"}}}`, "sensitive action iam:PassRole"},
		{"any account", lambdaTrust,
			`{"Effect":"Allow","Action":"sts:AssumeRole","Resource":"arn:aws:iam::*:role/sagegate-access"}`, "wildcard account"},
		{"unscopable on star", lambdaTrust,
			`{"Effect":"Allow","Action":["sagemaker:ListDomains","ec2:DescribeVpcs"],"Resource":"*"}`, ""},
		{"other on star needs a condition", lambdaTrust,
			`{"Effect":"Allow","Action":"ec2:CreateNetworkInterface","Resource":"*"}`, "without a condition"},
		{"other on star with a condition", lambdaTrust,
			`{"Effect":"Allow","Action":"ec2:CreateNetworkInterface","Resource":"*","Condition":{"ArnEquals":{"ec2:Vpc":"arn:aws:ec2:eu-west-1:111111111111:vpc/vpc-1"}}}`, ""},
		{"deny on star", lambdaTrust,
			`{"Effect":"Deny","Action":"sagemaker:CreatePresignedDomainUrl","Resource":"*"}`, ""},
		{"token resource", lambdaTrust,
			`{"Effect":"Allow","Action":"kms:Decrypt","Resource":{"Fn::GetAtt":["Key","Arn"]}}`, ""},
		{"trust anyone", `{"Effect":"Allow","Action":"sts:AssumeRole","Principal":{"AWS":"*"}}`,
			`{"Effect":"Allow","Action":"sagemaker:ListDomains","Resource":"*"}`, "not one exact role"},
		{"trust an account", `{"Effect":"Allow","Action":"sts:AssumeRole","Principal":{"AWS":"arn:aws:iam::111111111111:root"},"Condition":{"StringEquals":{"sts:ExternalId":"x"}}}`,
			`{"Effect":"Allow","Action":"sagemaker:ListDomains","Resource":"*"}`, "not one exact role"},
		{"trust any account's role", `{"Effect":"Allow","Action":"sts:AssumeRole","Principal":{"AWS":"arn:aws:iam::*:role/sagegate"},"Condition":{"StringEquals":{"sts:ExternalId":"x"}}}`,
			`{"Effect":"Allow","Action":"sagemaker:ListDomains","Resource":"*"}`, "not one exact role"},
		{"trust without external id", `{"Effect":"Allow","Action":"sts:AssumeRole","Principal":{"AWS":"arn:aws:iam::111111111111:role/sagegate"}}`,
			`{"Effect":"Allow","Action":"sagemaker:ListDomains","Resource":"*"}`, "without an external id"},
		{"exact trust", `{"Effect":"Allow","Action":"sts:AssumeRole","Principal":{"AWS":"arn:aws:iam::111111111111:role/sagegate"},"Condition":{"StringEquals":{"sts:ExternalId":"x"}}}`,
			`{"Effect":"Allow","Action":"sagemaker:ListDomains","Resource":"*"}`, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			probs := Check(template(t, role(tt.trust, tt.policy)))
			switch {
			case tt.want == "" && len(probs) > 0:
				t.Errorf("unexpected problems: %q", probs)
			case tt.want != "" && !strings.Contains(strings.Join(probs, "\n"), tt.want):
				t.Errorf("problems %q, want one containing %q", probs, tt.want)
			}
		})
	}
}

func TestResourcePolicies(t *testing.T) {
	open := `{"Resources":{"Api":{"Type":"AWS::ApiGateway::RestApi","Properties":{"Policy":{"Statement":[
		{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"execute-api:Invoke","Resource":"execute-api:/*"}]}}}}}`
	if probs := Check(template(t, open)); len(probs) != 1 || !strings.Contains(probs[0], "allows anyone") {
		t.Errorf("open API policy: %q", probs)
	}
	vpce := strings.Replace(open, `"Resource":"execute-api:/*"`, `"Resource":"execute-api:/*","Condition":{"StringEquals":{"aws:SourceVpce":"vpce-1"}}`, 1)
	if probs := Check(template(t, vpce)); len(probs) > 0 {
		t.Errorf("VPC endpoint API policy: %q", probs)
	}
	key := `{"Resources":{"K":{"Type":"AWS::KMS::Key","Properties":{"KeyPolicy":{"Statement":[
		{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111111111111:root"},"Action":"kms:*","Resource":"*"},
		{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::222222222222:role/x"},"Action":"kms:Decrypt","Resource":"*"}]}}}}}`
	if probs := Check(template(t, key)); len(probs) != 1 || !strings.Contains(probs[0], "key policy principal") {
		t.Errorf("key policy: %q", probs)
	}
}

func TestStorage(t *testing.T) {
	good := `{"Resources":{
		"B":{"Type":"AWS::S3::Bucket","Properties":{
			"BucketEncryption":{"ServerSideEncryptionConfiguration":[{"ServerSideEncryptionByDefault":{"SSEAlgorithm":"aws:kms"}}]},
			"PublicAccessBlockConfiguration":{"BlockPublicAcls":true,"BlockPublicPolicy":true,"IgnorePublicAcls":true,"RestrictPublicBuckets":true}}},
		"P":{"Type":"AWS::S3::BucketPolicy","Properties":{"Bucket":{"Ref":"B"},"PolicyDocument":{"Statement":[
			{"Effect":"Deny","Principal":{"AWS":"*"},"Action":"s3:*","Resource":"arn:aws:s3:::b/*","Condition":{"Bool":{"aws:SecureTransport":"false"}}}]}}},
		"T":{"Type":"AWS::DynamoDB::Table","Properties":{"SSESpecification":{"SSEEnabled":true},
			"PointInTimeRecoverySpecification":{"PointInTimeRecoveryEnabled":true}}},
		"L":{"Type":"AWS::Logs::LogGroup","Properties":{"RetentionInDays":90}},
		"F":{"Type":"AWS::Lambda::Function","Properties":{"LoggingConfig":{"LogGroup":{"Ref":"L"}}}}}}`
	if probs := Check(template(t, good)); len(probs) > 0 {
		t.Errorf("good storage: %q", probs)
	}
	bad := `{"Resources":{
		"B":{"Type":"AWS::S3::Bucket","Properties":{}},
		"T":{"Type":"AWS::DynamoDB::Table","Properties":{}},
		"L":{"Type":"AWS::Logs::LogGroup","Properties":{}},
		"F":{"Type":"AWS::Lambda::Function","Properties":{}},
		"C":{"Type":"Custom::Thing","Properties":{}}}}`
	probs := Check(template(t, bad))
	for _, want := range []string{"bucket without encryption", "BlockPublicAcls", "does not deny requests without TLS",
		"SSEEnabled", "point-in-time recovery", "log group without retention", "function without a log group", "custom resource"} {
		if !strings.Contains(strings.Join(probs, "\n"), want) {
			t.Errorf("bad storage: no problem mentions %q in %q", want, probs)
		}
	}
}
