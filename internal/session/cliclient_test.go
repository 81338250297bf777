package session

import (
	"slices"
	"testing"
)

func TestCLIClient(t *testing.T) {
	clock := newClock()
	public := testManager(t, clock, func(o *Options) {
		o.Login = LoginConfig{Issuer: "https://idp.example", ClientID: "web", VerifyToken: VerifyAccessToken}
	})
	got := public.CLIClient()
	if got.Issuer != "https://idp.example" || got.ClientID != "web" || got.Token != VerifyAccessToken ||
		!slices.Equal(got.Scopes, []string{"openid", "email", "profile"}) || got.AuthURL != "" {
		t.Fatalf("public client: %+v", got)
	}
	// The caller cannot change the manager's scopes through the copy.
	got.Scopes[0] = "changed"
	if public.CLIClient().Scopes[0] != "openid" {
		t.Fatal("CLIClient shares its scopes slice with the manager")
	}

	confidential := testManager(t, clock, func(o *Options) {
		o.Login = LoginConfig{ClientID: "web", ClientSecret: "s3cret", AuthURL: "https://idp.example/a", TokenURL: "https://idp.example/t"}
	})
	got = confidential.CLIClient()
	if got.ClientID != "" || got.Token != VerifyIDToken || got.AuthURL != "https://idp.example/a" || got.TokenURL != "https://idp.example/t" {
		t.Fatalf("confidential client must not hand out its id: %+v", got)
	}
}
