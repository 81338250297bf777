package config

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// FuzzParse feeds arbitrary documents to the configuration decoder. It
// must never panic; a refusal is a non-empty list of non-empty problems; an
// acceptance is a configuration that validates and that the same input
// always decodes to.
func FuzzParse(f *testing.F) {
	// The shipped configurations, as they are today.
	for _, path := range []string{
		filepath.Join("..", "..", "examples", "sagegate.yaml"),
		filepath.Join("..", "sandbox", "dev.yaml"),
	} {
		if b, err := os.ReadFile(path); err == nil {
			f.Add(b)
		}
	}
	// More seeds are in testdata/fuzz/FuzzParse.
	env := env(map[string]string{"ISSUER": "https://issuer.example.com", "SAGEGATE_COOKIE_KEY": "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
		"SAGEGATE_DEV_URL": "http://127.0.0.1:8080", "SAGEGATE_DEV_ADDR": "127.0.0.1:8080", "SAGEGATE_DEV_COOKIE_KEY": "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="})
	f.Fuzz(func(t *testing.T, data []byte) {
		// A routes file path is read while validating; keep the fuzzer
		// away from device files and escapes that could spell one.
		for _, risky := range []string{"/dev/", "/proc/", "/sys/", `\`} {
			if bytes.Contains(data, []byte(risky)) {
				t.Skip()
			}
		}
		c, err := Parse(data, env)
		if err != nil {
			var probs Problems
			if c != nil || !errors.As(err, &probs) || len(probs) == 0 {
				t.Fatalf("refusal is not a list of problems: %v (config %v)", err, c)
			}
			for _, p := range probs {
				if p == nil || p.Error() == "" {
					t.Fatalf("empty problem in %q", probs)
				}
			}
			return
		}
		if probs := c.Validate(); len(probs) > 0 {
			t.Fatalf("accepted a configuration that does not validate: %v", probs)
		}
		again, err := Parse(data, env)
		if err != nil || !reflect.DeepEqual(c, again) {
			t.Fatalf("the same input decoded differently: %v", err)
		}
	})
}
