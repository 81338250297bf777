package routing

import (
	"reflect"
	"testing"
	"time"
)

func TestNormalize(t *testing.T) {
	tests := []struct {
		name     string
		in       LOB
		defaults Defaults
		want     LOB
	}{
		{
			name:     "built-in defaults and role name",
			in:       LOB{AccountID: "123456789012", Region: "eu-west-1", RoleARN: "sagegate-access"},
			defaults: Defaults{},
			want: LOB{AccountID: "123456789012", Region: "eu-west-1",
				RoleARN:     "arn:aws:iam::123456789012:role/sagegate-access",
				ProfileRule: ProfileRuleSanitized, SessionDuration: Duration(12 * time.Hour), URLLifetime: Duration(5 * time.Second)},
		},
		{
			name:     "deployment defaults fill region and durations",
			in:       LOB{AccountID: "123456789012", RoleARN: "r"},
			defaults: Defaults{Region: "us-west-2", SessionDuration: time.Hour, URLLifetime: time.Minute},
			want: LOB{AccountID: "123456789012", Region: "us-west-2", RoleARN: "arn:aws:iam::123456789012:role/r",
				ProfileRule: ProfileRuleSanitized, SessionDuration: Duration(time.Hour), URLLifetime: Duration(time.Minute)},
		},
		{
			name:     "own values win over defaults",
			in:       LOB{Region: "eu-central-1", ProfileRule: ProfileRuleUsername, SessionDuration: Duration(2 * time.Hour), URLLifetime: Duration(10 * time.Second)},
			defaults: Defaults{Region: "us-west-2", SessionDuration: time.Hour, URLLifetime: time.Minute},
			want:     LOB{Region: "eu-central-1", ProfileRule: ProfileRuleUsername, SessionDuration: Duration(2 * time.Hour), URLLifetime: Duration(10 * time.Second)},
		},
		{
			name: "china partition",
			in:   LOB{AccountID: "123456789012", Region: "cn-north-1", RoleARN: "r"},
			want: LOB{AccountID: "123456789012", Region: "cn-north-1", RoleARN: "arn:aws-cn:iam::123456789012:role/r",
				ProfileRule: ProfileRuleSanitized, SessionDuration: Duration(12 * time.Hour), URLLifetime: Duration(5 * time.Second)},
		},
		{
			name: "govcloud partition from default region",
			in:   LOB{AccountID: "123456789012", RoleARN: "r"}, defaults: Defaults{Region: "us-gov-east-1"},
			want: LOB{AccountID: "123456789012", Region: "us-gov-east-1", RoleARN: "arn:aws-us-gov:iam::123456789012:role/r",
				ProfileRule: ProfileRuleSanitized, SessionDuration: Duration(12 * time.Hour), URLLifetime: Duration(5 * time.Second)},
		},
		{
			name: "role name with path",
			in:   LOB{AccountID: "123456789012", Region: "us-east-1", RoleARN: "/team/r"},
			want: LOB{AccountID: "123456789012", Region: "us-east-1", RoleARN: "arn:aws:iam::123456789012:role/team/r",
				ProfileRule: ProfileRuleSanitized, SessionDuration: Duration(12 * time.Hour), URLLifetime: Duration(5 * time.Second)},
		},
		{
			name: "full arn kept",
			in:   LOB{AccountID: "123456789012", Region: "cn-north-1", RoleARN: "arn:aws:iam::123456789012:role/r"},
			want: LOB{AccountID: "123456789012", Region: "cn-north-1", RoleARN: "arn:aws:iam::123456789012:role/r",
				ProfileRule: ProfileRuleSanitized, SessionDuration: Duration(12 * time.Hour), URLLifetime: Duration(5 * time.Second)},
		},
		{
			name: "empty role left for Validate",
			in:   LOB{Region: "us-east-1"},
			want: LOB{Region: "us-east-1", ProfileRule: ProfileRuleSanitized, SessionDuration: Duration(12 * time.Hour), URLLifetime: Duration(5 * time.Second)},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := tc.in
			got.Normalize(tc.defaults)
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("Normalize =\n%+v\nwant\n%+v", got, tc.want)
			}
			again := got
			again.Normalize(tc.defaults)
			if !reflect.DeepEqual(again, got) {
				t.Errorf("Normalize is not idempotent: %+v then %+v", got, again)
			}
		})
	}
}

func TestNormalizedRoleValidates(t *testing.T) {
	for _, region := range []string{"us-east-1", "cn-north-1", "us-gov-west-1"} {
		l := LOB{Name: "x", AccountID: "123456789012", Region: region, DomainID: "d-x", RoleARN: "access"}
		l.Normalize(Defaults{})
		if errs := l.Validate(); len(errs) != 0 {
			t.Errorf("region %s: %v", region, errs)
		}
	}
}

func TestPartition(t *testing.T) {
	for region, want := range map[string]string{
		"us-east-1":      "aws",
		"eu-west-1":      "aws",
		"cn-north-1":     "aws-cn",
		"cn-northwest-1": "aws-cn",
		"us-gov-west-1":  "aws-us-gov",
		"us-gov-east-1":  "aws-us-gov",
		"":               "aws",
	} {
		if got := Partition(region); got != want {
			t.Errorf("Partition(%q) = %q, want %q", region, got, want)
		}
	}
}
