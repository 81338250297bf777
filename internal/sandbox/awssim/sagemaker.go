package awssim

import (
	"bytes"
	"context"
	"encoding/json"
	"maps"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// SageMaker over AWS JSON 1.1: POST with X-Amz-Target "SageMaker.<Op>" and
// a JSON body; JSON out, errors as {"__type": ..., "Message": ...}.
//
// Adding an operation: write a method taking (ctx, *call, *principal, *In)
// with In a struct mirroring the API's input members, and register it in
// sageMakerOperations. jsonOp does the decoding.

// smHandler runs one decoded SageMaker operation.
type smHandler func(ctx context.Context, c *call, p *principal, body []byte) (any, *apiError)

func (s *Simulator) sageMakerOperations() map[string]smHandler {
	ops := map[string]smHandler{
		"CreatePresignedDomainUrl": jsonOp(s.createPresignedDomainURL),
		"DescribeDomain":           jsonOp(s.describeDomain),
		"ListDomains":              jsonOp(s.listDomains),
		"DescribeUserProfile":      jsonOp(s.describeUserProfile),
		"ListUserProfiles":         jsonOp(s.listUserProfiles),
		"CreateUserProfile":        jsonOp(s.createUserProfile),
		"CreateSpace":              jsonOp(s.createSpace),
		"DescribeSpace":            jsonOp(s.describeSpace),
		"DeleteUserProfile":        jsonOp(s.deleteUserProfile),
	}
	maps.Copy(ops, s.notebookOperations())
	return ops
}

// jsonOp adapts a typed operation to smHandler by decoding its input.
func jsonOp[In any](fn func(context.Context, *call, *principal, *In) (any, *apiError)) smHandler {
	return func(ctx context.Context, c *call, p *principal, body []byte) (any, *apiError) {
		in := new(In)
		if len(bytes.TrimSpace(body)) > 0 {
			if err := json.Unmarshal(body, in); err != nil {
				return nil, newAPIError(http.StatusBadRequest, "SerializationException", "Could not decode the request body: "+err.Error())
			}
		}
		return fn(ctx, c, p, in)
	}
}

func (s *Simulator) serveSageMaker(ctx context.Context, w http.ResponseWriter, r *http.Request, c *call, target string, body []byte, bodyErr error) {
	s.serveJSON(ctx, w, r, c, jsonService{name: "sagemaker", prefix: "SageMaker", ops: s.smOps}, target, body, bodyErr)
}

// jsonService is one AWS JSON 1.1 service of the simulator: its SigV4
// name, its X-Amz-Target prefix, and its operations.
type jsonService struct {
	name, prefix string
	ops          map[string]smHandler
}

// serveJSON runs one call of svc and writes its answer.
func (s *Simulator) serveJSON(ctx context.Context, w http.ResponseWriter, r *http.Request, c *call, svc jsonService, target string, body []byte, bodyErr error) {
	c.rec.Service = svc.name
	out, e := s.runJSON(ctx, r, c, svc, target, body, bodyErr)
	s.finish(ctx, c, e)
	if e != nil {
		writeJSONError(w, e)
		return
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Simulator) runJSON(ctx context.Context, r *http.Request, c *call, svc jsonService, target string, body []byte, bodyErr error) (any, *apiError) {
	prefix, op, _ := strings.Cut(target, ".")
	c.rec.Operation = op
	if bodyErr != nil {
		return nil, newAPIError(http.StatusRequestEntityTooLarge, "SerializationException", "Request body is too large")
	}
	p, fail := s.authenticate(ctx, r, body, svc.name)
	if p != nil {
		c.setPrincipal(p)
	}
	if fail != nil {
		return nil, jsonAuthError(fail)
	}
	h := svc.ops[op]
	if prefix != svc.prefix || h == nil {
		return nil, newAPIError(http.StatusBadRequest, "UnknownOperationException", "Unknown operation "+target)
	}
	if e := s.faults.match(&c.rec); e != nil {
		return nil, e
	}
	return h(ctx, c, p, body)
}

// epochSeconds is a timestamp in AWS JSON's default wire format: seconds
// since the epoch as a JSON number.
type epochSeconds time.Time

func (t epochSeconds) MarshalJSON() ([]byte, error) {
	ms := time.Time(t).UnixMilli()
	return strconv.AppendFloat(nil, float64(ms)/1000, 'f', -1, 64), nil
}

func domainNotFound(accountID, region, id string) *apiError {
	return newAPIError(http.StatusBadRequest, "ResourceNotFound",
		"Domain 'arn:aws:sagemaker:"+region+":"+accountID+":domain/"+id+"' not found.")
}

func profileNotFound(d *domain, profile string) *apiError {
	return newAPIError(http.StatusBadRequest, "ResourceNotFound",
		"User profile '"+profile+"' not found in domain '"+d.ID+"'.")
}

// studioURL is the domain's Studio address; on AWS it is
// https://<domain-id>.studio.<region>.sagemaker.aws.
func (s *Simulator) studioURL(d *domain) string {
	return s.studio.url + "/" + d.ID
}

func executionRole(accountID string) string {
	return "arn:aws:iam::" + accountID + ":role/service-role/AmazonSageMaker-ExecutionRole"
}

type describeDomainInput struct {
	DomainId *string
}

type userSettings struct {
	ExecutionRole string `json:"ExecutionRole"`
}

type describeDomainOutput struct {
	DomainArn            string       `json:"DomainArn"`
	DomainId             string       `json:"DomainId"`
	DomainName           string       `json:"DomainName"`
	Status               string       `json:"Status"`
	AuthMode             string       `json:"AuthMode"`
	AppNetworkAccessType string       `json:"AppNetworkAccessType"`
	HomeEfsFileSystemId  string       `json:"HomeEfsFileSystemId"`
	Url                  string       `json:"Url"`
	CreationTime         epochSeconds `json:"CreationTime"`
	LastModifiedTime     epochSeconds `json:"LastModifiedTime"`
	DefaultUserSettings  userSettings `json:"DefaultUserSettings"`
}

func (s *Simulator) describeDomain(_ context.Context, c *call, p *principal, in *describeDomainInput) (any, *apiError) {
	v := validationErrors{code: "ValidationException"}
	checkName(&v, "domainId", in.DomainId, true, domainIDPattern())
	if e := v.err(); e != nil {
		return nil, e
	}
	c.rec.DomainID = *in.DomainId
	d := s.domainInRegion(p.accountID, p.region, *in.DomainId)
	if d == nil {
		return nil, domainNotFound(p.accountID, p.region, *in.DomainId)
	}
	return describeDomainOutput{
		DomainArn:            d.arn(),
		DomainId:             d.ID,
		DomainName:           d.Name,
		Status:               d.Status,
		AuthMode:             d.AuthMode,
		AppNetworkAccessType: "PublicInternetOnly",
		HomeEfsFileSystemId:  "fs-" + strings.ToLower(stableID("", d.arn())),
		Url:                  s.studioURL(d),
		CreationTime:         epochSeconds(d.created),
		LastModifiedTime:     epochSeconds(d.created),
		DefaultUserSettings:  userSettings{ExecutionRole: executionRole(d.accountID)},
	}, nil
}

type listDomainsInput struct {
	MaxResults *int64
	NextToken  *string
}

type domainDetails struct {
	DomainArn        string       `json:"DomainArn"`
	DomainId         string       `json:"DomainId"`
	DomainName       string       `json:"DomainName"`
	Status           string       `json:"Status"`
	Url              string       `json:"Url"`
	CreationTime     epochSeconds `json:"CreationTime"`
	LastModifiedTime epochSeconds `json:"LastModifiedTime"`
}

type listDomainsOutput struct {
	Domains   []domainDetails `json:"Domains"`
	NextToken string          `json:"NextToken,omitempty"`
}

func (s *Simulator) listDomains(_ context.Context, _ *call, p *principal, in *listDomainsInput) (any, *apiError) {
	domains := s.domainsInRegion(p.accountID, p.region)
	v := validationErrors{code: "ValidationException"}
	pg, e := paginate(&v, len(domains), in.MaxResults, in.NextToken, "ListDomains:"+p.accountID+":"+p.region)
	if e != nil {
		return nil, e
	}
	out := listDomainsOutput{Domains: []domainDetails{}, NextToken: pg.next}
	for _, d := range domains[pg.start:pg.end] {
		out.Domains = append(out.Domains, domainDetails{
			DomainArn:        d.arn(),
			DomainId:         d.ID,
			DomainName:       d.Name,
			Status:           d.Status,
			Url:              s.studioURL(d),
			CreationTime:     epochSeconds(d.created),
			LastModifiedTime: epochSeconds(d.created),
		})
	}
	return out, nil
}
