package stacks

import (
	"encoding/base64"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"

	"github.com/sagegate/sagegate/deploy/internal/templatecheck"
)

func studioProps(mod func(*StudioDomainProps)) *StudioDomainProps {
	p := &StudioDomainProps{
		StackProps:        stackEnv(lobAccount),
		Name:              "sagegate-lob-b",
		CIDR:              "10.30.0.0/16",
		AvailabilityZones: []string{"eu-west-1a", "eu-west-1b"},
		ClientCIDRs:       []string{"10.0.0.0/8"},
		FlowLogRetention:  awslogs.RetentionDays_THREE_MONTHS,
		Tags:              map[string]string{"sagegate:scope": "lob-b"},
		Domains: []StudioDomain{
			{Name: "research", Users: []string{"carol"}, IdleTimeoutMinutes: 120, InstanceType: "ml.t3.medium"},
			{Name: "analytics", Users: []string{"carol", "dave"}, IdleTimeoutMinutes: 60, InstanceType: "ml.t3.large"},
		},
	}
	if mod != nil {
		mod(p)
	}
	return p
}

func synthStudio(t *testing.T, p *StudioDomainProps) (*StudioDomainStack, *synthesized) {
	t.Helper()
	s, err := NewStudioDomainStack(newApp(t), "Studio", p)
	if err != nil {
		t.Fatal(err)
	}
	out := synth(t, s.Stack)
	out.secure()
	return s, out
}

func endpointServices(s *synthesized) map[string]string {
	out := map[string]string{}
	for _, e := range s.resources("AWS::EC2::VPCEndpoint") {
		// com.amazonaws.<region>.<service>
		parts := strings.SplitN(templatecheck.Render(e["ServiceName"]), ".", 4)
		out[parts[len(parts)-1]] = e["VpcEndpointType"].(string)
	}
	return out
}

func TestStudioNetworkIsIsolated(t *testing.T) {
	_, s := synthStudio(t, studioProps(nil))
	s.has("AWS::EC2::VPC", map[string]any{"CidrBlock": "10.30.0.0/16", "EnableDnsHostnames": true, "EnableDnsSupport": true})
	s.count("AWS::EC2::Subnet", 2)
	s.has("AWS::EC2::Subnet", map[string]any{"MapPublicIpOnLaunch": false, "AvailabilityZone": "eu-west-1a", "CidrBlock": "10.30.0.0/18"})
	for _, typ := range []string{"AWS::EC2::InternetGateway", "AWS::EC2::NatGateway", "AWS::EC2::EIP"} {
		s.count(typ, 0)
	}
	for _, r := range s.resources("AWS::EC2::Route") {
		t.Errorf("a route out of the isolated subnets: %v", r)
	}
	s.has("AWS::EC2::FlowLog", map[string]any{"TrafficType": "ALL", "LogDestinationType": "cloud-watch-logs"})

	got := endpointServices(s)
	want := map[string]string{
		"sagemaker.api": "Interface", "sagemaker.runtime": "Interface", "studio": "Interface", "notebook": "Interface",
		"sts": "Interface", "logs": "Interface", "s3": "Gateway",
	}
	if len(got) != len(want) {
		t.Errorf("endpoints %v, want %v", got, want)
	}
	for svc, typ := range want {
		if got[svc] != typ {
			t.Errorf("endpoint %s: %q, want %q", svc, got[svc], typ)
		}
	}
	s.has("AWS::EC2::VPCEndpoint", map[string]any{"VpcEndpointType": "Interface", "PrivateDnsEnabled": true})
}

func TestStudioSecurityGroups(t *testing.T) {
	_, s := synthStudio(t, studioProps(nil))
	// Studio apps may leave only for 443 (endpoints, S3) and for each other.
	for id, sg := range s.resources("AWS::EC2::SecurityGroup") {
		for _, e := range list(sg["SecurityGroupEgress"]) {
			rule := e.(map[string]any)
			if rule["CidrIp"] == "0.0.0.0/0" && (rule["IpProtocol"] != "tcp" || rule["FromPort"] != float64(443)) {
				t.Errorf("%s: open egress %v", id, rule)
			}
		}
		for _, i := range list(sg["SecurityGroupIngress"]) {
			rule := i.(map[string]any)
			if rule["CidrIp"] != nil && (rule["CidrIp"] != "10.0.0.0/8" || rule["FromPort"] != float64(443)) {
				t.Errorf("%s: ingress %v beyond browsers on 443", id, rule)
			}
		}
	}
	s.has("AWS::EC2::SecurityGroupIngress", map[string]any{"IpProtocol": "-1", "Description": "Studio apps among themselves"})
	s.has("AWS::EC2::SecurityGroupIngress", map[string]any{"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "Description": "from Studio apps"})
	s.has("AWS::EC2::SecurityGroup", map[string]any{
		"GroupDescription":     "sagegate VPC interface endpoints",
		"SecurityGroupIngress": arrayWith(objectLike(map[string]any{"CidrIp": "10.0.0.0/8", "FromPort": 443})),
	})
}

func list(v any) []any {
	l, _ := v.([]any)
	return l
}

func TestStudioStorage(t *testing.T) {
	_, s := synthStudio(t, studioProps(nil))
	s.has("AWS::KMS::Key", map[string]any{"EnableKeyRotation": true})
	s.has("AWS::S3::Bucket", map[string]any{
		"BucketEncryption": map[string]any{"ServerSideEncryptionConfiguration": arrayWith(objectLike(map[string]any{
			"BucketKeyEnabled":              true,
			"ServerSideEncryptionByDefault": objectLike(map[string]any{"SSEAlgorithm": "aws:kms"}),
		}))},
		"PublicAccessBlockConfiguration": map[string]any{
			"BlockPublicAcls": true, "BlockPublicPolicy": true, "IgnorePublicAcls": true, "RestrictPublicBuckets": true,
		},
		"VersioningConfiguration": map[string]any{"Status": "Enabled"},
		"OwnershipControls":       map[string]any{"Rules": []any{map[string]any{"ObjectOwnership": "BucketOwnerEnforced"}}},
	})
	// TLS only: checked by secure(); TLS 1.2 at least, too.
	s.has("AWS::S3::BucketPolicy", map[string]any{"PolicyDocument": objectLike(map[string]any{
		"Statement": arrayWith(objectLike(map[string]any{
			"Effect": "Deny", "Condition": map[string]any{"NumericLessThan": map[string]any{"s3:TlsVersion": 1.2}},
		})),
	})})
}

func TestStudioDomains(t *testing.T) {
	_, s := synthStudio(t, studioProps(nil))
	s.count("AWS::SageMaker::Domain", 2)
	s.count("AWS::SageMaker::UserProfile", 3)
	s.count("AWS::SageMaker::StudioLifecycleConfig", 2)
	for name, idle := range map[string]int{"research": 120, "analytics": 60} {
		idleSettings := map[string]any{"IdleSettings": map[string]any{
			"LifecycleManagement": "ENABLED", "IdleTimeoutInMinutes": idle, "MinIdleTimeoutInMinutes": 60, "MaxIdleTimeoutInMinutes": idle,
		}}
		s.has("AWS::SageMaker::Domain", map[string]any{
			"DomainName":           name,
			"AuthMode":             "IAM",
			"AppNetworkAccessType": "VpcOnly",
			"KmsKeyId":             assertions.Match_AnyValue(),
			"SubnetIds":            assertions.Match_AnyValue(),
			"Tags":                 arrayWith(map[string]any{"Key": "sagegate:scope", "Value": "lob-b"}),
			"DefaultUserSettings": objectLike(map[string]any{
				"ExecutionRole":         assertions.Match_AnyValue(),
				"SecurityGroups":        assertions.Match_AnyValue(),
				"JupyterLabAppSettings": objectLike(map[string]any{"AppLifecycleManagement": idleSettings, "LifecycleConfigArns": assertions.Match_AnyValue()}),
				"CodeEditorAppSettings": objectLike(map[string]any{"AppLifecycleManagement": idleSettings}),
			}),
		})
		s.has("AWS::SageMaker::StudioLifecycleConfig", map[string]any{
			"StudioLifecycleConfigName": name + "-jupyterlab", "StudioLifecycleConfigAppType": "JupyterLab",
		})
	}
	for _, user := range []string{"carol", "dave"} {
		s.has("AWS::SageMaker::UserProfile", map[string]any{
			"UserProfileName": user,
			"Tags":            arrayWith(map[string]any{"Key": "sagegate:scope", "Value": "lob-b"}, map[string]any{"Key": "sagegate:user", "Value": user}),
		})
	}
	for id, lc := range s.resources("AWS::SageMaker::StudioLifecycleConfig") {
		script, err := base64.StdEncoding.DecodeString(lc["StudioLifecycleConfigContent"].(string))
		if err != nil || !strings.HasPrefix(string(script), "#!/bin/bash") || !strings.Contains(string(script), `"cull_idle_timeout"`) {
			t.Errorf("%s: script %q (%v)", id, script, err)
		}
	}
}

// The AWS sample's Deny statement had no effect, so CDK made it an Allow:
// the execution role's denials must be denials.
func TestStudioExecutionRoleDenies(t *testing.T) {
	_, s := synthStudio(t, studioProps(nil))
	denies := 0
	for _, st := range templatecheck.Statements(s.json) {
		if st.Kind != templatecheck.Identity || !strings.Contains(st.Logical, "ExecutionRole") {
			continue
		}
		switch st.Sid {
		case "DenyWorkOutsideVpc", "DenyPresignedUrls":
			denies++
			if st.Effect != "Deny" {
				t.Errorf("%s: %s has effect %q", st.Logical, st.Sid, st.Effect)
			}
		}
		for _, a := range st.Actions {
			if st.Effect == "Allow" && strings.HasPrefix(a, "sagemaker:CreatePresigned") {
				t.Errorf("%s: %s allows %s", st.Logical, st.Sid, a)
			}
		}
		if st.Sid == "DenyWorkOutsideVpc" && cond(st, "Null", "sagemaker:VpcSubnets") != "true" {
			t.Errorf("%s: denies work regardless of VPC: %v", st.Logical, st.Condition)
		}
	}
	if denies != 4 {
		t.Errorf("%d denials, want two for each of the two execution roles", denies)
	}
	// Studio apps of one domain only.
	apps := s.statement(templatecheck.Identity, "StudioAppsAndSpaces")
	for _, r := range apps.Resources {
		if !strings.Contains(r, "${Domain") {
			t.Errorf("apps and spaces on %q, not the domain's", r)
		}
	}
}

func TestStudioECR(t *testing.T) {
	_, s := synthStudio(t, studioProps(func(p *StudioDomainProps) { p.ECR = true; p.Domains = p.Domains[:1] }))
	got := endpointServices(s)
	if got["ecr.api"] != "Interface" || got["ecr.dkr"] != "Interface" {
		t.Errorf("endpoints %v lack ECR", got)
	}
	pull := s.statement(templatecheck.Identity, "PullImages")
	if len(pull.Resources) != 1 || pull.Resources[0] != "arn:aws:ecr:eu-west-1:222222222222:repository/*" {
		t.Errorf("pulls from %v", pull.Resources)
	}
}

func TestStudioRefuses(t *testing.T) {
	for name, tt := range map[string]struct {
		mod  func(*StudioDomainProps)
		want string
	}{
		"a huge VPC":        {func(p *StudioDomainProps) { p.CIDR = "10.0.0.0/8" }, "/16../22"},
		"three zones":       {func(p *StudioDomainProps) { p.AvailabilityZones = append(p.AvailabilityZones, "eu-west-1c") }, "two availability zones"},
		"a short idle time": {func(p *StudioDomainProps) { p.Domains[0].IdleTimeoutMinutes = 30 }, "60..525600"},
		"no domains":        {func(p *StudioDomainProps) { p.Domains = nil }, "at least one domain"},
	} {
		t.Run(name, func(t *testing.T) {
			buildErr(t, func(app awscdk.App) error {
				_, err := NewStudioDomainStack(app, "Studio", studioProps(tt.mod))
				return err
			}, tt.want)
		})
	}
}
