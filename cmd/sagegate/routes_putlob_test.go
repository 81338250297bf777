package main

import (
	"os"
	"strings"
	"testing"
)

// Every put-lob flag replaces its own field, and only the flags given
// change: a second put-lob with one flag keeps all the others.
func TestPutLOBEveryFlagSetsItsField(t *testing.T) {
	f := newRoutesFixture(t, "file")
	f.must(t, "put-lob", "lob-a", "--account", cliAcctA, "--region", "us-east-1", "--domain", cliDomA,
		"--role", "custom-access", "--external-id", "ext-123", "--profile-rule", "email-local",
		"--session-duration", "2h", "--url-lifetime", "90s", "--space", "team-space",
		"--landing-uri", "studio::home", "--label", "Team A", "--jit-profiles", "--execution-role", "arn:aws:iam::111111111111:role/exec")
	f.must(t, "put-lob", "lob-a", "--label", "Team A2")
	b, err := os.ReadFile(f.routesFile)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{cliAcctA, "us-east-1", cliDomA, "custom-access", "ext-123", "email-local",
		"2h", "1m30s", "team-space", "studio::home", "Team A2", "jitProfiles: true", "role/exec"} {
		if !strings.Contains(string(b), want) {
			t.Errorf("routes file lacks %q:\n%s", want, b)
		}
	}

	// A flag given with its zero value clears the field.
	f.must(t, "put-lob", "lob-a", "--space", "", "--private-space", "--jit-profiles=false", "--execution-role", "")
	b, err = os.ReadFile(f.routesFile)
	if err != nil {
		t.Fatal(err)
	}
	if s := string(b); !strings.Contains(s, "privateSpace: true") || strings.Contains(s, "team-space") || strings.Contains(s, "jitProfiles") || strings.Contains(s, "executionRole") {
		t.Errorf("after clearing space and JIT profiles:\n%s", s)
	}
}
