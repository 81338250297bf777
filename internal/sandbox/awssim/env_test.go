package awssim_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sagemaker"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"

	"github.com/sagegate/sagegate/internal/sandbox/awssim"
	"github.com/sagegate/sagegate/internal/testutil"
)

const (
	gatewayAccount = "000000000000"
	gatewayKey     = "AKIAGATEWAYEXAMPLE01"
	gatewaySecret  = "gateway/secret/key/EXAMPLEKEY0000000000000"
	gatewayARN     = "arn:aws:iam::000000000000:user/sagegate"

	acctA     = "111111111111"
	acctB     = "222222222222"
	acctC     = "333333333333"
	acctMany  = "444444444444"
	extA      = "lob-a-external-id"
	roleA     = "arn:aws:iam::111111111111:role/sagegate-access"
	roleB     = "arn:aws:iam::222222222222:role/teams/lob-b/sagegate-access"
	roleC     = "arn:aws:iam::333333333333:role/locked"
	roleMany  = "arn:aws:iam::444444444444:role/sagegate-access"
	domainA   = "d-lobaaaaaaaaa"
	domainB   = "d-lobbbbbbbbb"
	domainSSO = "d-ssodomain01"
	domainNew = "d-pending0001"
)

type clock = testutil.Clock

type syncBuffer = testutil.SyncBuffer

type env struct {
	sim   *awssim.Simulator
	srv   *httptest.Server
	clock *clock
	logs  *syncBuffer
	// apiURL is the BaseEndpoint for both STS and SageMaker clients.
	apiURL       string
	studioBase   string
	notebookBase string
}

// newEnv starts the simulator on 127.0.0.1 the way `sagegate dev` mounts
// it: the API under /dev/aws, Studio under /dev/studio/.
func newEnv(t *testing.T) *env {
	t.Helper()
	// The SDK signs with the real clock, so the simulated clock starts at
	// the real time; tests then move it forward.
	clk := testutil.NewClock(time.Now().UTC().Truncate(time.Second))
	logs := &syncBuffer{}
	srv := httptest.NewUnstartedServer(nil)
	base := "http://" + srv.Listener.Addr().String()
	e := &env{
		clock:        clk,
		logs:         logs,
		srv:          srv,
		apiURL:       base + "/dev/aws",
		studioBase:   base + "/dev/studio",
		notebookBase: base + "/dev/notebooks",
	}
	e.sim = awssim.New(awssim.Options{
		Now:             clk.Now,
		Logger:          slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		StudioBaseURL:   e.studioBase,
		NotebookBaseURL: e.notebookBase,
	})
	mux := http.NewServeMux()
	mux.Handle("/dev/aws", e.sim.APIHandler())
	mux.Handle("/dev/studio/", e.sim.StudioHandler())
	mux.Handle("/dev/notebooks/", e.sim.NotebookHandler())
	mux.Handle("/dev/calls", e.sim.CallsHandler())
	srv.Config.Handler = mux
	srv.Start()
	t.Cleanup(srv.Close)

	e.sim.AddCaller(awssim.Caller{AccessKeyID: gatewayKey, SecretAccessKey: gatewaySecret, AccountID: gatewayAccount, ARN: gatewayARN})
	e.sim.AddAccount(awssim.Account{
		ID:    acctA,
		Roles: []awssim.Role{{Name: "sagegate-access", ExternalID: extA, TrustedAccounts: []string{gatewayAccount}}},
		Domains: []awssim.Domain{
			{ID: domainA, Name: "lob-a", UserProfiles: []string{"alice", "bob"},
				Spaces: []awssim.Space{{Name: "team-space"}, {Name: "alice-private", OwnerProfile: "alice"}}},
			{ID: domainSSO, Name: "lob-a-sso", AuthMode: "SSO", UserProfiles: []string{"alice"}},
			{ID: domainNew, Name: "lob-a-new", Status: "Pending", UserProfiles: []string{"alice"}},
		},
	})
	e.sim.AddAccount(awssim.Account{
		ID:      acctB,
		Roles:   []awssim.Role{{Name: "teams/lob-b/sagegate-access", MaxSessionDuration: 12 * time.Hour}},
		Domains: []awssim.Domain{{ID: domainB, Name: "lob-b", Region: "eu-west-1", UserProfiles: []string{"carol"}}},
	})
	e.sim.AddAccount(awssim.Account{
		ID:    acctC,
		Roles: []awssim.Role{{Name: "locked", TrustedAccounts: []string{"999999999999"}}},
	})
	many := awssim.Account{ID: acctMany, Roles: []awssim.Role{{Name: "sagegate-access"}}}
	for i := range 25 {
		many.Domains = append(many.Domains, awssim.Domain{ID: fmt.Sprintf("d-many%04d", i), UserProfiles: []string{"u1"}})
	}
	e.sim.AddAccount(many)
	return e
}

func (e *env) config(region string, creds aws.CredentialsProvider) aws.Config {
	return aws.Config{
		Region:      region,
		Credentials: creds,
		HTTPClient:  e.srv.Client(),
		// No retries: error tests count calls exactly.
		Retryer: func() aws.Retryer { return aws.NopRetryer{} },
	}
}

func (e *env) sts(creds aws.CredentialsProvider) *sts.Client {
	return sts.NewFromConfig(e.config("us-east-1", creds), func(o *sts.Options) {
		o.BaseEndpoint = aws.String(e.apiURL)
	})
}

func (e *env) sagemaker(region string, creds aws.CredentialsProvider) *sagemaker.Client {
	return sagemaker.NewFromConfig(e.config(region, creds), func(o *sagemaker.Options) {
		o.BaseEndpoint = aws.String(e.apiURL)
	})
}

func gatewayCreds() aws.CredentialsProvider {
	return credentials.NewStaticCredentialsProvider(gatewayKey, gatewaySecret, "")
}

// assume assumes a role as the gateway and returns the temporary
// credentials as a provider.
func (e *env) assume(t *testing.T, roleARN, externalID, sessionName, sourceIdentity string) aws.CredentialsProvider {
	t.Helper()
	in := &sts.AssumeRoleInput{RoleArn: aws.String(roleARN), RoleSessionName: aws.String(sessionName)}
	if externalID != "" {
		in.ExternalId = aws.String(externalID)
	}
	if sourceIdentity != "" {
		in.SourceIdentity = aws.String(sourceIdentity)
	}
	out, err := e.sts(gatewayCreds()).AssumeRole(context.Background(), in)
	if err != nil {
		t.Fatalf("AssumeRole %s: %v", roleARN, err)
	}
	c := out.Credentials
	return credentials.NewStaticCredentialsProvider(*c.AccessKeyId, *c.SecretAccessKey, *c.SessionToken)
}

// wantAPIError asserts that err is an AWS API error with the given code
// and HTTP status, and returns its message.
func wantAPIError(t *testing.T, err error, code string, status int) string {
	t.Helper()
	if err == nil {
		t.Fatalf("want %s error, got success", code)
	}
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		t.Fatalf("want API error %s, got %T: %v", code, err, err)
	}
	if ae.ErrorCode() != code {
		t.Fatalf("error code = %q (%s), want %q", ae.ErrorCode(), ae.ErrorMessage(), code)
	}
	var re *awshttp.ResponseError
	if !errors.As(err, &re) {
		t.Fatalf("error carries no HTTP response: %v", err)
	}
	if re.HTTPStatusCode() != status {
		t.Fatalf("status = %d, want %d (%v)", re.HTTPStatusCode(), status, err)
	}
	return ae.ErrorMessage()
}

func wantContains(t *testing.T, s, sub string) {
	t.Helper()
	if !strings.Contains(s, sub) {
		t.Fatalf("%q does not contain %q", s, sub)
	}
}
