package lambda_test

import (
	"context"
	"testing"
	"time"

	"github.com/sagegate/sagegate/internal/lambda/lambdatest"
)

// BenchmarkColdStart measures a cold start as Lambda sees it: from starting
// the bootstrap process to the Runtime API receiving the answer to its
// first invocation. Configuration loading, the Go runtime's start, building
// the role's handler and the first invocation's own work all count; for a
// launch that includes fetching the issuer's keys, AssumeRole and
// CreatePresignedDomainUrl, over loopback to the in-process simulator.
//
//	go test -run '^$' -bench ColdStart -benchtime 20x ./internal/lambda/
func BenchmarkColdStart(b *testing.B) {
	w := newWorld(b)
	bin := binary(b)
	alice := w.token("alice")
	for _, c := range []struct {
		name, role, fixture string
		repl                []string
	}{
		{"http-healthz", "http", "apigw-rest-request.json", []string{`"path": "/studio/alice"`, `"path": "/healthz"`, "__TOKEN__", alice}},
		{"http-launch", "http", "apigw-rest-request.json", []string{"__TOKEN__", alice}},
		{"authorizer", "authorizer", "apigw-authorizer-token.json", []string{"__TOKEN__", alice, "__PATH__", "studio/alice"}},
		{"events", "events", "eventbridge-provision-product.json", nil},
	} {
		b.Run(c.name, func(b *testing.B) {
			payload := fixture(b, c.fixture, c.repl...)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				rt := lambdatest.NewRuntime(b)
				env := w.env(rt, c.role, "none")
				b.StartTimer()
				p := lambdatest.Start(b, bin, env)
				ctx, cancel := context.WithTimeout(p.Exited, 20*time.Second)
				res, err := rt.Invoke(ctx, payload)
				cancel()
				b.StopTimer()
				if err != nil || res.Error != nil {
					b.Fatalf("invoke: %v %v\n%s", err, res.Error, p.Stderr.String())
				}
				p.Stop()
				rt.Close()
				b.StartTimer()
			}
		})
	}
}
