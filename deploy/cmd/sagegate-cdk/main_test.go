package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/jsii-runtime-go"
)

func TestMain(m *testing.M) {
	code := m.Run()
	jsii.Close()
	os.Exit(code)
}

const example = "deployment=../../examples/two-accounts.json"

// The documented offline command: templates of the two-account example,
// before any Lambda zip is built.
func TestSynthWithPlaceholder(t *testing.T) {
	out := t.TempDir()
	var stderr bytes.Buffer
	missing := filepath.Join(t.TempDir(), "bootstrap.zip")
	code := run([]string{"-o", out, "-placeholder-asset", "-c", example, "-c", "lambdaAsset=" + missing}, &stderr)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	if !strings.Contains(stderr.String(), "placeholder Lambda zip") {
		t.Errorf("no warning about the placeholder: %q", stderr.String())
	}
	for _, stack := range []string{"gateway", "lob-a-studio", "lob-a-access", "lob-a-vending", "lob-b-studio", "lob-b-access"} {
		if _, err := os.Stat(filepath.Join(out, "sagegate-"+stack+".template.json")); err != nil {
			t.Error(err)
		}
	}
	if _, err := os.Stat(filepath.Join(out, "manifest.json")); err != nil {
		t.Error(err)
	}
}

func TestErrorsAreReadable(t *testing.T) {
	for name, tt := range map[string]struct {
		args []string
		code int
		want string
	}{
		"bad flag":      {[]string{"-x"}, 2, "flag provided but not defined"},
		"bad context":   {[]string{"-c", "novalue"}, 2, `"novalue" is not key=value`},
		"extra args":    {[]string{"deploy"}, 2, "unexpected arguments"},
		"missing asset": {[]string{"-c", example, "-c", "lambdaAsset=/nonexistent/bootstrap.zip"}, 1, "-c lambdaAsset=<zip>"},
		"bad account": {[]string{"-c", example, "-c", "account:lob-b=2222", "-placeholder-asset"}, 1,
			`accounts[1].id: "2222" is not a 12-digit account id`},
		"no deployment": {[]string{"-c", "deployment=none.json"}, 1, "no such file"},
	} {
		t.Run(name, func(t *testing.T) {
			var stderr bytes.Buffer
			code := run(append([]string{"-o", t.TempDir()}, tt.args...), &stderr)
			if code != tt.code || !strings.Contains(stderr.String(), tt.want) {
				t.Errorf("exit %d (%q), want %d and %q", code, stderr.String(), tt.code, tt.want)
			}
			if strings.Contains(stderr.String(), "goroutine") {
				t.Errorf("a stack trace: %s", stderr.String())
			}
		})
	}
}
