package main

import (
	"slices"
	"strings"
	"testing"
)

func TestLambdaArgs(t *testing.T) {
	inLambda := func(k string) (string, bool) {
		return map[string]string{"AWS_LAMBDA_RUNTIME_API": "127.0.0.1:9001"}[k], k == "AWS_LAMBDA_RUNTIME_API"
	}
	outside := func(string) (string, bool) { return "", false }
	for _, c := range []struct {
		args []string
		env  func(string) (string, bool)
		want []string
	}{
		{nil, inLambda, []string{"lambda"}},
		{[]string{"version"}, inLambda, []string{"version"}},
		{nil, outside, nil},
		{[]string{"serve", "--config", "x"}, outside, []string{"serve", "--config", "x"}},
	} {
		if got := lambdaArgs(c.args, c.env); !slices.Equal(got, c.want) {
			t.Errorf("lambdaArgs(%q) = %q, want %q", c.args, got, c.want)
		}
	}
}

func TestLambdaOutsideLambda(t *testing.T) {
	t.Setenv("AWS_LAMBDA_RUNTIME_API", "")
	if _, _, err := run(t, "lambda"); err == nil || !strings.Contains(err.Error(), "AWS_LAMBDA_RUNTIME_API") {
		t.Errorf("err = %v", err)
	}
}
