package awssim_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sagemaker"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/aws-sdk-go-v2/service/sts/types"

	"github.com/sagegate/sagegate/internal/sandbox/awssim"
)

func TestUnknownAccessKey(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	creds := credentials.NewStaticCredentialsProvider("AKIAUNKNOWN000000000", gatewaySecret, "")

	_, err := e.sts(creds).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	wantAPIError(t, err, "InvalidClientTokenId", 403)
	_, err = e.sagemaker("us-east-1", creds).ListDomains(ctx, &sagemaker.ListDomainsInput{})
	wantAPIError(t, err, "UnrecognizedClientException", 400)

	// Failed calls are counted, under no account since nobody was identified.
	calls := e.sim.Calls()
	if calls.Total != 2 || calls.Count("sts", "GetCallerIdentity", "") != 1 || calls.Count("sagemaker", "ListDomains", "") != 1 {
		t.Errorf("calls = %+v", calls)
	}
}

func TestWrongSecret(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	creds := credentials.NewStaticCredentialsProvider(gatewayKey, "not-the-secret", "")

	_, err := e.sts(creds).AssumeRole(ctx, &sts.AssumeRoleInput{
		RoleArn: aws.String(roleA), RoleSessionName: aws.String("alice"), ExternalId: aws.String(extA),
	})
	wantContains(t, wantAPIError(t, err, "SignatureDoesNotMatch", 403), "signature we calculated does not match")
	_, err = e.sagemaker("us-east-1", creds).ListDomains(ctx, &sagemaker.ListDomainsInput{})
	wantAPIError(t, err, "InvalidSignatureException", 400)
	if n := e.sim.Calls().Count("sts", "AssumeRole", acctA); n != 1 {
		t.Errorf("AssumeRole with a bad signature counted %d times under %s, want 1", n, acctA)
	}
}

func TestTemporaryCredentialsNeedTheirToken(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	temp, err := e.assume(t, roleA, extA, "alice", "").Retrieve(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for name, token := range map[string]string{"missing": "", "wrong": temp.SessionToken + "x"} {
		t.Run(name, func(t *testing.T) {
			creds := credentials.NewStaticCredentialsProvider(temp.AccessKeyID, temp.SecretAccessKey, token)
			_, err := e.sts(creds).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
			wantAPIError(t, err, "InvalidClientTokenId", 403)
			_, err = e.sagemaker("us-east-1", creds).ListDomains(ctx, &sagemaker.ListDomainsInput{})
			wantAPIError(t, err, "UnrecognizedClientException", 400)
		})
	}
	// Base credentials must not carry a token either.
	creds := credentials.NewStaticCredentialsProvider(gatewayKey, gatewaySecret, temp.SessionToken)
	_, err = e.sts(creds).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	wantAPIError(t, err, "InvalidClientTokenId", 403)
}

func TestExpiredTemporaryCredentials(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	out, err := e.sts(gatewayCreds()).AssumeRole(ctx, &sts.AssumeRoleInput{
		RoleArn: aws.String(roleA), RoleSessionName: aws.String("alice"), ExternalId: aws.String(extA),
		DurationSeconds: aws.Int32(900),
	})
	if err != nil {
		t.Fatal(err)
	}
	creds := credentials.NewStaticCredentialsProvider(*out.Credentials.AccessKeyId, *out.Credentials.SecretAccessKey, *out.Credentials.SessionToken)
	sm := e.sagemaker("us-east-1", creds)
	if _, err := sm.ListDomains(ctx, &sagemaker.ListDomainsInput{}); err != nil {
		t.Fatalf("fresh credentials: %v", err)
	}

	// One second before expiry the credentials still work. The simulated
	// clock is now 899 s ahead of the SDK's: the first call fails the
	// clock-skew check, the SDK learns the offset from the response's Date
	// header, and the next call is signed with the corrected time.
	e.clock.Advance(899 * time.Second)
	_, err = sm.ListDomains(ctx, &sagemaker.ListDomainsInput{})
	wantContains(t, wantAPIError(t, err, "InvalidSignatureException", 400), "Signature expired")
	if _, err := sm.ListDomains(ctx, &sagemaker.ListDomainsInput{}); err != nil {
		t.Fatalf("credentials valid for one more second: %v", err)
	}

	e.clock.Advance(time.Second)
	_, err = sm.ListDomains(ctx, &sagemaker.ListDomainsInput{})
	wantAPIError(t, err, "ExpiredTokenException", 400)
	// A fresh client (no learned offset) gets ExpiredToken too: expiry is
	// checked before clock skew.
	_, err = e.sts(creds).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	wantAPIError(t, err, "ExpiredToken", 400)
	if n := e.sim.Calls().Count("sagemaker", "ListDomains", acctA); n != 4 {
		t.Errorf("ListDomains count = %d, want 4", n)
	}
}

func TestClockSkewIsCorrectedBySDKRetry(t *testing.T) {
	e := newEnv(t)
	e.clock.Advance(10 * time.Minute)
	client := sts.NewFromConfig(e.config("us-east-1", gatewayCreds()), func(o *sts.Options) {
		o.BaseEndpoint = aws.String(e.apiURL)
		o.Retryer = retry.NewStandard(func(o *retry.StandardOptions) {
			o.Backoff = retry.BackoffDelayerFunc(func(int, error) (time.Duration, error) { return 0, nil })
		})
	})
	who, err := client.GetCallerIdentity(context.Background(), &sts.GetCallerIdentityInput{})
	if err != nil {
		t.Fatalf("GetCallerIdentity with a skewed clock: %v", err)
	}
	if *who.Arn != gatewayARN || *who.Account != gatewayAccount {
		t.Errorf("identity = %s %s", *who.Arn, *who.Account)
	}
	log := e.sim.CallLog()
	if len(log) != 2 || log[0].Error != "SignatureDoesNotMatch" || log[1].Error != "" {
		t.Errorf("call log = %+v, want one skew failure then a success", log)
	}
}

// signedRequest builds a request signed with the SDK's own SigV4 signer.
func signedRequest(t *testing.T, e *env, method, url, service, contentType, body string, at time.Time) *http.Request {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	sum := sha256.Sum256([]byte(body))
	creds := aws.Credentials{AccessKeyID: gatewayKey, SecretAccessKey: gatewaySecret}
	if err := v4.NewSigner().SignHTTP(context.Background(), creds, req, hex.EncodeToString(sum[:]), service, "us-east-1", at); err != nil {
		t.Fatal(err)
	}
	return req
}

func do(t *testing.T, e *env, req *http.Request) (int, string) {
	t.Helper()
	p := send(t, e.srv.Client(), req)
	return p.status, p.body
}

func TestRawSigV4Requests(t *testing.T) {
	e := newEnv(t)
	const form = "application/x-www-form-urlencoded"
	const callerIdentity = "Action=GetCallerIdentity&Version=2011-06-15"

	t.Run("GET with query string", func(t *testing.T) {
		// Unreserved and reserved characters exercise the canonical query.
		url := e.apiURL + "?Action=GetCallerIdentity&Version=2011-06-15&Z=a%20b%2Fc~d*e&A=1"
		status, body := do(t, e, signedRequest(t, e, http.MethodGet, url, "sts", "", "", e.clock.Now()))
		if status != 200 {
			t.Fatalf("status %d: %s", status, body)
		}
		var doc struct {
			XMLName xml.Name `xml:"GetCallerIdentityResponse"`
			Result  struct {
				Arn, Account string
			} `xml:"GetCallerIdentityResult"`
			RequestID string `xml:"ResponseMetadata>RequestId"`
		}
		if err := xml.Unmarshal([]byte(body), &doc); err != nil {
			t.Fatalf("%v: %s", err, body)
		}
		if doc.Result.Arn != gatewayARN || doc.Result.Account != gatewayAccount || doc.RequestID == "" {
			t.Errorf("response = %+v", doc)
		}
	})
	t.Run("body changed after signing", func(t *testing.T) {
		req := signedRequest(t, e, http.MethodPost, e.apiURL, "sts", form, callerIdentity, e.clock.Now())
		req.Body = io.NopCloser(strings.NewReader(callerIdentity + "&X=1"))
		req.ContentLength += 4
		status, body := do(t, e, req)
		if status != 403 || !strings.Contains(body, "<Code>SignatureDoesNotMatch</Code>") || !strings.Contains(body, "<Type>Sender</Type>") {
			t.Errorf("status %d: %s", status, body)
		}
	})
	t.Run("scoped to the wrong service", func(t *testing.T) {
		status, body := do(t, e, signedRequest(t, e, http.MethodPost, e.apiURL, "sagemaker", form, callerIdentity, e.clock.Now()))
		if status != 403 || !strings.Contains(body, "Credential should be scoped to correct service: &#39;sts&#39;") {
			t.Errorf("status %d: %s", status, body)
		}
	})
	t.Run("no signature", func(t *testing.T) {
		req, _ := http.NewRequest(http.MethodPost, e.apiURL, strings.NewReader(callerIdentity))
		req.Header.Set("Content-Type", form)
		status, body := do(t, e, req)
		if status != 403 || !strings.Contains(body, "<Code>MissingAuthenticationToken</Code>") {
			t.Errorf("status %d: %s", status, body)
		}
	})
	t.Run("malformed or incomplete signatures", func(t *testing.T) {
		// Each refusal before the signature check, in each service's codes.
		const good = "AWS4-HMAC-SHA256 Credential=" + gatewayKey + "/%s/us-east-1/%s/aws4_request, SignedHeaders=host;x-amz-date, Signature=00"
		now := e.clock.Now().UTC()
		today := now.Format("20060102")
		tests := []struct {
			name, target, auth string
			noDate             bool
			contentSHA         string
			status             int
			code, msg          string
		}{
			{name: "STS: another algorithm", auth: "AWS4-HMAC-SHA1 Credential=x", status: 400, code: "IncompleteSignature", msg: "requires the AWS4-HMAC-SHA256 algorithm"},
			{name: "STS: component without a value", auth: "AWS4-HMAC-SHA256 Credential", status: 400, code: "IncompleteSignature", msg: "malformed component"},
			{name: "STS: no Signature", auth: "AWS4-HMAC-SHA256 Credential=" + gatewayKey + "/" + today + "/us-east-1/sts/aws4_request, SignedHeaders=host",
				status: 400, code: "IncompleteSignature", msg: "requires 'Credential', 'SignedHeaders' and 'Signature' parameters"},
			{name: "STS: short credential", auth: "AWS4-HMAC-SHA256 Credential=" + gatewayKey + "/" + today + "/us-east-1/sts, SignedHeaders=host, Signature=00",
				status: 400, code: "IncompleteSignature", msg: "credential must have the form"},
			{name: "STS: host not signed", auth: "AWS4-HMAC-SHA256 Credential=" + gatewayKey + "/" + today + "/us-east-1/sts/aws4_request, SignedHeaders=x-amz-date, Signature=00",
				status: 400, code: "IncompleteSignature", msg: "'Host' must be a 'SignedHeader'"},
			{name: "STS: no date", auth: fmt.Sprintf(good, today, "sts"), noDate: true, status: 400, code: "IncompleteSignature", msg: "either a 'X-Amz-Date' or a 'Date' header"},
			{name: "STS: scope date is not the signing date", auth: fmt.Sprintf(good, "20000101", "sts"), status: 403, code: "SignatureDoesNotMatch",
				msg: "Date in Credential scope does not match"},
			{name: "STS: payload hash mismatch", auth: fmt.Sprintf(good, today, "sts"), contentSHA: strings.Repeat("0", 64), status: 403, code: "SignatureDoesNotMatch",
				msg: "'x-amz-content-sha256' header does not match"},
			{name: "SageMaker: no signature", target: "SageMaker.ListDomains", status: 400, code: "MissingAuthenticationTokenException", msg: "missing Authentication Token"},
			{name: "SageMaker: another algorithm", target: "SageMaker.ListDomains", auth: "AWS4-HMAC-SHA1 Credential=x", status: 400, code: "IncompleteSignatureException",
				msg: "requires the AWS4-HMAC-SHA256 algorithm"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				body := callerIdentity
				if tt.target != "" {
					body = "{}"
				}
				req, err := http.NewRequest(http.MethodPost, e.apiURL, strings.NewReader(body))
				if err != nil {
					t.Fatal(err)
				}
				req.Header.Set("Content-Type", form)
				if tt.target != "" {
					req.Header.Set("Content-Type", "application/x-amz-json-1.1")
					req.Header.Set("X-Amz-Target", tt.target)
				}
				if tt.auth != "" {
					req.Header.Set("Authorization", tt.auth)
				}
				if !tt.noDate {
					req.Header.Set("X-Amz-Date", now.Format("20060102T150405Z"))
				}
				if tt.contentSHA != "" {
					req.Header.Set("X-Amz-Content-Sha256", tt.contentSHA)
				}
				status, got := do(t, e, req)
				got = html.UnescapeString(got)
				if status != tt.status || !strings.Contains(got, tt.code) || !strings.Contains(got, tt.msg) {
					t.Errorf("status %d: %s\nwant %d %s %q", status, got, tt.status, tt.code, tt.msg)
				}
			})
		}
	})
	t.Run("unknown STS action", func(t *testing.T) {
		status, body := do(t, e, signedRequest(t, e, http.MethodPost, e.apiURL, "sts", form, "Action=GetSessionToken&Version=2011-06-15", e.clock.Now()))
		if status != 400 || !strings.Contains(body, "<Code>InvalidAction</Code>") {
			t.Errorf("status %d: %s", status, body)
		}
	})
	t.Run("unknown SageMaker operation", func(t *testing.T) {
		req := signedRequest(t, e, http.MethodPost, e.apiURL, "sagemaker", "application/x-amz-json-1.1", "{}", e.clock.Now())
		req.Header.Set("X-Amz-Target", "SageMaker.DeleteDomain")
		// X-Amz-Target was set after signing, so sign again.
		req = resign(t, req, "sagemaker", "{}", e.clock.Now())
		status, body := do(t, e, req)
		if status != 400 || !strings.Contains(body, `"__type":"UnknownOperationException"`) {
			t.Errorf("status %d: %s", status, body)
		}
	})
	t.Run("required member missing", func(t *testing.T) {
		// The SDK checks required members itself, so only a raw request
		// can show the service-side check.
		const body = `{"DomainId":"d-lobaaaaaaaaa"}`
		req, _ := http.NewRequest(http.MethodPost, e.apiURL, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/x-amz-json-1.1")
		req.Header.Set("X-Amz-Target", "SageMaker.CreatePresignedDomainUrl")
		status, got := do(t, e, resign(t, req, "sagemaker", body, e.clock.Now()))
		if status != 400 || !strings.Contains(got, `"__type":"ValidationException"`) ||
			!strings.Contains(got, "Value null at 'userProfileName' failed to satisfy constraint: Member must not be null") {
			t.Errorf("status %d: %s", status, got)
		}
	})
	t.Run("malformed JSON", func(t *testing.T) {
		const body = `{"DomainId":`
		req, _ := http.NewRequest(http.MethodPost, e.apiURL, strings.NewReader(body))
		req.Header.Set("X-Amz-Target", "SageMaker.DescribeDomain")
		status, got := do(t, e, resign(t, req, "sagemaker", body, e.clock.Now()))
		if status != 400 || !strings.Contains(got, `"__type":"SerializationException"`) {
			t.Errorf("status %d: %s", status, got)
		}
	})
}

func resign(t *testing.T, req *http.Request, service, body string, at time.Time) *http.Request {
	t.Helper()
	req.Header.Del("Authorization")
	sum := sha256.Sum256([]byte(body))
	creds := aws.Credentials{AccessKeyID: gatewayKey, SecretAccessKey: gatewaySecret}
	if err := v4.NewSigner().SignHTTP(context.Background(), creds, req, hex.EncodeToString(sum[:]), service, "us-east-1", at); err != nil {
		t.Fatal(err)
	}
	return req
}

// TestMountPrefixes checks that signatures verify however the handler is
// mounted: at the root, under a path, or behind http.StripPrefix.
func TestMountPrefixes(t *testing.T) {
	cases := []struct {
		name, base string
		mount      func(mux *http.ServeMux, h http.Handler)
	}{
		{"root", "", func(mux *http.ServeMux, h http.Handler) { mux.Handle("/", h) }},
		{"path", "/x/aws", func(mux *http.ServeMux, h http.Handler) { mux.Handle("/x/aws", h) }},
		{"trailing slash", "/x/aws/", func(mux *http.ServeMux, h http.Handler) { mux.Handle("/x/aws/", h) }},
		{"strip prefix", "/x/aws", func(mux *http.ServeMux, h http.Handler) { mux.Handle("/x/aws", http.StripPrefix("/x", h)) }},
		// ':' is escaped in the canonical URI but not on the wire.
		{"path needing escapes", "/x/v1:aws", func(mux *http.ServeMux, h http.Handler) { mux.Handle("/x/v1:aws", h) }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			sim := awssim.New(awssim.Options{})
			sim.AddCaller(awssim.Caller{AccessKeyID: gatewayKey, SecretAccessKey: gatewaySecret, AccountID: gatewayAccount})
			sim.AddAccount(awssim.Account{ID: acctA, Domains: []awssim.Domain{{ID: domainA, UserProfiles: []string{"alice"}}}})
			mux := http.NewServeMux()
			tc.mount(mux, sim.APIHandler())
			srv := httptest.NewServer(mux)
			defer srv.Close()
			cfg := aws.Config{Region: "us-east-1", Credentials: gatewayCreds(), HTTPClient: srv.Client()}
			who, err := sts.NewFromConfig(cfg, func(o *sts.Options) { o.BaseEndpoint = aws.String(srv.URL + tc.base) }).
				GetCallerIdentity(context.Background(), &sts.GetCallerIdentityInput{})
			if err != nil {
				t.Fatalf("STS: %v", err)
			}
			if *who.Arn != "arn:aws:iam::000000000000:user/sagegate" {
				t.Errorf("default caller ARN = %q", *who.Arn)
			}
			out, err := sagemaker.NewFromConfig(cfg, func(o *sagemaker.Options) { o.BaseEndpoint = aws.String(srv.URL + tc.base) }).
				ListDomains(context.Background(), &sagemaker.ListDomainsInput{})
			if err != nil {
				t.Fatalf("SageMaker: %v", err)
			}
			if len(out.Domains) != 0 {
				t.Errorf("the gateway's own account has no domains, got %d", len(out.Domains))
			}
		})
	}
}

// The STS modeled ExpiredTokenException is for web identity tokens; the
// signing-level code is ExpiredToken, which must stay a generic API error.
func TestExpiredTokenIsNotTheModeledError(t *testing.T) {
	e := newEnv(t)
	creds := e.assume(t, roleA, extA, "alice", "")
	e.clock.Advance(2 * time.Hour)
	_, err := e.sts(creds).GetCallerIdentity(context.Background(), &sts.GetCallerIdentityInput{})
	var modeled *types.ExpiredTokenException
	if errors.As(err, &modeled) {
		t.Errorf("got the modeled ExpiredTokenException, want a generic ExpiredToken: %v", err)
	}
	wantAPIError(t, err, "ExpiredToken", 400)
}

// Expired credentials keep answering ExpiredToken even after later calls
// have let the simulator tidy up, as AWS does.
func TestExpiredCredentialsStayExpiredAfterPruning(t *testing.T) {
	e := newEnv(t)
	old := e.assume(t, roleA, extA, "alice", "")
	e.clock.Advance(2 * time.Hour)
	// A new AssumeRole after expiry triggers pruning. The fresh STS client
	// inside assume is 2 h behind the simulator, so use a retrying one.
	client := sts.NewFromConfig(e.config("us-east-1", gatewayCreds()), func(o *sts.Options) {
		o.BaseEndpoint = aws.String(e.apiURL)
		o.Retryer = retry.NewStandard(func(o *retry.StandardOptions) {
			o.Backoff = retry.BackoffDelayerFunc(func(int, error) (time.Duration, error) { return 0, nil })
		})
	})
	if _, err := client.AssumeRole(context.Background(), &sts.AssumeRoleInput{
		RoleArn: aws.String(roleA), RoleSessionName: aws.String("alice"), ExternalId: aws.String(extA),
	}); err != nil {
		t.Fatal(err)
	}
	_, err := e.sagemaker("us-east-1", old).ListDomains(context.Background(), &sagemaker.ListDomainsInput{})
	wantAPIError(t, err, "ExpiredTokenException", 400)
}
