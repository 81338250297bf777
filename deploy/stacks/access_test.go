package stacks

import (
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"

	"github.com/sagegate/sagegate/deploy/internal/templatecheck"
)

const gatewayRole = "arn:aws:iam::111111111111:role/sagegate-gateway"

func accessProps(mod func(*AccessRoleProps)) *AccessRoleProps {
	p := &AccessRoleProps{
		StackProps:     stackEnv(lobAccount),
		RoleName:       "sagegate-access",
		GatewayRoleARN: gatewayRole,
		ExternalID:     "sagegate-lob-b",
		DomainIDs:      []string{"d-abc123", "d-def456"},
	}
	if mod != nil {
		mod(p)
	}
	return p
}

func synthAccess(t *testing.T, p *AccessRoleProps) *synthesized {
	t.Helper()
	s, err := NewAccessRoleStack(newApp(t), "Access", p)
	if err != nil {
		t.Fatal(err)
	}
	out := synth(t, s.Stack)
	out.secure()
	return out
}

func cond(s templatecheck.Statement, op, key string) any {
	m, _ := s.Condition[op].(map[string]any)
	return m[key]
}

func TestAccessRoleTrustsOnlyTheGateway(t *testing.T) {
	s := synthAccess(t, accessProps(func(p *AccessRoleProps) { p.OrganizationID = "o-abcdefghij" }))
	s.has("AWS::IAM::Role", map[string]any{"RoleName": "sagegate-access", "MaxSessionDuration": 3600})

	var actions []string
	for _, st := range templatecheck.Statements(s.json) {
		if st.Kind != templatecheck.Trust {
			continue
		}
		actions = append(actions, st.Actions...)
		if st.Effect != "Allow" || len(st.Principals) != 1 || !slices.Equal(st.Principals["AWS"], []string{gatewayRole}) {
			t.Errorf("trust %v: principals %v", st.Actions, st.Principals)
		}
		if cond(st, "StringEquals", "sts:ExternalId") != "sagegate-lob-b" || cond(st, "StringEquals", "aws:PrincipalOrgID") != "o-abcdefghij" {
			t.Errorf("trust %v: conditions %v", st.Actions, st.Condition)
		}
	}
	slices.Sort(actions)
	if !slices.Equal(actions, []string{"sts:AssumeRole", "sts:SetSourceIdentity"}) {
		t.Errorf("trusted actions %v", actions)
	}
}

func TestAccessRoleScopedToDomains(t *testing.T) {
	s := synthAccess(t, accessProps(nil))
	profiles := []string{
		"arn:aws:sagemaker:eu-west-1:222222222222:user-profile/d-abc123/*",
		"arn:aws:sagemaker:eu-west-1:222222222222:user-profile/d-def456/*",
	}
	if got := s.statement(templatecheck.Identity, "PresignStudio"); !slices.Equal(got.Resources, profiles) || len(got.Condition) > 0 {
		t.Errorf("presign on %v if %v", got.Resources, got.Condition)
	}
	describe := s.statement(templatecheck.Identity, "DescribeStudio")
	want := append([]string{
		"arn:aws:sagemaker:eu-west-1:222222222222:domain/d-abc123",
		"arn:aws:sagemaker:eu-west-1:222222222222:domain/d-def456",
	}, profiles...)
	if !slices.Equal(describe.Resources, want) {
		t.Errorf("describe on %v, want %v", describe.Resources, want)
	}
	if got := s.statement(templatecheck.Identity, "ListDomains"); !slices.Equal(got.Resources, []string{"*"}) {
		t.Errorf("list on %v", got.Resources)
	}
	// Nothing else unless asked for.
	for _, sid := range []string{"CreateUserProfiles", "OpenNotebooks", "CreateNotebooks", "PassNotebookRole"} {
		if s.hasStatement(templatecheck.Identity, sid) {
			t.Errorf("%s granted without being enabled", sid)
		}
	}
}

func TestAccessRoleScopedToTags(t *testing.T) {
	s := synthAccess(t, accessProps(func(p *AccessRoleProps) {
		p.DomainIDs, p.ResourceTag, p.CreateUserProfiles = nil, &Tag{Key: "sagegate:scope", Value: "lob-b"}, true
	}))
	for _, sid := range []string{"PresignStudio", "DescribeStudio"} {
		st := s.statement(templatecheck.Identity, sid)
		if cond(st, "StringEquals", "aws:ResourceTag/sagegate:scope") != "lob-b" {
			t.Errorf("%s not limited to the tag: %v", sid, st.Condition)
		}
		for _, r := range st.Resources {
			if !strings.HasPrefix(r, "arn:aws:sagemaker:eu-west-1:222222222222:") {
				t.Errorf("%s on %q, outside the account", sid, r)
			}
		}
	}
	// A profile the gateway creates must carry the tag, or it could not
	// open it afterwards.
	create := s.statement(templatecheck.Identity, "CreateUserProfiles")
	if cond(create, "StringEquals", "aws:RequestTag/sagegate:scope") != "lob-b" {
		t.Errorf("profiles created without the tag: %v", create.Condition)
	}
}

func TestAccessRoleJustInTimeProfiles(t *testing.T) {
	exec := "arn:aws:iam::222222222222:role/studio-execution"
	s := synthAccess(t, accessProps(func(p *AccessRoleProps) { p.CreateUserProfiles, p.ExecutionRoleARNs = true, []string{exec} }))
	for sid, want := range map[string][]string{
		"CreateUserProfiles": {
			"arn:aws:sagemaker:eu-west-1:222222222222:user-profile/d-abc123/*",
			"arn:aws:sagemaker:eu-west-1:222222222222:user-profile/d-def456/*",
		},
		"CreatePrivateSpaces": {
			"arn:aws:sagemaker:eu-west-1:222222222222:space/d-abc123/*",
			"arn:aws:sagemaker:eu-west-1:222222222222:space/d-def456/*",
		},
		"PassExecutionRoles": {exec},
	} {
		if got := s.statement(templatecheck.Identity, sid); !slices.Equal(got.Resources, want) {
			t.Errorf("%s on %v, want %v", sid, got.Resources, want)
		}
	}
	pass := s.statement(templatecheck.Identity, "PassExecutionRoles")
	if cond(pass, "StringEquals", "iam:PassedToService") != "sagemaker.amazonaws.com" {
		t.Errorf("the execution role may be passed to anything: %v", pass.Condition)
	}
}

func TestAccessRoleSourceVpce(t *testing.T) {
	endpoints := []string{"vpce-0a1b2c3d4e5f60718", "vpce-0a1b2c3d4e5f60719"}
	s := synthAccess(t, accessProps(func(p *AccessRoleProps) {
		p.SourceVPCEndpointIDs, p.Notebooks, p.NotebookPrefix = endpoints, true, "sagegate-"
	}))
	n := 0
	for _, st := range templatecheck.Statements(s.json) {
		if st.Kind != templatecheck.Identity || !strings.HasPrefix(st.Actions[0], "sagemaker:") {
			continue
		}
		n++
		got, _ := cond(st, "StringEquals", "aws:SourceVpce").([]any)
		if len(got) != 2 || got[0] != endpoints[0] || got[1] != endpoints[1] {
			t.Errorf("%s without the VPC endpoint condition: %v", st.Sid, st.Condition)
		}
	}
	if n < 5 {
		t.Errorf("only %d SageMaker statements checked", n)
	}
}

func TestAccessRoleNotebooks(t *testing.T) {
	notebookRole := "arn:aws:iam::222222222222:role/sagegate-lob-b-notebook"
	s := synthAccess(t, accessProps(func(p *AccessRoleProps) {
		p.Notebooks, p.NotebookPrefix, p.NotebookRoleARN = true, "Team-B-", notebookRole
	}))
	// SageMaker lower-cases notebook names in ARNs.
	want := []string{"arn:aws:sagemaker:eu-west-1:222222222222:notebook-instance/team-b-*"}
	for _, sid := range []string{"OpenNotebooks", "CreateNotebooks", "TagNotebooks"} {
		if got := s.statement(templatecheck.Identity, sid); !slices.Equal(got.Resources, want) {
			t.Errorf("%s on %v, want %v", sid, got.Resources, want)
		}
	}
	create := s.statement(templatecheck.Identity, "CreateNotebooks")
	if cond(create, "StringEquals", "sagemaker:DirectInternetAccess") != "Disabled" ||
		cond(create, "StringEquals", "sagemaker:RootAccess") != "Disabled" ||
		cond(create, "Null", "sagemaker:VpcSubnets") != "false" {
		t.Errorf("notebooks may be created outside the VPC or with root: %v", create.Condition)
	}
	pass := s.statement(templatecheck.Identity, "PassNotebookRole")
	if !slices.Equal(pass.Resources, []string{notebookRole}) || cond(pass, "StringEquals", "iam:PassedToService") != "sagemaker.amazonaws.com" {
		t.Errorf("passes %v if %v", pass.Resources, pass.Condition)
	}
}

func TestAccessRoleRefuses(t *testing.T) {
	for name, tt := range map[string]struct {
		mod  func(*AccessRoleProps)
		want string
	}{
		"a wildcard principal": {func(p *AccessRoleProps) { p.GatewayRoleARN = "arn:aws:iam::*:role/sagegate-gateway" }, "without wildcards"},
		"no scope":             {func(p *AccessRoleProps) { p.DomainIDs = nil }, "either DomainIDs or ResourceTag"},
		"two scopes":           {func(p *AccessRoleProps) { p.ResourceTag = &Tag{Key: "k", Value: "v"} }, "either DomainIDs or ResourceTag"},
		"no external id":       {func(p *AccessRoleProps) { p.ExternalID = "" }, "ExternalID are required"},
		"no environment":       {func(p *AccessRoleProps) { p.Env = nil }, "explicit Env"},
		"notebooks, no prefix": {func(p *AccessRoleProps) { p.Notebooks = true }, "NotebookPrefix"},
	} {
		t.Run(name, func(t *testing.T) {
			buildErr(t, func(app awscdk.App) error {
				_, err := NewAccessRoleStack(app, "Access", accessProps(tt.mod))
				return err
			}, tt.want)
		})
	}
}

// Opening notebooks alone still reads and writes the last-launch tag the
// reaper uses; publishing to SSM is scoped to the sample's parameter path.
func TestAccessRoleNotebookTagsAndParameters(t *testing.T) {
	key := "arn:aws:kms:eu-west-1:222222222222:key/1234abcd-12ab-34cd-56ef-1234567890ab"
	s := synthAccess(t, accessProps(func(p *AccessRoleProps) {
		p.Notebooks, p.NotebookPrefix, p.PublishNotebookURLs, p.ParameterKeyARN = true, "nb-", true, key
	}))
	open := s.statement(templatecheck.Identity, "OpenNotebooks")
	if !slices.Contains(open.Actions, "sagemaker:ListTags") {
		t.Errorf("OpenNotebooks lacks ListTags: %v", open.Actions)
	}
	want := []string{"arn:aws:sagemaker:eu-west-1:222222222222:notebook-instance/nb-*"}
	if tag := s.statement(templatecheck.Identity, "TagNotebooks"); !slices.Equal(tag.Resources, want) {
		t.Errorf("TagNotebooks on %v, want %v", tag.Resources, want)
	}
	pub := s.statement(templatecheck.Identity, "PublishNotebookURLs")
	if !slices.Equal(pub.Resources, []string{"arn:aws:ssm:eu-west-1:222222222222:parameter/SageMaker/Notebooks/*"}) {
		t.Errorf("PublishNotebookURLs on %v", pub.Resources)
	}
	enc := s.statement(templatecheck.Identity, "EncryptNotebookURLs")
	if !slices.Equal(enc.Resources, []string{key}) || cond(enc, "StringEquals", "kms:ViaService") != "ssm.eu-west-1.amazonaws.com" {
		t.Errorf("EncryptNotebookURLs on %v if %v", enc.Resources, enc.Condition)
	}
}
