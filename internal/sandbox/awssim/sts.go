package awssim

import (
	"context"
	"crypto/subtle"
	"encoding/xml"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// STS over the AWS Query protocol: form-encoded parameters (Action=...,
// Version=2011-06-15) in, XML out.

const (
	stsNamespace = "https://sts.amazonaws.com/doc/2011-06-15/"
	stsVersion   = "2011-06-15"

	defaultSessionDuration = time.Hour
	// roleChainingLimit caps sessions assumed with temporary credentials.
	roleChainingLimit = time.Hour
	// sessionTokenBytes of randomness make an 800-character session
	// token: AWS's are several hundred characters (not a fixed size), and
	// what a gateway holds per person in a load test should be what it
	// would hold against AWS.
	sessionTokenBytes = 600
)

var (
	stsNamePattern       = lazyRegexp(`^[\w+=,.@-]*$`)
	stsExternalIDPattern = lazyRegexp(`^[\w+=,.@:/-]*$`)
	roleARNPattern       = lazyRegexp(`^arn:aws:iam::(\d{12}):role/((?:[\x21-\x7e]+/)?[\w+=,.@-]{1,64})$`)
)

type queryResponse struct {
	XMLName  xml.Name
	NS       string `xml:"xmlns,attr"`
	Result   any
	Metadata responseMetadata `xml:"ResponseMetadata"`
}

type responseMetadata struct {
	RequestID string `xml:"RequestId"`
}

type stsHandler func(ctx context.Context, c *call, p *principal, params url.Values) (any, *apiError)

func (s *Simulator) serveSTS(ctx context.Context, w http.ResponseWriter, r *http.Request, c *call, body []byte, bodyErr error) {
	c.rec.Service = "sts"
	result, e := s.runSTS(ctx, r, c, body, bodyErr)
	s.finish(ctx, c, e)
	if e != nil {
		writeQueryError(w, c.requestID, e)
		return
	}
	// The element names come from the operation: <AssumeRoleResponse>
	// wraps <AssumeRoleResult>, which the SDK looks for by name.
	writeXML(w, http.StatusOK, queryResponse{
		XMLName:  xml.Name{Local: c.rec.Operation + "Response"},
		NS:       stsNamespace,
		Result:   result,
		Metadata: responseMetadata{RequestID: c.requestID},
	})
}

func (s *Simulator) runSTS(ctx context.Context, r *http.Request, c *call, body []byte, bodyErr error) (any, *apiError) {
	if bodyErr != nil {
		return nil, newAPIError(http.StatusRequestEntityTooLarge, "RequestEntityTooLarge", "Request body is too large")
	}
	// Parameters may come in the query string (GET) or the form body (POST).
	params, err := url.ParseQuery(r.URL.RawQuery)
	if err == nil && r.Method == http.MethodPost {
		var form url.Values
		if form, err = url.ParseQuery(string(body)); err == nil {
			for k, v := range form {
				params[k] = append(params[k], v...)
			}
		}
	}
	if err != nil {
		return nil, newAPIError(http.StatusBadRequest, "MalformedInput", "The request parameters could not be parsed")
	}
	action := params.Get("Action")
	c.rec.Operation = action

	var op stsHandler
	switch action {
	case "AssumeRole":
		op = s.assumeRole
		// Count AssumeRole under the account that owns the role, even when
		// it fails, so tests can see which accounts a user tried to reach.
		if m := roleARNPattern().FindStringSubmatch(params.Get("RoleArn")); m != nil {
			c.rec.Account = m[1]
		}
	case "GetCallerIdentity":
		op = s.getCallerIdentity
	}

	p, fail := s.authenticate(ctx, r, body, "sts")
	if p != nil {
		acct := c.rec.Account
		c.setPrincipal(p)
		if acct != "" {
			c.rec.Account = acct
		}
	}
	if fail != nil {
		return nil, stsAuthError(fail)
	}
	switch {
	case action == "":
		return nil, newAPIError(http.StatusBadRequest, "MissingAction", "Request is missing Action")
	case op == nil:
		return nil, newAPIError(http.StatusBadRequest, "InvalidAction", "Could not find operation "+action+" for version "+stsVersion)
	case params.Get("Version") != stsVersion:
		return nil, newAPIError(http.StatusBadRequest, "InvalidAction", "Could not find operation "+action+" for version "+params.Get("Version"))
	}
	if e := s.faults.match(&c.rec); e != nil {
		return nil, e
	}
	return op(ctx, c, p, params)
}

type assumeRoleResult struct {
	XMLName         xml.Name `xml:"AssumeRoleResult"`
	SourceIdentity  string   `xml:"SourceIdentity,omitempty"`
	AssumedRoleUser struct {
		AssumedRoleID string `xml:"AssumedRoleId"`
		Arn           string `xml:"Arn"`
	} `xml:"AssumedRoleUser"`
	Credentials struct {
		AccessKeyID     string `xml:"AccessKeyId"`
		SecretAccessKey string `xml:"SecretAccessKey"`
		SessionToken    string `xml:"SessionToken"`
		Expiration      string `xml:"Expiration"`
	} `xml:"Credentials"`
}

func (s *Simulator) assumeRole(_ context.Context, c *call, p *principal, params url.Values) (any, *apiError) {
	roleARN := params.Get("RoleArn")
	sessionName := params.Get("RoleSessionName")
	sourceIdentity := params.Get("SourceIdentity")
	externalID := params.Get("ExternalId")
	c.rec.RoleARN = roleARN
	c.rec.RoleSessionName = sessionName
	c.rec.SourceIdentity = sourceIdentity

	v := validationErrors{code: "ValidationError"}
	m := roleARNPattern().FindStringSubmatch(roleARN)
	switch {
	case !params.Has("RoleArn"):
		v.add(nil, "roleArn", "Member must not be null")
	case len(roleARN) < 20:
		v.add(roleARN, "roleArn", "Member must have length greater than or equal to 20")
	case len(roleARN) > 2048:
		v.add(roleARN, "roleArn", "Member must have length less than or equal to 2048")
	}
	if !params.Has("RoleSessionName") {
		v.add(nil, "roleSessionName", "Member must not be null")
	} else {
		checkSTSString(&v, "roleSessionName", sessionName, 2, 64, stsNamePattern())
	}
	if params.Has("SourceIdentity") {
		checkSTSString(&v, "sourceIdentity", sourceIdentity, 2, 64, stsNamePattern())
	}
	if params.Has("ExternalId") {
		checkSTSString(&v, "externalId", externalID, 2, 1224, stsExternalIDPattern())
	}
	duration := defaultSessionDuration
	if params.Has("DurationSeconds") {
		n, err := strconv.ParseInt(params.Get("DurationSeconds"), 10, 32)
		switch {
		case err != nil:
			v.add(params.Get("DurationSeconds"), "durationSeconds", "Member must be an integer")
		case n < 900:
			v.add(n, "durationSeconds", "Member must have value greater than or equal to 900")
		case n > 43200:
			v.add(n, "durationSeconds", "Member must have value less than or equal to 43200")
		default:
			duration = time.Duration(n) * time.Second
		}
	}
	if e := v.err(); e != nil {
		return nil, e
	}
	if m == nil {
		return nil, newAPIError(http.StatusBadRequest, "ValidationError", roleARN+" is invalid")
	}
	accountID, roleName := m[1], m[2]

	denied := newAPIError(http.StatusForbidden, "AccessDenied",
		"User: "+p.arn+" is not authorized to perform: sts:AssumeRole on resource: "+roleARN)
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	acct := s.accounts[accountID]
	if acct == nil {
		return nil, denied
	}
	role, ok := acct.roles[roleName]
	if !ok {
		return nil, denied
	}
	if len(role.TrustedAccounts) > 0 && !slices.Contains(role.TrustedAccounts, p.accountID) {
		return nil, denied
	}
	if role.ExternalID != "" && subtle.ConstantTimeCompare([]byte(role.ExternalID), []byte(externalID)) != 1 {
		return nil, denied
	}
	// A source identity, once set, sticks to every chained session.
	if p.sourceIdentity != "" {
		if sourceIdentity != "" && sourceIdentity != p.sourceIdentity {
			return nil, denied
		}
		sourceIdentity = p.sourceIdentity
		c.rec.SourceIdentity = sourceIdentity
	}
	maxDuration := role.MaxSessionDuration
	if maxDuration == 0 {
		maxDuration = defaultSessionDuration
	}
	if p.temporary && duration > roleChainingLimit {
		return nil, newAPIError(http.StatusBadRequest, "ValidationError",
			"The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.")
	}
	if duration > maxDuration {
		return nil, newAPIError(http.StatusBadRequest, "ValidationError",
			"The requested DurationSeconds exceeds the MaxSessionDuration set for this role.")
	}

	shortName := roleName[strings.LastIndex(roleName, "/")+1:]
	sess := &session{
		accessKeyID:     randomKeyID("ASIA"),
		secretAccessKey: randomSecret(30),
		sessionToken:    randomSecret(sessionTokenBytes),
		expires:         now.Add(duration).UTC().Truncate(time.Second),
		accountID:       accountID,
		roleARN:         roleARN,
		assumedARN:      "arn:aws:sts::" + accountID + ":assumed-role/" + shortName + "/" + sessionName,
		assumedRoleID:   stableID("AROA", roleARN) + ":" + sessionName,
		sessionName:     sessionName,
		sourceIdentity:  sourceIdentity,
	}
	s.pruneLocked(now)
	s.sessions[sess.accessKeyID] = sess

	var out assumeRoleResult
	out.SourceIdentity = sourceIdentity
	out.AssumedRoleUser.AssumedRoleID = sess.assumedRoleID
	out.AssumedRoleUser.Arn = sess.assumedARN
	out.Credentials.AccessKeyID = sess.accessKeyID
	out.Credentials.SecretAccessKey = sess.secretAccessKey
	out.Credentials.SessionToken = sess.sessionToken
	out.Credentials.Expiration = sess.expires.Format(time.RFC3339)
	return out, nil
}

func checkSTSString(v *validationErrors, field, value string, minLen, maxLen int, pattern *regexp.Regexp) {
	switch {
	case len(value) < minLen:
		v.add(value, field, "Member must have length greater than or equal to "+strconv.Itoa(minLen))
	case len(value) > maxLen:
		v.add(value, field, "Member must have length less than or equal to "+strconv.Itoa(maxLen))
	case !pattern.MatchString(value):
		v.add(value, field, "Member must satisfy regular expression pattern: "+strings.Trim(pattern.String(), "^$"))
	}
}

type getCallerIdentityResult struct {
	XMLName xml.Name `xml:"GetCallerIdentityResult"`
	Arn     string   `xml:"Arn"`
	UserID  string   `xml:"UserId"`
	Account string   `xml:"Account"`
}

func (s *Simulator) getCallerIdentity(_ context.Context, _ *call, p *principal, _ url.Values) (any, *apiError) {
	return getCallerIdentityResult{Arn: p.arn, UserID: p.userID, Account: p.accountID}, nil
}
