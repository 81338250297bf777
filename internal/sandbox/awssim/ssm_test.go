package awssim_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"
)

func (e *env) ssm(region string, creds aws.CredentialsProvider) *ssm.Client {
	return ssm.NewFromConfig(e.config(region, creds), func(o *ssm.Options) {
		o.BaseEndpoint = aws.String(e.apiURL)
	})
}

// TestSSMSecureString drives Parameter Store through the real SSM client:
// a SecureString with a KMS key, Overwrite, and what GetParameter shows
// with and without decryption.
func TestSSMSecureString(t *testing.T) {
	e := newEnv(t)
	c := e.ssm("us-east-1", e.assume(t, roleA, extA, "alice", "alice"))
	ctx := context.Background()
	name := aws.String("/SageMaker/Notebooks/alice-Notebook")

	put, err := c.PutParameter(ctx, &ssm.PutParameterInput{Name: name, Value: aws.String("https://first"),
		Type: ssmtypes.ParameterTypeSecureString, KeyId: aws.String("alias/sagegate")})
	if err != nil {
		t.Fatalf("PutParameter: %v", err)
	}
	if put.Version != 1 {
		t.Errorf("version = %d", put.Version)
	}
	_, err = c.PutParameter(ctx, &ssm.PutParameterInput{Name: name, Value: aws.String("https://second"), Type: ssmtypes.ParameterTypeSecureString})
	var exists *ssmtypes.ParameterAlreadyExists
	if !errors.As(err, &exists) {
		t.Fatalf("second put without Overwrite: want ParameterAlreadyExists, got %T %v", err, err)
	}
	put, err = c.PutParameter(ctx, &ssm.PutParameterInput{Name: name, Value: aws.String("https://second"),
		Type: ssmtypes.ParameterTypeSecureString, KeyId: aws.String("alias/sagegate"), Overwrite: aws.Bool(true)})
	if err != nil || put.Version != 2 {
		t.Fatalf("overwrite: %v, version %d", err, put.Version)
	}

	got, err := c.GetParameter(ctx, &ssm.GetParameterInput{Name: name, WithDecryption: aws.Bool(true)})
	if err != nil {
		t.Fatal(err)
	}
	if p := got.Parameter; aws.ToString(p.Value) != "https://second" || p.Type != ssmtypes.ParameterTypeSecureString || p.Version != 2 ||
		aws.ToString(p.ARN) != "arn:aws:ssm:us-east-1:111111111111:parameter/SageMaker/Notebooks/alice-Notebook" {
		t.Errorf("GetParameter = %+v", p)
	}
	enc, err := c.GetParameter(ctx, &ssm.GetParameterInput{Name: name})
	if err != nil {
		t.Fatal(err)
	}
	if v := aws.ToString(enc.Parameter.Value); strings.Contains(v, "https://second") || v == "" {
		t.Errorf("without decryption the value is %q", v)
	}
	if p, _ := e.sim.Parameter(acctA, "us-east-1", *name); p.KeyID != "alias/sagegate" {
		t.Errorf("stored key = %q", p.KeyID)
	}

	// Parameters are per account.
	_, err = e.ssm("us-east-1", e.assume(t, roleB, "", "carol", "carol")).GetParameter(ctx, &ssm.GetParameterInput{Name: name})
	var nf *ssmtypes.ParameterNotFound
	if !errors.As(err, &nf) {
		t.Errorf("another account: want ParameterNotFound, got %T %v", err, err)
	}
	// Refusals AWS makes.
	for _, in := range []ssm.PutParameterInput{
		{Name: aws.String("/aws/reserved"), Value: aws.String("x"), Type: ssmtypes.ParameterTypeString},
		{Name: aws.String("no/leading-slash"), Value: aws.String("x"), Type: ssmtypes.ParameterTypeString},
		{Name: aws.String("/plain"), Value: aws.String("x"), Type: ssmtypes.ParameterTypeString, KeyId: aws.String("alias/k")},
	} {
		_, err := c.PutParameter(ctx, &in)
		wantAPIError(t, err, "ValidationException", 400)
	}
	if _, err := c.DeleteParameter(ctx, &ssm.DeleteParameterInput{Name: name}); err != nil {
		t.Fatal(err)
	}
	if n := e.sim.Calls().Count("ssm", "PutParameter", acctA); n != 6 {
		t.Errorf("PutParameter calls = %d, want 6", n)
	}
}

// TestSSMRefusals checks that each of Parameter Store's rules refuses with
// its own code and message, and that a refused value is never echoed.
func TestSSMRefusals(t *testing.T) {
	e := newEnv(t)
	c := e.ssm("us-east-1", e.assume(t, roleA, extA, "alice", "alice"))
	ctx := context.Background()
	if _, err := c.PutParameter(ctx, &ssm.PutParameterInput{Name: aws.String("/typed"), Value: aws.String("x"), Type: ssmtypes.ParameterTypeString}); err != nil {
		t.Fatal(err)
	}
	secret := strings.Repeat("s", 4097)
	tests := []struct {
		name string
		in   ssm.PutParameterInput
		code string
		msg  string
	}{
		{"forbidden character", ssm.PutParameterInput{Name: aws.String("/has space"), Value: aws.String("x"), Type: ssmtypes.ParameterTypeString},
			"ValidationException", "It must use only letters, numbers, or the following symbols"},
		{"reserved prefix", ssm.PutParameterInput{Name: aws.String("/aws/reserved"), Value: aws.String("x"), Type: ssmtypes.ParameterTypeString},
			"ValidationException", "No access to reserved parameter name: /aws/reserved."},
		{"relative path", ssm.PutParameterInput{Name: aws.String("no/leading-slash"), Value: aws.String("x"), Type: ssmtypes.ParameterTypeString},
			"ValidationException", "must be a fully qualified name"},
		{"too deep", ssm.PutParameterInput{Name: aws.String(strings.Repeat("/l", 16)), Value: aws.String("x"), Type: ssmtypes.ParameterTypeString},
			"HierarchyLevelLimitExceededException", "maximum of 15 levels"},
		{"value too long", ssm.PutParameterInput{Name: aws.String("/long"), Value: aws.String(secret), Type: ssmtypes.ParameterTypeSecureString},
			"ValidationException", "Value null at 'value' failed to satisfy constraint: Member must have length less than or equal to 4096"},
		{"no type on create", ssm.PutParameterInput{Name: aws.String("/untyped"), Value: aws.String("x")},
			"ValidationException", "A parameter type is required"},
		{"type change", ssm.PutParameterInput{Name: aws.String("/typed"), Value: aws.String("x"), Type: ssmtypes.ParameterTypeSecureString, Overwrite: aws.Bool(true)},
			"ValidationException", "can't change the type of an existing parameter (String)"},
		{"tags with overwrite", ssm.PutParameterInput{Name: aws.String("/typed"), Value: aws.String("x"), Overwrite: aws.Bool(true),
			Tags: []ssmtypes.Tag{{Key: aws.String("k"), Value: aws.String("v")}}},
			"ValidationException", "tags and overwrite can't be used together"},
		{"KMS key on a String", ssm.PutParameterInput{Name: aws.String("/plain"), Value: aws.String("x"), Type: ssmtypes.ParameterTypeString, KeyId: aws.String("alias/k")},
			"ValidationException", "KeyId can only be used with the SecureString type."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := c.PutParameter(ctx, &tt.in)
			wantContains(t, wantAPIError(t, err, tt.code, 400), tt.msg)
		})
	}
	if strings.Contains(e.logs.String(), secret) {
		t.Error("a refused parameter value reached the log")
	}
	if p, _ := e.sim.Parameter(acctA, "", "/typed"); p.Type != "String" || p.Version != 1 {
		t.Errorf("refused overwrites changed /typed: %+v", p)
	}
	_, err := c.DeleteParameter(ctx, &ssm.DeleteParameterInput{Name: aws.String("/never-put")})
	var nf *ssmtypes.ParameterNotFound
	if !errors.As(err, &nf) {
		t.Errorf("delete of a missing parameter: want ParameterNotFound, got %T %v", err, err)
	}
}
