package templatecheck

import (
	"fmt"
	"strings"
)

// CheckBuckets: every bucket encrypted, all public access blocked, and a
// bucket policy denying requests without TLS.
func CheckBuckets(t Template) []string {
	var probs []string
	policies := Resources(t, "AWS::S3::BucketPolicy")
	for id, p := range Resources(t, "AWS::S3::Bucket") {
		enc, _ := p["BucketEncryption"].(map[string]any)
		if len(list(enc["ServerSideEncryptionConfiguration"])) == 0 {
			probs = append(probs, id+": bucket without encryption")
		}
		pab, _ := p["PublicAccessBlockConfiguration"].(map[string]any)
		for _, k := range []string{"BlockPublicAcls", "BlockPublicPolicy", "IgnorePublicAcls", "RestrictPublicBuckets"} {
			if pab[k] != true {
				probs = append(probs, fmt.Sprintf("%s: bucket without %s", id, k))
			}
		}
		if !tlsOnly(id, policies) {
			probs = append(probs, id+": bucket policy does not deny requests without TLS")
		}
	}
	return probs
}

// tlsOnly: a policy of this bucket denies aws:SecureTransport false.
func tlsOnly(bucket string, policies map[string]map[string]any) bool {
	for id, p := range policies {
		if Render(p["Bucket"]) != "${Ref:"+bucket+"}" {
			continue
		}
		for _, s := range parseDocument(id, Resource, p["PolicyDocument"]) {
			if s.Effect == "Deny" && fmt.Sprint(s.Condition["Bool"]) == "map[aws:SecureTransport:false]" {
				return true
			}
		}
	}
	return false
}

// CheckTables: every table encrypted, with point-in-time recovery.
func CheckTables(t Template) []string {
	var probs []string
	for id, p := range Resources(t, "AWS::DynamoDB::Table") {
		sse, _ := p["SSESpecification"].(map[string]any)
		if sse["SSEEnabled"] != true {
			probs = append(probs, id+": table without SSESpecification.SSEEnabled")
		}
		pitr, _ := p["PointInTimeRecoverySpecification"].(map[string]any)
		if pitr["PointInTimeRecoveryEnabled"] != true {
			probs = append(probs, id+": table without point-in-time recovery")
		}
	}
	return probs
}

// CheckLogs: every log group has a retention, and every function logs to
// one of them (a function without sends to a group kept forever).
func CheckLogs(t Template) []string {
	var probs []string
	for id, p := range Resources(t, "AWS::Logs::LogGroup") {
		if p["RetentionInDays"] == nil {
			probs = append(probs, id+": log group without retention")
		}
	}
	for id, p := range Resources(t, "AWS::Lambda::Function") {
		lc, _ := p["LoggingConfig"].(map[string]any)
		if !strings.HasPrefix(Render(lc["LogGroup"]), "${Ref:") {
			probs = append(probs, id+": function without a log group of this template")
		}
	}
	return probs
}

// CheckMessaging: topics and queues encrypted and TLS-only.
func CheckMessaging(t Template) []string {
	var probs []string
	for id, p := range Resources(t, "AWS::SNS::Topic") {
		if p["KmsMasterKeyId"] == nil {
			probs = append(probs, id+": topic without encryption")
		}
	}
	for id, p := range Resources(t, "AWS::SQS::Queue") {
		if p["SqsManagedSseEnabled"] != true && p["KmsMasterKeyId"] == nil {
			probs = append(probs, id+": queue without encryption")
		}
	}
	return probs
}

// CheckNoCustomResources: no custom resources, whose provider functions
// would bring their own roles and log groups.
func CheckNoCustomResources(t Template) []string {
	var probs []string
	res, _ := t["Resources"].(map[string]any)
	for id, r := range res {
		typ, _ := r.(map[string]any)["Type"].(string)
		if strings.HasPrefix(typ, "Custom::") || typ == "AWS::CloudFormation::CustomResource" {
			probs = append(probs, id+": custom resource "+typ)
		}
	}
	return probs
}
