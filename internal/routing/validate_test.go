package routing

import (
	"errors"
	"strings"
	"testing"
	"time"
)

// validLOB is a normalised LOB that passes Validate; cases change one field.
func validLOB() LOB {
	return LOB{
		Name:            "lob-a",
		AccountID:       "123456789012",
		Region:          "us-east-1",
		DomainID:        "d-abc123def456",
		RoleARN:         "arn:aws:iam::123456789012:role/sagegate-access",
		ExternalID:      "ext-id_01",
		ProfileRule:     ProfileRuleSanitized,
		SessionDuration: Duration(12 * time.Hour),
		URLLifetime:     Duration(5 * time.Second),
	}
}

func TestLOBValidate(t *testing.T) {
	tests := []struct {
		name   string
		change func(l *LOB)
		want   []string // prefixes of the expected messages, in order; nil = valid
	}{
		{name: "valid", change: func(*LOB) {}},
		{name: "valid with every option", change: func(l *LOB) {
			l.Name = "lob.a_1-x"
			l.Region = "us-gov-west-1"
			l.RoleARN = "arn:aws-us-gov:iam::123456789012:role/team/sub/access+role=1,x.y@z"
			l.ProfileRule = ProfileRuleEmailLocal
			l.SessionDuration = Duration(1800 * time.Second)
			l.URLLifetime = Duration(300 * time.Second)
			l.Space = "shared--space"
			l.LandingURI = "app:CodeEditor:home/src"
			l.Label = "Any label, at all"
		}},
		{name: "china partition", change: func(l *LOB) {
			l.Region = "cn-northwest-1"
			l.RoleARN = "arn:aws-cn:iam::123456789012:role/r"
		}},
		{name: "studio landing uri", change: func(l *LOB) { l.LandingURI = "studio::" }},

		{name: "name missing", change: func(l *LOB) { l.Name = "" }, want: []string{"name: required"}},
		{name: "name uppercase", change: func(l *LOB) { l.Name = "LOB-A" }, want: []string{"name: must be"}},
		{name: "name slash", change: func(l *LOB) { l.Name = "a/b" }, want: []string{"name: must be"}},
		{name: "name leading dot", change: func(l *LOB) { l.Name = ".a" }, want: []string{"name: must be"}},
		{name: "name too long", change: func(l *LOB) { l.Name = strings.Repeat("a", 64) }, want: []string{"name: must be"}},
		{name: "name longest", change: func(l *LOB) { l.Name = strings.Repeat("a", 63) }},

		{name: "account short", change: func(l *LOB) {
			l.AccountID = "12345678901"
			l.RoleARN = "arn:aws:iam::12345678901:role/r"
		}, want: []string{"accountId: must be 12 digits"}},
		{name: "account letters", change: func(l *LOB) {
			l.AccountID = "12345678901a"
			l.RoleARN = "arn:aws:iam::12345678901a:role/r"
		}, want: []string{"accountId: must be 12 digits"}},
		{name: "account mangled by YAML", change: func(l *LOB) {
			l.AccountID = "1.2345679e+10"
			l.RoleARN = "arn:aws:iam::1.2345679e+10:role/r"
		}, want: []string{"accountId: must be 12 digits (quote it in YAML)"}},
		{name: "account missing", change: func(l *LOB) {
			l.AccountID = ""
			l.RoleARN = "arn:aws:iam:::role/r"
		}, want: []string{"accountId: required"}},

		{name: "region missing", change: func(l *LOB) { l.Region = "" }, want: []string{"region: required"}},
		{name: "region bad", change: func(l *LOB) { l.Region = "useast1" }, want: []string{"region: must be an AWS region"}},
		{name: "region upper", change: func(l *LOB) { l.Region = "US-EAST-1" }, want: []string{"region: must be an AWS region"}},

		{name: "domain missing is discovered", change: func(l *LOB) { l.DomainID = "" }},
		{name: "private space", change: func(l *LOB) { l.PrivateSpace = true }},
		{name: "jit with execution role", change: func(l *LOB) {
			l.JITProfiles = true
			l.ExecutionRole = "arn:aws:iam::123456789012:role/service-role/SageMakerExec"
		}},
		{name: "private and shared space", change: func(l *LOB) {
			l.PrivateSpace = true
			l.Space = "shared"
		}, want: []string{"privateSpace: cannot be combined"}},
		{name: "execution role without jit", change: func(l *LOB) {
			l.ExecutionRole = "arn:aws:iam::123456789012:role/exec"
		}, want: []string{"executionRole: is only used"}},
		{name: "execution role of another account", change: func(l *LOB) {
			l.JITProfiles = true
			l.ExecutionRole = "arn:aws:iam::999999999999:role/exec"
		}, want: []string{"executionRole: account"}},
		{name: "execution role not an arn", change: func(l *LOB) {
			l.JITProfiles = true
			l.ExecutionRole = "exec"
		}, want: []string{"executionRole: must be a role ARN"}},
		{name: "domain no prefix", change: func(l *LOB) { l.DomainID = "abc123" }, want: []string{"domainId: must be"}},
		{name: "domain upper", change: func(l *LOB) { l.DomainID = "d-ABC" }, want: []string{"domainId: must be"}},
		{name: "domain trailing hyphen", change: func(l *LOB) { l.DomainID = "d-abc-" }, want: []string{"domainId: must be"}},
		{name: "domain too long", change: func(l *LOB) { l.DomainID = "d-" + strings.Repeat("a", 62) }, want: []string{"domainId: must be"}},
		{name: "domain longest", change: func(l *LOB) { l.DomainID = "d-" + strings.Repeat("a", 61) }},

		{name: "role missing", change: func(l *LOB) { l.RoleARN = "" }, want: []string{"roleArn: required"}},
		{name: "role not an arn", change: func(l *LOB) { l.RoleARN = "arn:aws:s3:::bucket" }, want: []string{"roleArn: must be arn:"}},
		{name: "role other account", change: func(l *LOB) { l.RoleARN = "arn:aws:iam::999999999999:role/r" }, want: []string{`roleArn: account "999999999999" does not match accountId`}},
		{name: "role bad partition", change: func(l *LOB) { l.RoleARN = "arn:aws-iso:iam::123456789012:role/r" }, want: []string{"roleArn: partition must be"}},
		{name: "role partition vs region", change: func(l *LOB) { l.RoleARN = "arn:aws-cn:iam::123456789012:role/r" }, want: []string{`roleArn: partition "aws-cn" does not match region`}},
		{name: "role name missing", change: func(l *LOB) { l.RoleARN = "arn:aws:iam::123456789012:role/" }, want: []string{"roleArn: role"}},
		{name: "role name bad char", change: func(l *LOB) { l.RoleARN = "arn:aws:iam::123456789012:role/a*b" }, want: []string{"roleArn: role"}},
		{name: "role name too long", change: func(l *LOB) { l.RoleARN = "arn:aws:iam::123456789012:role/" + strings.Repeat("r", 65) }, want: []string{"roleArn: role"}},

		{name: "external id short", change: func(l *LOB) { l.ExternalID = "x" }, want: []string{"externalId: must be 2 to 1224"}},
		{name: "external id long", change: func(l *LOB) { l.ExternalID = strings.Repeat("x", 1225) }, want: []string{"externalId: must be 2 to 1224"}},
		{name: "external id max", change: func(l *LOB) { l.ExternalID = strings.Repeat("x", 1224) }},
		{name: "external id bad char", change: func(l *LOB) { l.ExternalID = "abc def" }, want: []string{"externalId: must be"}},

		{name: "profile rule unknown", change: func(l *LOB) { l.ProfileRule = "upper" }, want: []string{"profileRule: must be one of"}},
		{name: "profile rule empty", change: func(l *LOB) { l.ProfileRule = "" }, want: []string{"profileRule: must be one of"}},

		{name: "session too short", change: func(l *LOB) { l.SessionDuration = Duration(1799 * time.Second) }, want: []string{"sessionDuration: must be between 30m and 12h, got 29m59s"}},
		{name: "session too long", change: func(l *LOB) { l.SessionDuration = Duration(43201 * time.Second) }, want: []string{"sessionDuration: must be between"}},
		{name: "session fractional", change: func(l *LOB) { l.SessionDuration = Duration(time.Hour + time.Millisecond) }, want: []string{"sessionDuration: must be whole seconds"}},
		{name: "session zero", change: func(l *LOB) { l.SessionDuration = 0 }, want: []string{"sessionDuration: must be between"}},

		{name: "url lifetime too short", change: func(l *LOB) { l.URLLifetime = Duration(4 * time.Second) }, want: []string{"urlLifetime: must be between 5s and 5m"}},
		{name: "url lifetime too long", change: func(l *LOB) { l.URLLifetime = Duration(301 * time.Second) }, want: []string{"urlLifetime: must be between"}},
		{name: "url lifetime fractional", change: func(l *LOB) { l.URLLifetime = Duration(5500 * time.Millisecond) }, want: []string{"urlLifetime: must be whole seconds"}},

		{name: "space bad", change: func(l *LOB) { l.Space = "my_space" }, want: []string{"space: must be"}},
		{name: "space too long", change: func(l *LOB) { l.Space = strings.Repeat("s", 64) }, want: []string{"space: must be"}},

		{name: "landing uri unknown app", change: func(l *LOB) { l.LandingURI = "app:VSCode:x" }, want: []string{"landingUri: must be"}},
		{name: "landing uri not a uri", change: func(l *LOB) { l.LandingURI = "https://example.com" }, want: []string{"landingUri: must be"}},
		{name: "landing uri whitespace", change: func(l *LOB) { l.LandingURI = "studio::a b" }, want: []string{"landingUri: must be"}},

		{name: "many problems at once", change: func(l *LOB) {
			l.Name = "Bad Name"
			l.AccountID = "123"
			l.Region = "mars"
			l.DomainID = "x"
			l.RoleARN = "arn:aws:iam::999999999999:role/r"
			l.ExternalID = "!"
			l.ProfileRule = "nope"
			l.SessionDuration = Duration(time.Second)
			l.URLLifetime = Duration(time.Hour)
			l.Space = "-"
			l.LandingURI = "nope"
		}, want: []string{
			"name: ", "accountId: ", "region: ", "domainId: ", "roleArn: account", "externalId: ",
			"profileRule: ", "sessionDuration: ", "urlLifetime: ", "space: ", "landingUri: ",
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			l := validLOB()
			tc.change(&l)
			errs := l.Validate()
			if len(errs) != len(tc.want) {
				t.Fatalf("Validate() = %v, want %d errors starting %q", errs, len(tc.want), tc.want)
			}
			for i, err := range errs {
				if !strings.HasPrefix(err.Error(), tc.want[i]) {
					t.Errorf("error %d = %q, want prefix %q", i, err, tc.want[i])
				}
				var fe *FieldError
				if !errors.As(err, &fe) || fe.Field == "" {
					t.Errorf("error %d = %#v, want a *FieldError with a field", i, err)
				}
			}
		})
	}
}

func TestLOBValidateHidesExternalID(t *testing.T) {
	l := validLOB()
	l.ExternalID = "secret value"
	for _, err := range l.Validate() {
		if strings.Contains(err.Error(), "secret value") {
			t.Errorf("error %q echoes the external id", err)
		}
	}
}

func TestUserValidate(t *testing.T) {
	tests := []struct {
		name string
		user User
		want []string
	}{
		{name: "valid", user: User{Name: "bob@example.com", LOBs: []string{"a"}, Profile: "bob"}},
		{name: "no lobs is fine", user: User{Name: "bob"}},
		{name: "name missing", user: User{}, want: []string{"name: required"}},
		{name: "bad profile", user: User{Name: "bob", Profile: "bob.smith"}, want: []string{"profile: must be"}},
		{name: "empty lob", user: User{Name: "bob", LOBs: []string{"a", ""}}, want: []string{"lobs[1]: empty LOB name"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			errs := tc.user.Validate()
			if len(errs) != len(tc.want) {
				t.Fatalf("Validate() = %v, want %q", errs, tc.want)
			}
			for i, err := range errs {
				if !strings.HasPrefix(err.Error(), tc.want[i]) {
					t.Errorf("error %d = %q, want prefix %q", i, err, tc.want[i])
				}
			}
		})
	}
}

func TestGroupValidate(t *testing.T) {
	if errs := (Group{Name: "ds", LOBs: []string{"a"}}).Validate(); len(errs) != 0 {
		t.Errorf("valid group: %v", errs)
	}
	errs := Group{LOBs: []string{""}}.Validate()
	if len(errs) != 2 || errs[0].Error() != "name: required" || errs[1].Error() != "lobs[0]: empty LOB name" {
		t.Errorf("Validate = %v", errs)
	}
}

func TestPrefix(t *testing.T) {
	plain := errors.New("boom")
	got := Prefix("lobs.a", []error{&FieldError{Field: "region", Msg: "required"}, plain})
	if len(got) != 2 || got[0].Error() != "lobs.a.region: required" || got[1].Error() != "lobs.a: boom" {
		t.Fatalf("Prefix = %q", got)
	}
	if !errors.Is(got[1], plain) {
		t.Error("Prefix lost the wrapped error")
	}
}
