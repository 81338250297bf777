package loadtest

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sagemaker"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/sagegate/sagegate/internal/sandbox"
)

// direct makes the gateway's AWS calls itself, for a direct run: the
// sandbox's gateway keys assume each person's access role once, then
// every launch is one CreatePresignedDomainUrl with those credentials,
// carrying what the gateway's would.
type direct struct {
	sts *sts.Client
	sm  *sagemaker.Client

	mu    sync.Mutex
	creds map[credFor]aws.Credentials
}

type credFor struct{ user, lob string }

func newDirect(cfg *Config) *direct {
	endpoint := aws.String(cfg.Target + "/dev/aws")
	awsCfg := aws.Config{
		// Every demo LOB is in the sandbox's one region; the presign
		// client is built for it below.
		Region:      "us-east-1",
		Credentials: credentials.NewStaticCredentialsProvider(sandbox.GatewayAccessKey, sandbox.GatewaySecretKey, ""),
		HTTPClient:  cfg.HTTPClient,
	}
	return &direct{
		sts:   sts.NewFromConfig(awsCfg, func(o *sts.Options) { o.BaseEndpoint = endpoint }),
		sm:    sagemaker.NewFromConfig(awsCfg, func(o *sagemaker.Options) { o.BaseEndpoint = endpoint }),
		creds: map[credFor]aws.Credentials{},
	}
}

// assumeAll assumes every person's access role in each of their LOBs,
// as the gateway's first launch of each would.
func (d *direct) assumeAll(ctx context.Context, cfg *Config, m *model) error {
	return parallel(ctx, cfg.Concurrency, m.users, func(ctx context.Context, u *user) error {
		for _, l := range u.lobs {
			if l.Region != d.sm.Options().Region {
				return fmt.Errorf("direct run: LOB %s is in %s, the sandbox's presign client in %s", l.Name, l.Region, d.sm.Options().Region)
			}
			in := &sts.AssumeRoleInput{
				RoleArn: aws.String(l.RoleARN), RoleSessionName: aws.String(u.name), SourceIdentity: aws.String(u.name),
				DurationSeconds: aws.Int32(3600),
			}
			if l.ExternalID != "" {
				in.ExternalId = aws.String(l.ExternalID)
			}
			out, err := d.sts.AssumeRole(ctx, in)
			if err != nil {
				return fmt.Errorf("direct run: assuming %s for %s: %w", l.RoleARN, u.name, err)
			}
			c := out.Credentials
			d.mu.Lock()
			d.creds[credFor{u.name, l.Name}] = aws.Credentials{
				AccessKeyID: aws.ToString(c.AccessKeyId), SecretAccessKey: aws.ToString(c.SecretAccessKey),
				SessionToken: aws.ToString(c.SessionToken), CanExpire: true, Expires: aws.ToTime(c.Expiration),
			}
			d.mu.Unlock()
		}
		return nil
	})
}

// exchange makes one launch's presign and judges it as the gateway's
// answer would be: a URL counts as the 302 carrying it.
func (d *direct) exchange(ctx context.Context, cfg *Config, req *request, t *tally) {
	lob := req.user.lob(req.lob)
	d.mu.Lock()
	creds, ok := d.creds[credFor{req.user.name, req.lob}]
	d.mu.Unlock()
	if lob == nil || !ok {
		t.add(req.class, true, statusNone, 0, Wrong, fmt.Sprintf("direct: no credentials of %s for %s", req.user.name, req.lob))
		return
	}
	in := &sagemaker.CreatePresignedDomainUrlInput{
		DomainId:                           aws.String(lob.DomainID),
		UserProfileName:                    aws.String(req.user.profile),
		ExpiresInSeconds:                   aws.Int32(int32(lob.URLLifetime / time.Second)),
		SessionExpirationDurationInSeconds: aws.Int32(int32(lob.SessionDuration / time.Second)),
	}
	ctx, cancel := context.WithTimeout(ctx, cfg.RequestTimeout)
	defer cancel()
	begin := time.Now()
	out, err := d.sm.CreatePresignedDomainUrl(ctx, in, func(o *sagemaker.Options) {
		o.Credentials = credentials.StaticCredentialsProvider{Value: creds}
	})
	elapsed := time.Since(begin)
	h := http.Header{}
	status := http.StatusFound
	if err != nil {
		status = statusNone
		var re *smithyhttp.ResponseError
		if errors.As(err, &re) {
			status = re.HTTPStatusCode()
		}
	} else {
		h.Set("Location", aws.ToString(out.AuthorizedUrl))
	}
	o, detail := judge(req, status, h)
	if err != nil && detail != "" {
		detail += ": " + err.Error()
	}
	t.add(req.class, true, status, elapsed, o, detail)
}
