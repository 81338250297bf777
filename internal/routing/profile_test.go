package routing

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"regexp"
	"strings"
	"testing"
)

// profilePatternRE is SageMaker's UserProfileName pattern, kept here as a
// regexp so the hand-written ValidProfileName is checked against the source.
var profilePatternRE = regexp.MustCompile(`^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$`)

// checkProfile fails t unless name is one SageMaker accepts.
func checkProfile(t *testing.T, name string) {
	t.Helper()
	if !profilePatternRE.MatchString(name) || len(name) > 63 {
		t.Errorf("%q (len %d) is not a valid UserProfileName", name, len(name))
	}
}

func TestProfileName(t *testing.T) {
	long := strings.Repeat("abcdefghij", 10) // 100 valid characters
	tests := []struct {
		name     string
		rule     string
		username string
		want     string // exact result; "" when wantErr
		wantErr  bool
	}{
		{name: "valid kept", rule: ProfileRuleSanitized, username: "alice", want: "alice"},
		{name: "valid with hyphens kept", rule: ProfileRuleSanitized, username: "user-lob-a", want: "user-lob-a"},
		{name: "default rule is sanitized", rule: "", username: "user-lob-a", want: "user-lob-a"},
		{name: "inner hyphen run kept", rule: ProfileRuleSanitized, username: "a--b", want: "a--b"},
		{name: "case kept", rule: ProfileRuleSanitized, username: "Alice", want: "Alice"},
		{name: "dot replaced and hashed", rule: ProfileRuleSanitized, username: "a.b", want: "a-b-" + hash8("a.b")},
		{name: "email", rule: ProfileRuleSanitized, username: "jane.doe@example.com", want: "jane-doe-example-com-" + hash8("jane.doe@example.com")},
		{name: "run of symbols is one hyphen", rule: ProfileRuleSanitized, username: "a.@_+b", want: "a-b-" + hash8("a.@_+b")},
		{name: "leading and trailing symbols trimmed", rule: ProfileRuleSanitized, username: "__bob__", want: "bob-" + hash8("__bob__")},
		{name: "leading hyphen trimmed", rule: ProfileRuleSanitized, username: "-bob", want: "bob-" + hash8("-bob")},
		{name: "unicode replaced", rule: ProfileRuleSanitized, username: "josé", want: "jos-" + hash8("josé")},
		{name: "unicode inside", rule: ProfileRuleSanitized, username: "zoë.k", want: "zo-k-" + hash8("zoë.k")},
		{name: "63 valid kept", rule: ProfileRuleSanitized, username: long[:63], want: long[:63]},
		{name: "64 valid truncated", rule: ProfileRuleSanitized, username: long[:64], want: long[:54] + "-" + hash8(long[:64])},
		{name: "100 valid truncated", rule: ProfileRuleSanitized, username: long, want: long[:54] + "-" + hash8(long)},
		{name: "truncation trims trailing hyphen", rule: ProfileRuleSanitized, username: strings.Repeat("a", 53) + ".b" + strings.Repeat("c", 20), want: strings.Repeat("a", 53) + "-" + hash8(strings.Repeat("a", 53)+".b"+strings.Repeat("c", 20))},
		{name: "empty", rule: ProfileRuleSanitized, username: "", wantErr: true},
		{name: "only symbols", rule: ProfileRuleSanitized, username: "@._", wantErr: true},
		{name: "only unicode", rule: ProfileRuleSanitized, username: "日本語", wantErr: true},

		{name: "username rule valid", rule: ProfileRuleUsername, username: "bob-1", want: "bob-1"},
		{name: "username rule invalid", rule: ProfileRuleUsername, username: "bob.1", wantErr: true},
		{name: "username rule too long", rule: ProfileRuleUsername, username: long, wantErr: true},
		{name: "username rule empty", rule: ProfileRuleUsername, username: "", wantErr: true},

		{name: "email-local plain", rule: ProfileRuleEmailLocal, username: "bob@example.com", want: "bob"},
		{name: "email-local dotted", rule: ProfileRuleEmailLocal, username: "jane.doe@example.com", want: "jane-doe-" + hash8("jane.doe")},
		{name: "email-local last at", rule: ProfileRuleEmailLocal, username: `"a@b"@example.com`, want: "a-b-" + hash8(`"a@b"`)},
		{name: "email-local without at", rule: ProfileRuleEmailLocal, username: "bob", want: "bob"},
		{name: "email-local empty local", rule: ProfileRuleEmailLocal, username: "@example.com", wantErr: true},

		{name: "unknown rule", rule: "upper", username: "bob", wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ProfileName(tc.rule, tc.username)
			if tc.wantErr {
				if err == nil {
					t.Fatalf("ProfileName(%q, %q) = %q, want an error", tc.rule, tc.username, got)
				}
				if !errors.Is(err, ErrProfileName) {
					t.Errorf("error %v does not wrap ErrProfileName", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("ProfileName(%q, %q): %v", tc.rule, tc.username, err)
			}
			if got != tc.want {
				t.Errorf("ProfileName(%q, %q) = %q, want %q", tc.rule, tc.username, got, tc.want)
			}
			checkProfile(t, got)
		})
	}
}

// hash8 is the suffix ProfileName appends, computed independently of it.
func hash8(s string) string {
	h := sha256Hex(s)
	return h[:8]
}

func TestProfileNameNoCollisions(t *testing.T) {
	// Each group holds usernames that look alike once sanitised.
	groups := [][]string{
		{"a.b", "a-b", "a_b", "a@b", "a..b", "a b", "a.b.", ".a.b"},
		{"jane.doe@example.com", "jane.doe@example.org", "jane-doe@example.com", "jane_doe@example.com"},
		{strings.Repeat("x", 70), strings.Repeat("x", 71), strings.Repeat("x", 70) + "y"},
	}
	for _, g := range groups {
		seen := map[string]string{}
		for _, u := range g {
			got, err := ProfileName(ProfileRuleSanitized, u)
			if err != nil {
				t.Fatalf("ProfileName(%q): %v", u, err)
			}
			if prev, ok := seen[got]; ok {
				t.Errorf("%q and %q both map to %q", prev, u, got)
			}
			seen[got] = u
		}
	}
}

func TestValidProfileName(t *testing.T) {
	tests := []struct {
		in   string
		want bool
	}{
		{"a", true},
		{"A1", true},
		{"a-b", true},
		{"a---b", true},
		{strings.Repeat("a", 63), true},
		{strings.Repeat("a", 64), false},
		{"a" + strings.Repeat("-", 61) + "b", true},
		{"a" + strings.Repeat("-", 62) + "b", false}, // 64 long
		{"", false},
		{"-a", false},
		{"a-", false},
		{"-", false},
		{"a.b", false},
		{"a_b", false},
		{"é", false},
	}
	for _, tc := range tests {
		if got := ValidProfileName(tc.in); got != tc.want {
			t.Errorf("ValidProfileName(%q) = %v, want %v", tc.in, got, tc.want)
		}
		// The hand-written check must agree with AWS's pattern plus its
		// length limit.
		if ref := profilePatternRE.MatchString(tc.in) && len(tc.in) <= 63; ref != tc.want {
			t.Errorf("test case %q disagrees with the AWS pattern", tc.in)
		}
	}
}

func FuzzProfileName(f *testing.F) {
	for _, s := range []string{"alice", "a.b", "jane.doe@example.com", "-x-", "日本語", strings.Repeat("z", 100)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, username string) {
		for _, rule := range []string{ProfileRuleUsername, ProfileRuleSanitized, ProfileRuleEmailLocal} {
			got, err := ProfileName(rule, username)
			again, err2 := ProfileName(rule, username)
			if got != again || (err == nil) != (err2 == nil) {
				t.Fatalf("rule %q, %q: not deterministic: %q/%v then %q/%v", rule, username, got, err, again, err2)
			}
			if err != nil {
				continue
			}
			checkProfile(t, got)
			if rule != ProfileRuleEmailLocal && ValidProfileName(username) && got != username {
				t.Errorf("rule %q changed valid %q into %q", rule, username, got)
			}
		}
	})
}

func sha256Hex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}
