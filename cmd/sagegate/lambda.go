package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"github.com/sagegate/sagegate/internal/config"
	"github.com/sagegate/sagegate/internal/lambda"
)

func newLambda() *cobra.Command {
	return &cobra.Command{
		Use:   "lambda",
		Short: "Run as an AWS Lambda function (the default when AWS_LAMBDA_RUNTIME_API is set)",
		Long: `Run as the bootstrap of an AWS Lambda function. SAGEGATE_LAMBDA_ROLE picks
the role: http (API Gateway or ALB in front of the gateway), authorizer (an
API Gateway Lambda authorizer) or events (EventBridge). The configuration is
read from SAGEGATE_CONFIG, default $LAMBDA_TASK_ROOT/sagegate.yaml.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runLambda(cmd.Context(), os.LookupEnv, cmd.ErrOrStderr(), cmd.OutOrStdout())
		},
	}
}

func runLambda(ctx context.Context, env lambda.Env, stderr, stdout io.Writer) error {
	api, _ := env(lambda.EnvRuntimeAPI)
	if api == "" {
		return fmt.Errorf("%s is not set: `sagegate lambda` runs inside AWS Lambda", lambda.EnvRuntimeAPI)
	}
	fn, err := buildLambda(ctx, env, stderr, stdout)
	if err != nil {
		kind := "Runtime.InitError"
		var probs config.Problems
		if errors.As(err, &probs) {
			kind = "Sagegate.InvalidConfig"
		}
		if rerr := lambda.ReportInitError(ctx, api, kind, err); rerr != nil {
			fmt.Fprintln(stderr, "sagegate:", rerr)
		}
		return err
	}
	defer fn.Close()
	lambda.Start(ctx, fn.Handler)
	return nil
}

func buildLambda(ctx context.Context, env lambda.Env, stderr, stdout io.Writer) (*lambda.Function, error) {
	role, err := lambda.RoleFrom(env)
	if err != nil {
		return nil, err
	}
	path := lambda.ConfigPath(env)
	cfg, err := config.Load(path, config.LookupEnv(env))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	log := newLogger(stderr, cfg.Log)
	log.Info("sagegate lambda starting", "role", string(role), "config", path, "version", version)
	if err := tuneRuntime(cfg.Runtime.GC(), false, log); err != nil {
		return nil, err
	}
	return lambda.New(ctx, role, cfg, lambda.Deps{Logger: log, Stdout: stdout})
}

// lambdaArgs makes `lambda` the command when Lambda starts the bootstrap,
// which it does without arguments.
func lambdaArgs(args []string, env lambda.Env) []string {
	if api, _ := env(lambda.EnvRuntimeAPI); len(args) == 0 && api != "" {
		return []string{"lambda"}
	}
	return args
}
