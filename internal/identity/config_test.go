package identity

import (
	"reflect"
	"strings"
	"testing"
)

// fields returns the field part ("name", "[1].issuer") of each message.
func fields(errs []error) []string {
	var out []string
	for _, err := range errs {
		f, _, _ := strings.Cut(err.Error(), ": ")
		out = append(out, f)
	}
	return out
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name string
		cfg  ProviderConfig
		want []string // fields in error, in order
	}{
		{"oidc ok", ProviderConfig{Name: "corp", Type: "oidc", Issuer: "https://idp.example.com/", Audiences: []string{"sagegate"}}, nil},
		{"oidc on loopback http", ProviderConfig{Name: "dev", Type: "oidc", Issuer: "http://127.0.0.1:8080", Audiences: []string{"sagegate"}}, nil},
		{"cognito ok", ProviderConfig{Name: "pool", Type: "cognito", UserPoolID: "eu-west-1_AbC123", ClientIDs: []string{"abc"}}, nil},
		{"cognito-local", ProviderConfig{Name: "local", Type: "cognito", UserPoolID: "local_5xYz", Issuer: "http://localhost:9229/local_5xYz", ClientIDs: []string{"c"}, TokenUse: []string{"id"}}, nil},
		{"empty", ProviderConfig{}, []string{"name", "type"}},
		{"bad type", ProviderConfig{Name: "x", Type: "saml"}, []string{"type"}},
		{"oidc missing everything", ProviderConfig{Name: "corp", Type: "oidc"}, []string{"issuer", "audiences"}},
		{"oidc with cognito fields", ProviderConfig{
			Name: "corp", Type: "oidc", Issuer: "http://idp.example.com", JWKSURL: "ftp://x/keys",
			Audiences: []string{"a", " "}, ClientIDs: []string{"c"}, TokenUse: []string{"id"}, UsernameClaim: " sub",
		}, []string{"issuer", "jwksUrl", "audiences[1]", "clientIds", "tokenUse", "usernameClaim"}},
		{"cognito all wrong", ProviderConfig{
			Name: "bad name!", Type: "cognito", UserPoolID: "nopool", Region: "Europe",
			TokenUse: []string{"access", "refresh"}, Audiences: []string{"a"}, GroupsClaim: "g",
		}, []string{"name", "userPoolId", "region", "clientIds", "tokenUse[1]", "audiences", "groupsClaim"}},
		{"cognito region mismatch", ProviderConfig{Name: "p", Type: "cognito", UserPoolID: "eu-west-1_A1", Region: "us-east-1", ClientIDs: []string{"c"}}, []string{"region"}},
		{"cognito region not derivable", ProviderConfig{Name: "p", Type: "cognito", UserPoolID: "local_A1", ClientIDs: []string{"c"}}, []string{"region"}},
		{"issuer with query", ProviderConfig{Name: "p", Type: "oidc", Issuer: "https://idp.example.com?x=1", Audiences: []string{"a"}}, []string{"issuer"}},
		{"name of 63", ProviderConfig{Name: "p" + strings.Repeat("x", 62), Type: "cognito", UserPoolID: "eu-west-1_A1", ClientIDs: []string{"c"}}, nil},
		{"name of 64", ProviderConfig{Name: "p" + strings.Repeat("x", 63), Type: "cognito", UserPoolID: "eu-west-1_A1", ClientIDs: []string{"c"}}, []string{"name"}},
		{"relative issuer", ProviderConfig{Name: "p", Type: "oidc", Issuer: "idp.example.com", Audiences: []string{"a"}}, []string{"issuer"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			errs := tt.cfg.Validate()
			if got := fields(errs); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Validate fields = %q, want %q\nerrors: %v", got, tt.want, errs)
			}
		})
	}
}

func TestValidateMessages(t *testing.T) {
	errs := ProviderConfig{Name: "x", Type: "ldap"}.Validate()
	if len(errs) != 1 || errs[0].Error() != "type: must be oidc or cognito" {
		t.Errorf("Validate = %v", errs)
	}
}

func TestValidateProviders(t *testing.T) {
	ok := ProviderConfig{Name: "a", Type: "cognito", UserPoolID: "eu-west-1_A1", ClientIDs: []string{"c"}}
	sameIssuer := ProviderConfig{Name: "b", Type: "oidc", Issuer: "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_A1", Audiences: []string{"x"}}
	sameName := ProviderConfig{Name: "a", Type: "oidc", Issuer: "https://idp.example.com", Audiences: []string{"x"}}
	broken := ProviderConfig{Name: "c", Type: "oidc"}

	got := fields(ValidateProviders([]ProviderConfig{ok, sameIssuer, sameName, broken}))
	want := []string{"[1].issuer", "[2].name"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("ValidateProviders fields = %q, want %q", got, want)
	}
	// NewVerifier checks each provider and the list.
	got = fields(validateAll([]ProviderConfig{ok, sameIssuer, sameName, broken}))
	want = []string{"[3].issuer", "[3].audiences", "[1].issuer", "[2].name"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("validateAll fields = %q, want %q", got, want)
	}
	if errs := validateAll(nil); len(errs) != 1 {
		t.Errorf("validateAll(nil) = %v", errs)
	}
}

func TestWithDefaults(t *testing.T) {
	c := ProviderConfig{Name: "p", Type: "cognito", UserPoolID: "eu-west-1_AbC", ClientIDs: []string{"c"}}.WithDefaults()
	if c.Region != "eu-west-1" ||
		c.Issuer != "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbC" ||
		c.JWKSURL != "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbC/.well-known/jwks.json" ||
		!reflect.DeepEqual(c.TokenUse, []string{"access", "id"}) {
		t.Errorf("cognito defaults = %+v", c)
	}
	o := ProviderConfig{Name: "o", Type: "oidc", Issuer: "https://idp.example.com", Audiences: []string{"a"}}.WithDefaults()
	if o.UsernameClaim != "preferred_username" || o.GroupsClaim != "groups" || o.EmailClaim != "email" || o.JWKSURL != "" {
		t.Errorf("oidc defaults = %+v", o)
	}
}
