// Command sagegate-cdk is sagegate's CDK app. The cdk CLI runs it (cdk.json)
// and passes context in CDK_CONTEXT_JSON; run directly, it takes the same
// context as -c key=value and writes the cloud assembly (the templates) to
// -o, with no AWS credentials and no network:
//
//	go run ./cmd/sagegate-cdk -o cdk.out -c deployment=examples/two-accounts.json
//
// Context parameters:
//
//	deployment       the deployment file (default examples/two-accounts.json)
//	lambdaAsset      the bootstrap zip (default ../dist/lambda/<architecture>/bootstrap.zip)
//	account:<name>   replaces the id of an account of the file ("gateway" for the gateway's)
package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"

	"github.com/sagegate/sagegate/deploy/assemble"
)

func main() {
	code := run(os.Args[1:], os.Stderr)
	// Ends the node process that runs CDK for us.
	jsii.Close()
	os.Exit(code)
}

func run(args []string, stderr io.Writer) int {
	fs := flag.NewFlagSet("sagegate-cdk", flag.ContinueOnError)
	fs.SetOutput(stderr)
	outdir := fs.String("o", "", "output directory of the cloud assembly (default $CDK_OUTDIR, else cdk.out)")
	placeholder := fs.Bool("placeholder-asset", false, "synthesize with a placeholder Lambda zip when the built one is missing (templates only, not for deploying)")
	ctx := contextFlag{}
	fs.Var(ctx, "c", "context key=value (repeatable), as cdk -c")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "sagegate-cdk: unexpected arguments %q\n", fs.Args())
		return 2
	}

	props := &awscdk.AppProps{Context: ctx.jsii()}
	switch {
	case *outdir != "":
		props.Outdir = outdir
	case os.Getenv("CDK_OUTDIR") == "":
		// Run by hand: without this, CDK writes to a temporary directory.
		props.Outdir = jsii.String("cdk.out")
	}
	app := awscdk.NewApp(props)
	opts, err := assemble.FromContext(func(key string) string {
		if v, ok := app.Node().TryGetContext(jsii.String(key)).(string); ok {
			return v
		}
		return ""
	}, *placeholder)
	if err != nil {
		fmt.Fprintf(stderr, "sagegate-cdk: %v\n", err)
		return 1
	}
	defer opts.Cleanup()
	if opts.Placeholder {
		fmt.Fprintf(stderr, "sagegate-cdk: warning: %s is missing; the templates use a placeholder Lambda zip: build the zips before cdk deploy\n", opts.WantedAsset)
	}
	if err := synth(app, opts); err != nil {
		fmt.Fprintf(stderr, "sagegate-cdk: %v\n", err)
		return 1
	}
	return 0
}

// synth builds and synthesizes the app. CDK reports a construct error by
// throwing in node, which jsii turns into a panic: it becomes an error
// here, at the edge, rather than a Go stack trace.
func synth(app awscdk.App, opts *assemble.Options) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("synth: %v", r)
		}
	}()
	if _, err := assemble.Build(app, opts.Deployment, opts.LambdaAsset); err != nil {
		return err
	}
	app.Synth(nil)
	return nil
}

// contextFlag collects -c key=value pairs.
type contextFlag map[string]string

func (c contextFlag) String() string { return "" }

func (c contextFlag) Set(v string) error {
	k, val, ok := strings.Cut(v, "=")
	if !ok || k == "" {
		return fmt.Errorf("%q is not key=value", v)
	}
	c[k] = val
	return nil
}

func (c contextFlag) jsii() *map[string]any {
	m := make(map[string]any, len(c))
	for k, v := range c {
		m[k] = v
	}
	return &m
}
