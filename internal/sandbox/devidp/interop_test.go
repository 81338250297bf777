package devidp

import (
	"context"
	"net/http"
	"testing"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

// TestGoOIDCAndOAuth2Interop runs the libraries sagegate's own login uses
// against the issuer: go-oidc discovery and verification, x/oauth2 PKCE
// exchange (which authenticates with HTTP Basic first) and refresh.
func TestGoOIDCAndOAuth2Interop(t *testing.T) {
	e := newEnv(t, nil)
	ctx := oidc.ClientContext(context.Background(), &http.Client{})
	provider, err := oidc.NewProvider(ctx, e.base)
	if err != nil {
		t.Fatalf("discovery: %v", err)
	}
	redirectURI := "http://127.0.0.1:53682/callback"
	conf := oauth2.Config{
		ClientID:    cliClient,
		Endpoint:    provider.Endpoint(),
		RedirectURL: redirectURI,
		Scopes:      []string{oidc.ScopeOpenID, "email", "groups"},
	}
	verifier := oauth2.GenerateVerifier()
	authURL := conf.AuthCodeURL("state-xyz", oauth2.S256ChallengeOption(verifier), oidc.Nonce("nonce-xyz"))

	form := e.loginForm(t, authURL, "alice", "demo")
	resp, _ := e.postForm(t, e.base+"/authorize", form)
	loc, err := resp.Location()
	if err != nil || loc.Query().Get("state") != "state-xyz" {
		t.Fatalf("login redirect = %v %v", loc, err)
	}

	tok, err := conf.Exchange(ctx, loc.Query().Get("code"), oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatalf("exchange: %v", err)
	}
	rawID, _ := tok.Extra("id_token").(string)
	idt, err := provider.Verifier(&oidc.Config{ClientID: cliClient, Now: e.clock.Now}).Verify(ctx, rawID)
	if err != nil {
		t.Fatalf("go-oidc rejects the ID token: %v", err)
	}
	if idt.Nonce != "nonce-xyz" || idt.Subject != SubjectFor("alice") {
		t.Errorf("id token nonce %q sub %q", idt.Nonce, idt.Subject)
	}
	at, err := provider.Verifier(&oidc.Config{ClientID: "sagegate", Now: e.clock.Now}).Verify(ctx, tok.AccessToken)
	if err != nil {
		t.Fatalf("go-oidc rejects the access token: %v", err)
	}
	var claims struct {
		Groups []string `json:"groups"`
		Scope  string   `json:"scope"`
	}
	if err := at.Claims(&claims); err != nil || len(claims.Groups) != 2 || claims.Scope != "openid email groups" {
		t.Errorf("access token claims %+v %v", claims, err)
	}

	refreshed, err := conf.TokenSource(ctx, &oauth2.Token{RefreshToken: tok.RefreshToken}).Token()
	if err != nil {
		t.Fatalf("refresh: %v", err)
	}
	if refreshed.AccessToken == "" || refreshed.RefreshToken == tok.RefreshToken {
		t.Errorf("refresh did not rotate: %+v", refreshed)
	}

	info, err := provider.UserInfo(ctx, oauth2.StaticTokenSource(refreshed))
	if err != nil || info.Email != "alice@example.test" || info.Subject != SubjectFor("alice") {
		t.Errorf("userinfo = %+v, %v", info, err)
	}
}
