package awssim_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sagemaker"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/sagegate/sagegate/internal/sandbox/awssim"
)

// The gateway's flow against the simulator with the unmodified SDK: assume
// the LOB's role with a source identity, then mint a Studio URL.
func Example() {
	srv := httptest.NewUnstartedServer(nil)
	base := "http://" + srv.Listener.Addr().String()
	sim := awssim.New(awssim.Options{StudioBaseURL: base + "/dev/studio"})
	mux := http.NewServeMux()
	mux.Handle("/dev/aws", sim.APIHandler())
	mux.Handle("/dev/studio/", sim.StudioHandler())
	srv.Config.Handler = mux
	srv.Start()
	defer srv.Close()

	sim.AddCaller(awssim.Caller{AccessKeyID: "AKIAEXAMPLEGATEWAY01", SecretAccessKey: "example-secret", AccountID: "000000000000"})
	sim.AddAccount(awssim.Account{
		ID:      "111111111111",
		Roles:   []awssim.Role{{Name: "sagegate-access", ExternalID: "lob-a", TrustedAccounts: []string{"000000000000"}}},
		Domains: []awssim.Domain{{ID: "d-example00001", Name: "lob-a", UserProfiles: []string{"alice"}}},
	})

	ctx := context.Background()
	cfg := aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("AKIAEXAMPLEGATEWAY01", "example-secret", "")}
	endpoint := aws.String(base + "/dev/aws")
	assumed, err := sts.NewFromConfig(cfg, func(o *sts.Options) { o.BaseEndpoint = endpoint }).AssumeRole(ctx, &sts.AssumeRoleInput{
		RoleArn:         aws.String("arn:aws:iam::111111111111:role/sagegate-access"),
		RoleSessionName: aws.String("sagegate-alice"),
		SourceIdentity:  aws.String("alice@example.com"),
		ExternalId:      aws.String("lob-a"),
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(*assumed.AssumedRoleUser.Arn)

	c := assumed.Credentials
	cfg.Credentials = credentials.NewStaticCredentialsProvider(*c.AccessKeyId, *c.SecretAccessKey, *c.SessionToken)
	out, err := sagemaker.NewFromConfig(cfg, func(o *sagemaker.Options) { o.BaseEndpoint = endpoint }).
		CreatePresignedDomainUrl(ctx, &sagemaker.CreatePresignedDomainUrlInput{
			DomainId:         aws.String("d-example00001"),
			UserProfileName:  aws.String("alice"),
			ExpiresInSeconds: aws.Int32(5),
		})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(strings.HasPrefix(*out.AuthorizedUrl, base+"/dev/studio/d-example00001/auth?token="))
	fmt.Println(sim.Calls().Count("sagemaker", "CreatePresignedDomainUrl", "111111111111"))
	// Output:
	// arn:aws:sts::111111111111:assumed-role/sagegate-access/sagegate-alice
	// true
	// 1
}
