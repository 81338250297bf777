package awssim

import (
	"cmp"
	"context"
	"encoding/base64"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"
)

// SSM Parameter Store over AWS JSON 1.1 (X-Amz-Target "AmazonSSM.<Op>"),
// enough for sagegate's publishing of presigned notebook URLs: PutParameter
// (String, StringList, SecureString with a KMS key, Overwrite),
// GetParameter (WithDecryption) and DeleteParameter. Parameters belong to
// the caller's account and region. A SecureString is kept as the simulator's
// stand-in for KMS ciphertext: without WithDecryption GetParameter returns
// that, never the plaintext, as on AWS.

// SSMParameter is a parameter as a test sees it.
type SSMParameter struct {
	Type, Value, KeyID string
	Version            int64
	LastModified       time.Time
}

type ssmKey struct{ account, region, name string }

type ssmState struct {
	mu     sync.Mutex
	params map[ssmKey]*SSMParameter
}

// defaultSSMKey is the AWS managed key SecureStrings use without a KeyId.
const defaultSSMKey = "alias/aws/ssm"

// Parameter returns a parameter with its plaintext value.
func (s *Simulator) Parameter(account, region, name string) (SSMParameter, bool) {
	s.ssm.mu.Lock()
	defer s.ssm.mu.Unlock()
	p, ok := s.ssm.params[ssmKey{account, cmp.Or(region, defaultRegion), name}]
	if !ok {
		return SSMParameter{}, false
	}
	return *p, true
}

func (s *Simulator) ssmOperations() map[string]smHandler {
	return map[string]smHandler{
		"PutParameter":    jsonOp(s.putParameter),
		"GetParameter":    jsonOp(s.getParameter),
		"DeleteParameter": jsonOp(s.deleteParameter),
	}
}

func (s *Simulator) serveSSM(ctx context.Context, w http.ResponseWriter, r *http.Request, c *call, target string, body []byte, bodyErr error) {
	s.serveJSON(ctx, w, r, c, jsonService{name: "ssm", prefix: "AmazonSSM", ops: s.ssmOps}, target, body, bodyErr)
}

var ssmNamePattern = lazyRegexp(`^[a-zA-Z0-9_.\-/]+$`)

// checkParameterName applies Parameter Store's naming rules.
func checkParameterName(name *string) *apiError {
	if name == nil || *name == "" {
		return newAPIError(http.StatusBadRequest, "ValidationException", "1 validation error detected: Value null at 'name' failed to satisfy constraint: Member must not be null")
	}
	n := *name
	lower := strings.ToLower(strings.TrimPrefix(n, "/"))
	switch {
	case len(n) > 1011 || !ssmNamePattern().MatchString(n):
		return newAPIError(http.StatusBadRequest, "ValidationException",
			"Parameter name: can't be prefixed with \"aws\" or \"ssm\" (case-insensitive). It must use only letters, numbers, or the following symbols: . (period), - (hyphen), _ (underscore). Special characters are not allowed. All sub-paths, if specified, must use the forward slash symbol \"/\". Valid example: /get/parameters2-/by1./path0_.")
	case strings.HasPrefix(lower, "aws") || strings.HasPrefix(lower, "ssm"):
		return newAPIError(http.StatusBadRequest, "ValidationException", "No access to reserved parameter name: "+n+".")
	case strings.Contains(n, "/") && !strings.HasPrefix(n, "/"):
		return newAPIError(http.StatusBadRequest, "ValidationException", "Parameter name must be a fully qualified name.")
	case strings.Count(n, "/") > 15:
		return newAPIError(http.StatusBadRequest, "HierarchyLevelLimitExceededException", "A hierarchy can have a maximum of 15 levels.")
	}
	return nil
}

type putParameterInput struct {
	Name        *string
	Value       *string
	Type        *string
	KeyId       *string
	Overwrite   *bool
	Description *string
	Tier        *string
	Tags        []struct{ Key, Value string }
}

type putParameterOutput struct {
	Version int64  `json:"Version"`
	Tier    string `json:"Tier"`
}

func (s *Simulator) putParameter(_ context.Context, _ *call, p *principal, in *putParameterInput) (any, *apiError) {
	if e := checkParameterName(in.Name); e != nil {
		return nil, e
	}
	v := validationErrors{code: "ValidationException"}
	if in.Value == nil {
		v.add(nil, "value", "Member must not be null")
	} else if len(*in.Value) > 4096 {
		v.add(nil, "value", "Member must have length less than or equal to 4096")
	}
	checkEnum(&v, "type", in.Type, "String", "StringList", "SecureString")
	if e := v.err(); e != nil {
		return nil, e
	}
	overwrite := in.Overwrite != nil && *in.Overwrite
	if overwrite && len(in.Tags) > 0 {
		return nil, newAPIError(http.StatusBadRequest, "ValidationException", "Invalid request: tags and overwrite can't be used together. To create a parameter with tags, please remove overwrite flag. To update tags for an existing parameter, please use AddTagsToResource or RemoveTagsFromResource.")
	}
	key := ssmKey{p.accountID, p.region, *in.Name}
	s.ssm.mu.Lock()
	defer s.ssm.mu.Unlock()
	old := s.ssm.params[key]
	if old != nil && !overwrite {
		return nil, newAPIError(http.StatusBadRequest, "ParameterAlreadyExists", "The parameter already exists. To overwrite this value, set the overwrite option in the request to true.")
	}
	typ := deref(in.Type)
	switch {
	case typ == "" && old == nil:
		return nil, newAPIError(http.StatusBadRequest, "ValidationException", "A parameter type is required when you create a parameter.")
	case typ == "":
		typ = old.Type
	case old != nil && typ != old.Type:
		return nil, newAPIError(http.StatusBadRequest, "ValidationException", "You can't change the type of an existing parameter ("+old.Type+").")
	}
	keyID := deref(in.KeyId)
	switch {
	case keyID != "" && typ != "SecureString":
		return nil, newAPIError(http.StatusBadRequest, "ValidationException", "KeyId can only be used with the SecureString type.")
	case typ == "SecureString" && keyID == "":
		keyID = defaultSSMKey
	}
	param := &SSMParameter{Type: typ, Value: *in.Value, KeyID: keyID, Version: 1, LastModified: s.now()}
	if old != nil {
		param.Version = old.Version + 1
	}
	if s.ssm.params == nil {
		s.ssm.params = map[ssmKey]*SSMParameter{}
	}
	s.ssm.params[key] = param
	return putParameterOutput{Version: param.Version, Tier: cmp.Or(deref(in.Tier), "Standard")}, nil
}

type getParameterInput struct {
	Name           *string
	WithDecryption *bool
}

type parameter struct {
	Name             string       `json:"Name"`
	Type             string       `json:"Type"`
	Value            string       `json:"Value"`
	Version          int64        `json:"Version"`
	LastModifiedDate epochSeconds `json:"LastModifiedDate"`
	ARN              string       `json:"ARN"`
	DataType         string       `json:"DataType"`
}

type getParameterOutput struct {
	Parameter parameter `json:"Parameter"`
}

func parameterNotFound() *apiError {
	return newAPIError(http.StatusBadRequest, "ParameterNotFound", "")
}

func (s *Simulator) getParameter(_ context.Context, _ *call, p *principal, in *getParameterInput) (any, *apiError) {
	if e := checkParameterName(in.Name); e != nil {
		return nil, e
	}
	s.ssm.mu.Lock()
	defer s.ssm.mu.Unlock()
	param := s.ssm.params[ssmKey{p.accountID, p.region, *in.Name}]
	if param == nil {
		return nil, parameterNotFound()
	}
	value := param.Value
	if param.Type == "SecureString" && (in.WithDecryption == nil || !*in.WithDecryption) {
		// The stand-in for KMS ciphertext: opaque, and never the value.
		value = base64.StdEncoding.EncodeToString([]byte("awssim-kms:" + param.KeyID + ":" + reverse(param.Value)))
	}
	return getParameterOutput{Parameter: parameter{
		Name: *in.Name, Type: param.Type, Value: value, Version: param.Version,
		LastModifiedDate: epochSeconds(param.LastModified), DataType: "text",
		ARN: "arn:aws:ssm:" + p.region + ":" + p.accountID + ":parameter/" + strings.TrimPrefix(*in.Name, "/"),
	}}, nil
}

func (s *Simulator) deleteParameter(_ context.Context, _ *call, p *principal, in *getParameterInput) (any, *apiError) {
	if e := checkParameterName(in.Name); e != nil {
		return nil, e
	}
	s.ssm.mu.Lock()
	defer s.ssm.mu.Unlock()
	key := ssmKey{p.accountID, p.region, *in.Name}
	if s.ssm.params[key] == nil {
		return nil, parameterNotFound()
	}
	delete(s.ssm.params, key)
	return struct{}{}, nil
}

func reverse(s string) string {
	b := []byte(s)
	slices.Reverse(b)
	return string(b)
}
