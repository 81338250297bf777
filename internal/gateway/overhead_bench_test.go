package gateway_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sagemaker"

	"github.com/sagegate/sagegate/internal/config"
	"github.com/sagegate/sagegate/internal/gateway"
	"github.com/sagegate/sagegate/internal/identity/identitytest"
)

// instantAWS answers the gateway's two AWS operations at once, in process,
// with what AWS would answer: the AWS boundary costs nothing, so what a
// launch costs is the gateway's own work, the AWS SDK's client side
// (serialising, SigV4 signing, retry middleware, deserialising) included.
type instantAWS struct {
	presigns, assumes atomic.Int64
}

const instantURL = "https://d-overhead0001.studio.us-east-1.sagemaker.aws/auth?token=overhead"

func (a *instantAWS) Do(r *http.Request) (*http.Response, error) {
	if r.Body != nil {
		_, _ = io.Copy(io.Discard, r.Body)
		r.Body.Close()
	}
	resp := &http.Response{StatusCode: http.StatusOK, Header: http.Header{}, Request: r, ProtoMajor: 1, ProtoMinor: 1}
	resp.Header.Set("X-Amzn-Requestid", "overhead")
	var body string
	switch target := r.Header.Get("X-Amz-Target"); {
	case target == "SageMaker.CreatePresignedDomainUrl":
		a.presigns.Add(1)
		resp.Header.Set("Content-Type", "application/x-amz-json-1.1")
		body = `{"AuthorizedUrl":"` + instantURL + `"}`
	case target == "":
		a.assumes.Add(1)
		resp.Header.Set("Content-Type", "text/xml")
		body = `<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><AssumeRoleResult><Credentials>` +
			`<AccessKeyId>ASIAOVERHEAD00000001</AccessKeyId><SecretAccessKey>overhead-secret</SecretAccessKey>` +
			`<SessionToken>overhead-session-token</SessionToken><Expiration>` + time.Now().Add(time.Hour).UTC().Format(time.RFC3339) +
			`</Expiration></Credentials><AssumedRoleUser><Arn>arn:aws:sts::111111111111:assumed-role/access/x</Arn>` +
			`<AssumedRoleId>AROAOVERHEAD:x</AssumedRoleId></AssumedRoleUser></AssumeRoleResult>` +
			`<ResponseMetadata><RequestId>overhead</RequestId></ResponseMetadata></AssumeRoleResponse>`
	default:
		resp.StatusCode = http.StatusBadRequest
		body = `{"__type":"UnknownOperationException"}`
	}
	resp.Body = io.NopCloser(strings.NewReader(body))
	resp.ContentLength = int64(len(body))
	return resp, nil
}

// overheadUsers is how many people take turns, so that the caches hold
// more than one entry, as in a real deployment.
const overheadUsers = 1000

type overheadEnv struct {
	gw   *gateway.Gateway
	aws  *instantAWS
	reqs []*http.Request
}

func newOverheadEnv(b *testing.B) *overheadEnv {
	b.Helper()
	idp := identitytest.NewIssuer(b)
	var users strings.Builder
	for i := range overheadUsers {
		fmt.Fprintf(&users, "      u%04d: {lobs: [lob-a]}\n", i)
	}
	doc := fmt.Sprintf(`
identity:
  providers:
    - {name: corp, type: oidc, issuer: %q, jwksUrl: %q, audiences: [sagegate]}
# Far above what the benchmark launches: the limits are not under test.
limits: {launchesPerMinute: 60000000, launchBurst: 1000000}
aws:
  region: us-east-1
  endpoints: {sts: "https://sts.aws.invalid", sagemaker: "https://sagemaker.aws.invalid"}
routing:
  file:
    lobs:
      lob-a: {accountId: "111111111111", domainId: d-overhead0001, roleArn: access, externalId: ext}
    users:
%s`, idp.URL(), idp.JWKSURL(), users.String())
	cfg, err := config.Parse([]byte(doc), func(string) (string, bool) { return "", false })
	if err != nil {
		b.Fatal(err)
	}
	e := &overheadEnv{aws: &instantAWS{}}
	awsCfg := aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("AKIAOVERHEAD", "secret", ""), HTTPClient: e.aws}
	// Audit records are written (formatted, then dropped) as in production.
	e.gw, err = gateway.Build(context.Background(), cfg, gateway.Deps{AWS: &awsCfg, AuditWriter: io.Discard})
	if err != nil {
		b.Fatal(err)
	}
	for i := range overheadUsers {
		req := httptest.NewRequest("GET", "/launch/lob-a", nil)
		req.Header.Set("Authorization", "Bearer "+idp.Sign(map[string]any{"sub": fmt.Sprint(i), "preferred_username": fmt.Sprintf("u%04d", i), "aud": "sagegate"}))
		e.reqs = append(e.reqs, req)
		// Warm: JWKS fetched, token verified once, credentials assumed.
		if code := e.launch(req); code != http.StatusFound {
			b.Fatalf("warm-up launch: %d", code)
		}
	}
	e.aws.presigns.Store(0)
	e.aws.assumes.Store(0)
	return e
}

// timedLaunch launches person i (in turn) and appends how long it took.
func (e *overheadEnv) timedLaunch(i int, ds []time.Duration) ([]time.Duration, int) {
	start := time.Now()
	code := e.launch(e.reqs[i%len(e.reqs)])
	return append(ds, time.Since(start)), code
}

func (e *overheadEnv) launch(req *http.Request) int {
	rec := httptest.NewRecorder()
	e.gw.Handler.ServeHTTP(rec, req)
	if rec.Code == http.StatusFound && rec.Header().Get("Location") != instantURL {
		return -1
	}
	return rec.Code
}

// reportPercentiles adds the latency distribution of the measured launches
// to the benchmark's figures: a mean hides the tail a person notices.
func reportPercentiles(b *testing.B, ds []time.Duration) {
	if len(ds) == 0 {
		return
	}
	slices.Sort(ds)
	at := func(p float64) float64 {
		return float64(ds[min(len(ds)-1, int(p*float64(len(ds))))].Nanoseconds()) / 1e3
	}
	b.ReportMetric(at(0.50), "p50-µs")
	b.ReportMetric(at(0.99), "p99-µs")
}

func (e *overheadEnv) reportAWS(b *testing.B, launches int) {
	if launches > 0 {
		b.ReportMetric(float64(e.aws.presigns.Load()+e.aws.assumes.Load())/float64(launches), "awscalls/launch")
	}
}

// BenchmarkLaunchOverhead is the gateway's cost of a warm launch above the
// presign call itself: the whole handler (request id, limits, cached token
// verification, routing, rate limit, the account's slot and breaker, cached
// credentials, the SDK's client side of CreatePresignedDomainUrl, the
// audit record, metrics, the redirect) with AWS answering in no time.
// 1,000 people take turns.
func BenchmarkLaunchOverhead(b *testing.B) {
	e := newOverheadEnv(b)
	ds := make([]time.Duration, 0, 1<<16)
	b.ReportAllocs()
	b.ResetTimer()
	i := 0
	for b.Loop() {
		var code int
		ds, code = e.timedLaunch(i, ds)
		i++
		if code != http.StatusFound {
			b.Fatalf("launch: %d", code)
		}
	}
	b.StopTimer()
	reportPercentiles(b, ds)
	e.reportAWS(b, i)
}

// BenchmarkLaunchOverheadParallel is the same on every core at once; its
// percentiles include waiting for a core.
func BenchmarkLaunchOverheadParallel(b *testing.B) {
	e := newOverheadEnv(b)
	var mu sync.Mutex
	var all []time.Duration
	var n atomic.Int64
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		ds := make([]time.Duration, 0, 1<<14)
		i := int(n.Add(1)) * 7919
		for pb.Next() {
			var code int
			ds, code = e.timedLaunch(i, ds)
			i++
			if code != http.StatusFound {
				b.Errorf("launch: %d", code)
				return
			}
		}
		mu.Lock()
		all = append(all, ds...)
		mu.Unlock()
	})
	b.StopTimer()
	reportPercentiles(b, all)
	e.reportAWS(b, len(all))
}

// BenchmarkPresignSDKClientSide is the part of the overhead that is the
// AWS SDK's: one CreatePresignedDomainUrl with the same instant AWS,
// no gateway around it.
func BenchmarkPresignSDKClientSide(b *testing.B) {
	fake := &instantAWS{}
	client := sagemaker.NewFromConfig(aws.Config{
		Region: "us-east-1", HTTPClient: fake,
		Credentials: credentials.NewStaticCredentialsProvider("ASIAOVERHEAD", "secret", "token"),
	}, func(o *sagemaker.Options) { o.BaseEndpoint = aws.String("https://sagemaker.aws.invalid") })
	in := &sagemaker.CreatePresignedDomainUrlInput{
		DomainId: aws.String("d-overhead0001"), UserProfileName: aws.String("u0001"),
		ExpiresInSeconds: aws.Int32(5), SessionExpirationDurationInSeconds: aws.Int32(43200),
	}
	ds := make([]time.Duration, 0, 1<<16)
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		start := time.Now()
		out, err := client.CreatePresignedDomainUrl(ctx, in)
		ds = append(ds, time.Since(start))
		if err != nil || aws.ToString(out.AuthorizedUrl) != instantURL {
			b.Fatalf("presign: %v", err)
		}
	}
	b.StopTimer()
	reportPercentiles(b, ds)
}
