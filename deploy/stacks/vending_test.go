package stacks

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"

	"github.com/sagegate/sagegate/deploy/internal/templatecheck"
)

func vendingProps(account string, mod func(*NotebookVendingProps)) *NotebookVendingProps {
	p := &NotebookVendingProps{
		StackProps:       stackEnv(account),
		Name:             "sagegate/lob-a",
		NotebookRoleName: "sagegate-lob-a-notebook",
		Prefix:           "sagegate-",
		VPCID:            "vpc-0a1b2c3d",
		SubnetID:         "subnet-0a1b2c3d",
		SecurityGroupID:  "sg-0a1b2c3d",
		KeyARN:           "arn:aws:kms:eu-west-1:" + account + ":key/1234abcd-12ab-34cd-56ef-1234567890ab",
		BucketARN:        "arn:aws:s3:::sagegate-lob-a-data",
		InstanceTypes:    []string{"ml.t3.medium", "ml.t3.large"},
		PortfolioName:    "sagegate notebooks",
		LaunchRoleARNs:   []string{"arn:aws:iam::" + account + ":role/data-scientists"},
		GatewayAccount:   gatewayAccount,
		GatewayRegion:    region,
		GatewayName:      "sagegate",
	}
	if mod != nil {
		mod(p)
	}
	return p
}

// synthVending returns the stack's template and the product's.
func synthVending(t *testing.T, p *NotebookVendingProps) (stack, product *synthesized) {
	t.Helper()
	out := t.TempDir()
	v, err := NewNotebookVendingStack(awscdk.NewApp(&awscdk.AppProps{Outdir: &out}), "Vending", p)
	if err != nil {
		t.Fatal(err)
	}
	stack = synth(t, v.Stack)
	stack.secure()
	// The product template is an asset of the stack, not a stack.
	files, _ := filepath.Glob(filepath.Join(out, "*.product.template.json"))
	if len(files) != 1 {
		t.Fatalf("product templates %v", files)
	}
	raw, err := os.ReadFile(files[0])
	if err != nil {
		t.Fatal(err)
	}
	var tmpl map[string]any
	if err := json.Unmarshal(raw, &tmpl); err != nil {
		t.Fatal(err)
	}
	product = &synthesized{t: t, tmpl: assertions.Template_FromJSON(&tmpl, nil), json: tmpl}
	return stack, product
}

func TestVendingInTheGatewayAccount(t *testing.T) {
	s, product := synthVending(t, vendingProps(gatewayAccount, nil))
	events := "arn:aws:lambda:eu-west-1:111111111111:function:sagegate-events"
	s.has("AWS::Events::Rule", map[string]any{
		"EventPattern": map[string]any{
			"source":      []any{"aws.servicecatalog"},
			"detail-type": []any{"AWS API Call via CloudTrail"},
			"detail": map[string]any{
				"eventSource": []any{"servicecatalog.amazonaws.com"}, "eventName": []any{"ProvisionProduct"},
				// Only this portfolio's product.
				"requestParameters": map[string]any{"productId": []any{map[string]any{"Ref": assertions.Match_StringLikeRegexp(jsiiStr("^Product"))}}},
			},
		},
		"Targets": []any{objectLike(map[string]any{"Arn": events})},
	})
	s.has("AWS::Lambda::Permission", map[string]any{
		"FunctionName": events, "Principal": "events.amazonaws.com", "Action": "lambda:InvokeFunction",
	})
	s.has("AWS::ServiceCatalog::Portfolio", map[string]any{"DisplayName": "sagegate notebooks", "ProviderName": "sagegate"})
	s.has("AWS::ServiceCatalog::LaunchRoleConstraint", map[string]any{"RoleArn": assertions.Match_AnyValue()})
	s.has("AWS::ServiceCatalog::PortfolioPrincipalAssociation", map[string]any{
		"PrincipalARN": "arn:aws:iam::111111111111:role/data-scientists", "PrincipalType": "IAM",
	})
	s.has("AWS::SSM::Parameter", map[string]any{"Name": "/sagegate/lob-a/notebooks/subnet-id", "Value": "subnet-0a1b2c3d"})
	s.has("AWS::IAM::Role", map[string]any{"RoleName": "sagegate-lob-a-notebook"})

	launch := s.statement(templatecheck.Identity, "CreateNotebooks")
	if !slices.Equal(launch.Resources, []string{"arn:aws:sagemaker:eu-west-1:111111111111:notebook-instance/sagegate-*"}) ||
		cond(launch, "StringEquals", "sagemaker:DirectInternetAccess") != "Disabled" {
		t.Errorf("launch role creates %v if %v", launch.Resources, launch.Condition)
	}
	pass := s.statement(templatecheck.Identity, "PassNotebookRole")
	if !slices.Equal(pass.Resources, []string{"arn:aws:iam::111111111111:role/sagegate-lob-a-notebook"}) {
		t.Errorf("launch role passes %v", pass.Resources)
	}

	// The product: a notebook in the VPC, without internet or root.
	product.has("AWS::SageMaker::NotebookInstance", map[string]any{
		"DirectInternetAccess":                 "Disabled",
		"RootAccess":                           "Disabled",
		"RoleArn":                              "arn:aws:iam::111111111111:role/sagegate-lob-a-notebook",
		"SubnetId":                             "{{resolve:ssm:/sagegate/lob-a/notebooks/subnet-id}}",
		"SecurityGroupIds":                     []any{"{{resolve:ssm:/sagegate/lob-a/notebooks/security-group-id}}"},
		"KmsKeyId":                             "{{resolve:ssm:/sagegate/lob-a/notebooks/kms-key-arn}}",
		"InstanceMetadataServiceConfiguration": map[string]any{"MinimumInstanceMetadataServiceVersion": "2"},
	})
	product.assert("parameters", func(tmpl assertions.Template) {
		tmpl.HasParameter(jsiiStr("NotebookInstanceName"), map[string]any{"AllowedPattern": "^sagegate-[a-zA-Z0-9](-*[a-zA-Z0-9])*$"})
		tmpl.HasParameter(jsiiStr("InstanceType"), map[string]any{"AllowedValues": []any{"ml.t3.medium", "ml.t3.large"}})
	})
	product.secure()
}

func TestVendingInAnotherAccount(t *testing.T) {
	s, _ := synthVending(t, vendingProps(lobAccount, nil))
	bus := "arn:aws:events:eu-west-1:111111111111:event-bus/default"
	s.has("AWS::Events::Rule", map[string]any{"Targets": []any{objectLike(map[string]any{"Arn": bus, "RoleArn": assertions.Match_AnyValue()})}})
	s.count("AWS::Lambda::Permission", 0)
	put := false
	for _, st := range templatecheck.Statements(s.json) {
		if slices.Contains(st.Actions, "events:PutEvents") {
			put = true
			if !slices.Equal(st.Resources, []string{bus}) {
				t.Errorf("puts events on %v", st.Resources)
			}
		}
	}
	if !put {
		t.Error("nothing may put events on the gateway's bus")
	}
}

func TestVendingRefuses(t *testing.T) {
	buildErr(t, func(app awscdk.App) error {
		_, err := NewNotebookVendingStack(app, "Vending", vendingProps(lobAccount, func(p *NotebookVendingProps) { p.Prefix = "a.*" }))
		return err
	}, "prefix")
	buildErr(t, func(app awscdk.App) error {
		_, err := NewNotebookVendingStack(app, "Vending", vendingProps(lobAccount, func(p *NotebookVendingProps) { p.SubnetID = "" }))
		return err
	}, "SubnetID is required")
}
