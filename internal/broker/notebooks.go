package broker

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sagemaker"
	"github.com/aws/aws-sdk-go-v2/service/sagemaker/types"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"

	"github.com/sagegate/sagegate/internal/identity"
	"github.com/sagegate/sagegate/internal/problem"
	"github.com/sagegate/sagegate/internal/routing"
)

// Notebook instances: each call below runs with the person's assumed-role
// session in the target's account (so CloudTrail names them), under the
// account's concurrency cap and circuit breaker, exactly like a Studio
// launch. What to call when is internal/notebooks' business.

// NotebookAPI is the part of SageMaker behind notebook targets. The SDK
// client has all of it; a unit test's fake SageMakerAPI need not.
type NotebookAPI interface {
	SageMakerAPI
	DescribeNotebookInstance(ctx context.Context, in *sagemaker.DescribeNotebookInstanceInput, optFns ...func(*sagemaker.Options)) (*sagemaker.DescribeNotebookInstanceOutput, error)
	StartNotebookInstance(ctx context.Context, in *sagemaker.StartNotebookInstanceInput, optFns ...func(*sagemaker.Options)) (*sagemaker.StartNotebookInstanceOutput, error)
	StopNotebookInstance(ctx context.Context, in *sagemaker.StopNotebookInstanceInput, optFns ...func(*sagemaker.Options)) (*sagemaker.StopNotebookInstanceOutput, error)
	CreateNotebookInstance(ctx context.Context, in *sagemaker.CreateNotebookInstanceInput, optFns ...func(*sagemaker.Options)) (*sagemaker.CreateNotebookInstanceOutput, error)
	DeleteNotebookInstance(ctx context.Context, in *sagemaker.DeleteNotebookInstanceInput, optFns ...func(*sagemaker.Options)) (*sagemaker.DeleteNotebookInstanceOutput, error)
	ListNotebookInstances(ctx context.Context, in *sagemaker.ListNotebookInstancesInput, optFns ...func(*sagemaker.Options)) (*sagemaker.ListNotebookInstancesOutput, error)
	CreatePresignedNotebookInstanceUrl(ctx context.Context, in *sagemaker.CreatePresignedNotebookInstanceUrlInput, optFns ...func(*sagemaker.Options)) (*sagemaker.CreatePresignedNotebookInstanceUrlOutput, error)
	ListTags(ctx context.Context, in *sagemaker.ListTagsInput, optFns ...func(*sagemaker.Options)) (*sagemaker.ListTagsOutput, error)
	AddTags(ctx context.Context, in *sagemaker.AddTagsInput, optFns ...func(*sagemaker.Options)) (*sagemaker.AddTagsOutput, error)
}

// SSMAPI is the part of SSM Parameter Store that publishing URLs needs.
type SSMAPI interface {
	PutParameter(ctx context.Context, in *ssm.PutParameterInput, optFns ...func(*ssm.Options)) (*ssm.PutParameterOutput, error)
}

// Errors the notebook calls wrap (inside a *problem.Error), so callers
// can tell the cases apart with errors.Is.
var (
	// ErrNotebookNotFound: the instance does not exist (AWS answers
	// "ValidationException: RecordNotFound").
	ErrNotebookNotFound = errors.New("notebook instance not found")
	// ErrNotebookState: the instance is not in a state that allows the
	// call (starting one that is not Stopped, ...).
	ErrNotebookState = errors.New("notebook instance in the wrong state")
	// ErrNotebookExists: CreateNotebookInstance found the name taken.
	ErrNotebookExists = errors.New("notebook instance already exists")
)

// Codes of the errors of this file.
const (
	CodeNotebookNotFound = "notebook_not_found"
	CodeNotebookState    = "notebook_state"
	CodeNotebookExists   = "notebook_exists"
)

// NotebookURLLifetime is fixed by AWS: a presigned notebook URL always
// expires 5 minutes after it is minted.
const NotebookURLLifetime = 5 * time.Minute

// NotebookInstance is what sagegate reads of an instance.
type NotebookInstance struct {
	Name, ARN, Status, FailureReason, InstanceType string
	Created, LastModified                          time.Time
}

// NotebookSpec is a CreateNotebookInstance request.
type NotebookSpec struct {
	InstanceType, RoleARN, KMSKeyID, LifecycleConfig, SubnetID string
	SecurityGroupIDs                                           []string
	VolumeSizeGB                                               int
	RootAccess, DirectInternetAccess                           bool
	Tags                                                       map[string]string
}

// notebookClients holds the SSM clients, one per account and region like
// the SageMaker ones. The zero value is ready; cfg is set by New.
type notebookClients struct {
	cfg aws.Config
	mu  sync.Mutex
	ssm map[clientKey]SSMAPI
}

func (b *Broker) notebookClient(t routing.Target) (NotebookAPI, error) {
	c, ok := b.sageMaker(t.AccountID, t.Region).(NotebookAPI)
	if !ok {
		return nil, problem.New(http.StatusInternalServerError, "internal", "This SageMaker client cannot manage notebook instances.")
	}
	return c, nil
}

func (b *Broker) ssmClient(t routing.Target) SSMAPI {
	nc := &b.nbClients
	nc.mu.Lock()
	defer nc.mu.Unlock()
	k := clientKey{t.AccountID, t.Region}
	if c, ok := nc.ssm[k]; ok {
		return c
	}
	var c SSMAPI
	if b.opts.NewSSM != nil {
		c = b.opts.NewSSM(t.Region)
	} else {
		c = ssm.NewFromConfig(nc.cfg, func(o *ssm.Options) {
			o.Region = t.Region
			if b.opts.SSMEndpoint != "" {
				o.BaseEndpoint = aws.String(b.opts.SSMEndpoint)
			}
		})
	}
	if nc.ssm == nil {
		nc.ssm = map[clientKey]SSMAPI{}
	}
	nc.ssm[k] = c
	return c
}

// notebookCall runs fn with t's client and p's credentials, mapping its
// failure for a person. Each AWS call fn makes is guarded (timed).
func notebookCall(ctx context.Context, b *Broker, p *identity.Principal, t routing.Target, action, permission string,
	fn func(ctx context.Context, c NotebookAPI, creds aws.Credentials) error) error {
	c, err := b.notebookClient(t)
	if err != nil {
		return err
	}
	creds, _, _, err := b.credentials(ctx, p, t)
	if err != nil {
		return err
	}
	if err := fn(ctx, c, creds); err != nil {
		return notebookError(ctx, err, action, permission, t)
	}
	return nil
}

// notebookError maps a failed notebook call; the cases the lifecycle must
// tell apart keep their sentinel.
func notebookError(ctx context.Context, err error, action, permission string, t routing.Target) error {
	code, msg := apiCode(err)
	switch {
	case code == "ValidationException" && strings.Contains(msg, "RecordNotFound"), notFoundCodes[code]:
		return problem.Wrap(fmt.Errorf("%w: %w", ErrNotebookNotFound, err), http.StatusNotFound, CodeNotebookNotFound,
			fmt.Sprintf("There is no notebook instance %q in account %s (%s).", t.NotebookInstance, t.AccountID, t.Region))
	case code == "ValidationException" && strings.Contains(msg, "Cannot create a duplicate"), code == "ResourceInUse":
		return problem.Wrap(fmt.Errorf("%w: %w", ErrNotebookExists, err), http.StatusConflict, CodeNotebookExists,
			fmt.Sprintf("The notebook instance %q already exists in account %s.", t.NotebookInstance, t.AccountID))
	case code == "ValidationException" && strings.Contains(msg, "Unable to transition"):
		return problem.Wrap(fmt.Errorf("%w: %w", ErrNotebookState, err), http.StatusConflict, CodeNotebookState,
			fmt.Sprintf("The notebook instance %q cannot do that in its current state: %s", t.NotebookInstance, msg))
	}
	return studioError(ctx, err, action, permission, t)
}

// DescribeNotebook returns t's instance as it is now.
func (b *Broker) DescribeNotebook(ctx context.Context, p *identity.Principal, t routing.Target) (NotebookInstance, error) {
	var nb NotebookInstance
	err := notebookCall(ctx, b, p, t, "checking notebook instance "+t.NotebookInstance, "sagemaker:DescribeNotebookInstance",
		func(ctx context.Context, c NotebookAPI, creds aws.Credentials) error {
			out, err := timed(ctx, b, t.AccountID, "DescribeNotebookInstance", func(ctx context.Context) (*sagemaker.DescribeNotebookInstanceOutput, error) {
				return c.DescribeNotebookInstance(ctx, &sagemaker.DescribeNotebookInstanceInput{NotebookInstanceName: aws.String(t.NotebookInstance)}, staticCreds(creds))
			})
			if err != nil {
				return err
			}
			nb = NotebookInstance{
				Name: aws.ToString(out.NotebookInstanceName), ARN: aws.ToString(out.NotebookInstanceArn),
				Status: string(out.NotebookInstanceStatus), FailureReason: aws.ToString(out.FailureReason),
				InstanceType: string(out.InstanceType), Created: aws.ToTime(out.CreationTime), LastModified: aws.ToTime(out.LastModifiedTime),
			}
			return nil
		})
	return nb, err
}

// byName runs one notebook call whose only input is the instance's name.
func (b *Broker) byName(ctx context.Context, p *identity.Principal, t routing.Target, op, doing string,
	call func(ctx context.Context, c NotebookAPI, name *string, opt func(*sagemaker.Options)) error) error {
	return notebookCall(ctx, b, p, t, doing+" notebook instance "+t.NotebookInstance, "sagemaker:"+op,
		func(ctx context.Context, c NotebookAPI, creds aws.Credentials) error {
			_, err := timed(ctx, b, t.AccountID, op, func(ctx context.Context) (struct{}, error) {
				return struct{}{}, call(ctx, c, aws.String(t.NotebookInstance), staticCreds(creds))
			})
			return err
		})
}

// StartNotebook starts t's (Stopped) instance.
func (b *Broker) StartNotebook(ctx context.Context, p *identity.Principal, t routing.Target) error {
	return b.byName(ctx, p, t, "StartNotebookInstance", "starting", func(ctx context.Context, c NotebookAPI, name *string, opt func(*sagemaker.Options)) error {
		_, err := c.StartNotebookInstance(ctx, &sagemaker.StartNotebookInstanceInput{NotebookInstanceName: name}, opt)
		return err
	})
}

// StopNotebook stops t's (InService) instance.
func (b *Broker) StopNotebook(ctx context.Context, p *identity.Principal, t routing.Target) error {
	return b.byName(ctx, p, t, "StopNotebookInstance", "stopping", func(ctx context.Context, c NotebookAPI, name *string, opt func(*sagemaker.Options)) error {
		_, err := c.StopNotebookInstance(ctx, &sagemaker.StopNotebookInstanceInput{NotebookInstanceName: name}, opt)
		return err
	})
}

// DeleteNotebook deletes t's (Stopped or Failed) instance.
func (b *Broker) DeleteNotebook(ctx context.Context, p *identity.Principal, t routing.Target) error {
	return b.byName(ctx, p, t, "DeleteNotebookInstance", "deleting", func(ctx context.Context, c NotebookAPI, name *string, opt func(*sagemaker.Options)) error {
		_, err := c.DeleteNotebookInstance(ctx, &sagemaker.DeleteNotebookInstanceInput{NotebookInstanceName: name}, opt)
		return err
	})
}

// CreateNotebook creates t's instance as spec says.
func (b *Broker) CreateNotebook(ctx context.Context, p *identity.Principal, t routing.Target, spec NotebookSpec) error {
	in := &sagemaker.CreateNotebookInstanceInput{
		NotebookInstanceName: aws.String(t.NotebookInstance),
		InstanceType:         types.InstanceType(spec.InstanceType),
		RoleArn:              aws.String(spec.RoleARN),
		SecurityGroupIds:     spec.SecurityGroupIDs,
		RootAccess:           types.RootAccessDisabled,
		DirectInternetAccess: types.DirectInternetAccessDisabled,
	}
	if spec.RootAccess {
		in.RootAccess = types.RootAccessEnabled
	}
	if spec.DirectInternetAccess {
		in.DirectInternetAccess = types.DirectInternetAccessEnabled
	}
	if spec.VolumeSizeGB > 0 {
		in.VolumeSizeInGB = aws.Int32(int32(spec.VolumeSizeGB))
	}
	for k, v := range map[**string]string{&in.KmsKeyId: spec.KMSKeyID, &in.LifecycleConfigName: spec.LifecycleConfig, &in.SubnetId: spec.SubnetID} {
		if v != "" {
			*k = aws.String(v)
		}
	}
	in.Tags = sagemakerTags(spec.Tags)
	return notebookCall(ctx, b, p, t, "creating notebook instance "+t.NotebookInstance,
		"sagemaker:CreateNotebookInstance, sagemaker:AddTags and iam:PassRole on "+spec.RoleARN,
		func(ctx context.Context, c NotebookAPI, creds aws.Credentials) error {
			_, err := timed(ctx, b, t.AccountID, "CreateNotebookInstance", func(ctx context.Context) (*sagemaker.CreateNotebookInstanceOutput, error) {
				return c.CreateNotebookInstance(ctx, in, staticCreds(creds))
			})
			return err
		})
}

// NotebookFilter narrows ListNotebooks.
type NotebookFilter struct {
	NameContains string
	Status       string
}

// ListNotebooks lists the instances of t's account and region (every
// page), in name order.
func (b *Broker) ListNotebooks(ctx context.Context, p *identity.Principal, t routing.Target, f NotebookFilter) ([]NotebookInstance, error) {
	var all []NotebookInstance
	err := notebookCall(ctx, b, p, t, "listing notebook instances", "sagemaker:ListNotebookInstances",
		func(ctx context.Context, c NotebookAPI, creds aws.Credentials) error {
			in := &sagemaker.ListNotebookInstancesInput{MaxResults: aws.Int32(100), StatusEquals: types.NotebookInstanceStatus(f.Status)}
			if f.NameContains != "" {
				in.NameContains = aws.String(f.NameContains)
			}
			for {
				out, err := timed(ctx, b, t.AccountID, "ListNotebookInstances", func(ctx context.Context) (*sagemaker.ListNotebookInstancesOutput, error) {
					return c.ListNotebookInstances(ctx, in, staticCreds(creds))
				})
				if err != nil {
					return err
				}
				for _, s := range out.NotebookInstances {
					all = append(all, NotebookInstance{
						Name: aws.ToString(s.NotebookInstanceName), ARN: aws.ToString(s.NotebookInstanceArn),
						Status: string(s.NotebookInstanceStatus), InstanceType: string(s.InstanceType),
						Created: aws.ToTime(s.CreationTime), LastModified: aws.ToTime(s.LastModifiedTime),
					})
				}
				if aws.ToString(out.NextToken) == "" {
					return nil
				}
				in.NextToken = out.NextToken
			}
		})
	return all, err
}

// NotebookTags returns the tags of the instance with that ARN in t's
// account.
func (b *Broker) NotebookTags(ctx context.Context, p *identity.Principal, t routing.Target, arn string) (map[string]string, error) {
	tags := map[string]string{}
	err := notebookCall(ctx, b, p, t, "reading the tags of notebook instance "+t.NotebookInstance, "sagemaker:ListTags",
		func(ctx context.Context, c NotebookAPI, creds aws.Credentials) error {
			in := &sagemaker.ListTagsInput{ResourceArn: aws.String(arn), MaxResults: aws.Int32(100)}
			for {
				out, err := timed(ctx, b, t.AccountID, "ListTags", func(ctx context.Context) (*sagemaker.ListTagsOutput, error) {
					return c.ListTags(ctx, in, staticCreds(creds))
				})
				if err != nil {
					return err
				}
				for _, tg := range out.Tags {
					tags[aws.ToString(tg.Key)] = aws.ToString(tg.Value)
				}
				if aws.ToString(out.NextToken) == "" {
					return nil
				}
				in.NextToken = out.NextToken
			}
		})
	return tags, err
}

// TagNotebook adds (or replaces) tags on the instance with that ARN.
func (b *Broker) TagNotebook(ctx context.Context, p *identity.Principal, t routing.Target, arn string, tags map[string]string) error {
	return notebookCall(ctx, b, p, t, "tagging notebook instance "+t.NotebookInstance, "sagemaker:AddTags",
		func(ctx context.Context, c NotebookAPI, creds aws.Credentials) error {
			_, err := timed(ctx, b, t.AccountID, "AddTags", func(ctx context.Context) (*sagemaker.AddTagsOutput, error) {
				return c.AddTags(ctx, &sagemaker.AddTagsInput{ResourceArn: aws.String(arn), Tags: sagemakerTags(tags)}, staticCreds(creds))
			})
			return err
		})
}

// PresignNotebook mints a presigned URL of t's instance, with t's session
// length (1800..43200 s). The URL itself lives 5 minutes, whatever AWS is
// asked.
func (b *Broker) PresignNotebook(ctx context.Context, p *identity.Principal, t routing.Target) (Result, error) {
	var res Result
	in := &sagemaker.CreatePresignedNotebookInstanceUrlInput{NotebookInstanceName: aws.String(t.NotebookInstance)}
	if t.SessionDuration > 0 {
		secs := min(max(int32(t.SessionDuration/time.Second), 1800), 43200)
		in.SessionExpirationDurationInSeconds = aws.Int32(secs)
	}
	err := notebookCall(ctx, b, p, t, "creating the presigned notebook URL", "sagemaker:CreatePresignedNotebookInstanceUrl",
		func(ctx context.Context, c NotebookAPI, creds aws.Credentials) error {
			minted := b.opts.Now()
			out, err := timed(ctx, b, t.AccountID, "CreatePresignedNotebookInstanceUrl", func(ctx context.Context) (*sagemaker.CreatePresignedNotebookInstanceUrlOutput, error) {
				return c.CreatePresignedNotebookInstanceUrl(ctx, in, staticCreds(creds))
			})
			if err != nil {
				return err
			}
			if aws.ToString(out.AuthorizedUrl) == "" {
				return fmt.Errorf("CreatePresignedNotebookInstanceUrl returned no URL")
			}
			res = Result{URL: *out.AuthorizedUrl, ExpiresAt: minted.Add(NotebookURLLifetime)}
			return nil
		})
	return res, err
}

// PutSecureParameter writes value to SSM Parameter Store in t's account
// as a SecureString encrypted with kmsKeyID (empty: the account's AWS
// managed key), replacing any earlier value.
func (b *Broker) PutSecureParameter(ctx context.Context, p *identity.Principal, t routing.Target, name, value, kmsKeyID string) error {
	c := b.ssmClient(t)
	creds, _, _, err := b.credentials(ctx, p, t)
	if err != nil {
		return err
	}
	return b.guard(ctx, t.AccountID, classify, func() error {
		in := &ssm.PutParameterInput{Name: aws.String(name), Value: aws.String(value), Type: ssmtypes.ParameterTypeSecureString, Overwrite: aws.Bool(true)}
		if kmsKeyID != "" {
			in.KeyId = aws.String(kmsKeyID)
		}
		callCtx, cancel := context.WithTimeout(ctx, b.opts.CallTimeout)
		defer cancel()
		start := time.Now()
		_, err = c.PutParameter(callCtx, in, func(o *ssm.Options) { o.Credentials = credentials.StaticCredentialsProvider{Value: creds} })
		b.opts.Metrics.AWSCall("ssm", "PutParameter", time.Since(start), err)
		if err != nil {
			return studioError(ctx, err, "publishing the notebook URL to SSM parameter "+name, "ssm:PutParameter and kms:Encrypt", t)
		}
		return nil
	})
}

func sagemakerTags(m map[string]string) []types.Tag {
	if len(m) == 0 {
		return nil
	}
	out := make([]types.Tag, 0, len(m))
	for _, k := range slices.Sorted(maps.Keys(m)) {
		out = append(out, types.Tag{Key: aws.String(k), Value: aws.String(tagValue(m[k]))})
	}
	return out
}
