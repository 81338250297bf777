package awssim_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

func TestAssumeRoleIssuesCredentialsAndRecordsSourceIdentity(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	out, err := e.sts(gatewayCreds()).AssumeRole(ctx, &sts.AssumeRoleInput{
		RoleArn:         aws.String(roleA),
		RoleSessionName: aws.String("sagegate-alice"),
		ExternalId:      aws.String(extA),
		SourceIdentity:  aws.String("alice@example.com"),
		DurationSeconds: aws.Int32(900),
	})
	if err != nil {
		t.Fatalf("AssumeRole: %v", err)
	}
	c := out.Credentials
	if !strings.HasPrefix(*c.AccessKeyId, "ASIA") || len(*c.AccessKeyId) != 20 {
		t.Errorf("AccessKeyId = %q, want ASIA + 16 characters", *c.AccessKeyId)
	}
	if *c.SecretAccessKey == "" || *c.SessionToken == "" {
		t.Error("secret or session token empty")
	}
	if want := e.clock.Now().Add(900 * time.Second); !c.Expiration.Equal(want) {
		t.Errorf("Expiration = %v, want %v", c.Expiration, want)
	}
	if got, want := *out.AssumedRoleUser.Arn, "arn:aws:sts::111111111111:assumed-role/sagegate-access/sagegate-alice"; got != want {
		t.Errorf("assumed role ARN = %q, want %q", got, want)
	}
	if !strings.HasPrefix(*out.AssumedRoleUser.AssumedRoleId, "AROA") || !strings.HasSuffix(*out.AssumedRoleUser.AssumedRoleId, ":sagegate-alice") {
		t.Errorf("AssumedRoleId = %q", *out.AssumedRoleUser.AssumedRoleId)
	}
	if out.SourceIdentity == nil || *out.SourceIdentity != "alice@example.com" {
		t.Errorf("SourceIdentity = %v", out.SourceIdentity)
	}

	// The temporary credentials act as the assumed role.
	temp := aws.NewCredentialsCache(aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
		return aws.Credentials{AccessKeyID: *c.AccessKeyId, SecretAccessKey: *c.SecretAccessKey, SessionToken: *c.SessionToken}, nil
	}))
	who, err := e.sts(temp).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		t.Fatalf("GetCallerIdentity: %v", err)
	}
	if *who.Account != acctA || *who.Arn != *out.AssumedRoleUser.Arn || *who.UserId != *out.AssumedRoleUser.AssumedRoleId {
		t.Errorf("caller identity = %s %s %s", *who.Account, *who.Arn, *who.UserId)
	}

	calls := e.sim.Calls()
	if n := calls.Count("sts", "AssumeRole", acctA); n != 1 {
		t.Errorf("AssumeRole count for %s = %d, want 1", acctA, n)
	}
	if n := calls.Count("sts", "GetCallerIdentity", acctA); n != 1 {
		t.Errorf("GetCallerIdentity count = %d, want 1", n)
	}
	rec := e.sim.CallLog()[0]
	if rec.Operation != "AssumeRole" || rec.Account != acctA || rec.Caller != gatewayARN || rec.RoleARN != roleA ||
		rec.RoleSessionName != "sagegate-alice" || rec.SourceIdentity != "alice@example.com" || rec.Error != "" {
		t.Errorf("call record = %+v", rec)
	}
}

func TestAssumeRoleWithPathAndLongSession(t *testing.T) {
	e := newEnv(t)
	out, err := e.sts(gatewayCreds()).AssumeRole(context.Background(), &sts.AssumeRoleInput{
		RoleArn:         aws.String(roleB),
		RoleSessionName: aws.String("carol"),
		DurationSeconds: aws.Int32(43200),
	})
	if err != nil {
		t.Fatalf("AssumeRole: %v", err)
	}
	// The assumed-role ARN carries the role name without its path.
	if got, want := *out.AssumedRoleUser.Arn, "arn:aws:sts::222222222222:assumed-role/sagegate-access/carol"; got != want {
		t.Errorf("ARN = %q, want %q", got, want)
	}
	if out.SourceIdentity != nil {
		t.Errorf("SourceIdentity = %q, want none", *out.SourceIdentity)
	}
}

func TestAssumeRoleAccessDenied(t *testing.T) {
	cases := []struct {
		name, role, externalID, account string
	}{
		{"external id mismatch", roleA, "wrong-external-id", acctA},
		{"external id missing", roleA, "", acctA},
		{"caller account not trusted", roleC, "", acctC},
		{"role does not exist", "arn:aws:iam::111111111111:role/nope", extA, acctA},
		{"role path differs", "arn:aws:iam::222222222222:role/sagegate-access", "", acctB},
		{"account does not exist", "arn:aws:iam::555555555555:role/sagegate-access", "", "555555555555"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			in := &sts.AssumeRoleInput{RoleArn: aws.String(tc.role), RoleSessionName: aws.String("alice")}
			if tc.externalID != "" {
				in.ExternalId = aws.String(tc.externalID)
			}
			_, err := e.sts(gatewayCreds()).AssumeRole(context.Background(), in)
			msg := wantAPIError(t, err, "AccessDenied", 403)
			wantContains(t, msg, "User: "+gatewayARN+" is not authorized to perform: sts:AssumeRole on resource: "+tc.role)
			if n := e.sim.Calls().Count("sts", "AssumeRole", tc.account); n != 1 {
				t.Errorf("failed AssumeRole counted %d times under %s, want 1", n, tc.account)
			}
			if rec := e.sim.CallLog()[0]; rec.Error != "AccessDenied" {
				t.Errorf("logged error = %q", rec.Error)
			}
		})
	}
}

func TestAssumeRoleValidation(t *testing.T) {
	long := strings.Repeat("a", 65)
	cases := []struct {
		name   string
		in     sts.AssumeRoleInput
		substr string
	}{
		{"session name with space", sts.AssumeRoleInput{RoleSessionName: aws.String("alice smith")}, "at 'roleSessionName' failed to satisfy constraint: Member must satisfy regular expression pattern"},
		{"session name too short", sts.AssumeRoleInput{RoleSessionName: aws.String("a")}, "Member must have length greater than or equal to 2"},
		{"session name too long", sts.AssumeRoleInput{RoleSessionName: aws.String(long)}, "Member must have length less than or equal to 64"},
		{"duration too short", sts.AssumeRoleInput{DurationSeconds: aws.Int32(899)}, "Value '899' at 'durationSeconds'"},
		{"duration too long", sts.AssumeRoleInput{DurationSeconds: aws.Int32(43201)}, "Member must have value less than or equal to 43200"},
		{"duration above role maximum", sts.AssumeRoleInput{DurationSeconds: aws.Int32(3601)}, "exceeds the MaxSessionDuration"},
		{"source identity with colon", sts.AssumeRoleInput{SourceIdentity: aws.String("aws:alice")}, "at 'sourceIdentity'"},
		{"source identity too long", sts.AssumeRoleInput{SourceIdentity: aws.String(long)}, "at 'sourceIdentity'"},
		{"external id too short", sts.AssumeRoleInput{ExternalId: aws.String("x")}, "at 'externalId'"},
		{"malformed role ARN", sts.AssumeRoleInput{RoleArn: aws.String("arn:aws:iam::1234:role/x")}, "is invalid"},
		{"role ARN too short", sts.AssumeRoleInput{RoleArn: aws.String("arn:aws:iam")}, "at 'roleArn'"},
		{"two errors", sts.AssumeRoleInput{RoleSessionName: aws.String("a b"), DurationSeconds: aws.Int32(1)}, "2 validation errors detected"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			in := tc.in
			if in.RoleArn == nil {
				in.RoleArn = aws.String(roleA)
			}
			if in.RoleSessionName == nil {
				in.RoleSessionName = aws.String("alice")
			}
			if in.ExternalId == nil {
				in.ExternalId = aws.String(extA)
			}
			_, err := e.sts(gatewayCreds()).AssumeRole(context.Background(), &in)
			wantContains(t, wantAPIError(t, err, "ValidationError", 400), tc.substr)
		})
	}
}

func TestRoleChaining(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	first := e.assume(t, roleB, "", "carol", "carol@example.com")

	// Chained sessions are capped at one hour whatever the role allows.
	_, err := e.sts(first).AssumeRole(ctx, &sts.AssumeRoleInput{
		RoleArn: aws.String(roleMany), RoleSessionName: aws.String("carol"), DurationSeconds: aws.Int32(3601),
	})
	wantContains(t, wantAPIError(t, err, "ValidationError", 400), "role chaining")

	// The source identity cannot be changed along the chain...
	_, err = e.sts(first).AssumeRole(ctx, &sts.AssumeRoleInput{
		RoleArn: aws.String(roleMany), RoleSessionName: aws.String("carol"), SourceIdentity: aws.String("mallory"),
	})
	wantAPIError(t, err, "AccessDenied", 403)

	// ...and is inherited when not given.
	out, err := e.sts(first).AssumeRole(ctx, &sts.AssumeRoleInput{
		RoleArn: aws.String(roleMany), RoleSessionName: aws.String("carol"),
	})
	if err != nil {
		t.Fatalf("chained AssumeRole: %v", err)
	}
	if out.SourceIdentity == nil || *out.SourceIdentity != "carol@example.com" {
		t.Errorf("chained SourceIdentity = %v, want inherited", out.SourceIdentity)
	}
	if rec := e.sim.CallLog()[3]; rec.Caller != "arn:aws:sts::222222222222:assumed-role/sagegate-access/carol" || rec.Account != acctMany {
		t.Errorf("chained call record = %+v", rec)
	}
}
