package awssim

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// SigV4 verification. The simulator recomputes every signature from the
// request as received, the way AWS does, so a client that signs wrongly (bad
// secret, wrong service or region scope, body altered after signing) fails
// here instead of first failing in production.

const (
	sigAlgorithm = "AWS4-HMAC-SHA256"
	amzDateFmt   = "20060102T150405Z"
	scopeDateFmt = "20060102"
)

// authFailureKind classifies why a request was not authenticated; each
// service renders it with its own error code.
type authFailureKind int

const (
	authMissing      authFailureKind = iota // no Authorization header
	authIncomplete                          // malformed Authorization or date
	authUnknownKey                          // access key unknown or token mismatch
	authBadSignature                        // signature or scope does not match
	authExpiredToken                        // temporary credentials expired
	authSkew                                // signing time too far from now
)

type authFailure struct {
	kind authFailureKind
	msg  string
}

// authHeader is the parsed Authorization header.
type authHeader struct {
	accessKeyID   string
	scopeDate     string
	region        string
	service       string
	signedHeaders []string
	signature     string
}

func (a authHeader) scope() string {
	return a.scopeDate + "/" + a.region + "/" + a.service + "/aws4_request"
}

// parseAuthorization parses
// "AWS4-HMAC-SHA256 Credential=AKID/20240101/us-east-1/sts/aws4_request,
// SignedHeaders=host;x-amz-date, Signature=hex".
func parseAuthorization(v string) (authHeader, error) {
	var a authHeader
	alg, rest, ok := strings.Cut(strings.TrimSpace(v), " ")
	if !ok || alg != sigAlgorithm {
		return a, fmt.Errorf("authorization header requires the %s algorithm", sigAlgorithm)
	}
	var credential, signed string
	for part := range strings.SplitSeq(rest, ",") {
		k, val, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			return a, fmt.Errorf("authorization header has a malformed component")
		}
		switch k {
		case "Credential":
			credential = val
		case "SignedHeaders":
			signed = val
		case "Signature":
			a.signature = val
		}
	}
	if credential == "" || signed == "" || a.signature == "" {
		return a, fmt.Errorf("authorization header requires 'Credential', 'SignedHeaders' and 'Signature' parameters")
	}
	parts := strings.Split(credential, "/")
	if len(parts) != 5 || parts[4] != "aws4_request" || parts[0] == "" {
		return a, fmt.Errorf("credential must have the form <key>/<date>/<region>/<service>/aws4_request")
	}
	a.accessKeyID, a.scopeDate, a.region, a.service = parts[0], parts[1], parts[2], parts[3]
	a.signedHeaders = strings.Split(signed, ";")
	return a, nil
}

// authenticate verifies the request's signature and resolves who made it.
// On failure the principal is still returned when the access key was known,
// so the failed call can be counted under the account it claimed to act
// in; it must not be trusted for anything else.
// The order of checks is: header shape, scope, key, token, signature, token
// expiry, clock skew. Expiry comes after the signature so that only the key
// holder learns the credentials expired, and before skew so that a test
// that moves the simulator's clock past expiry sees ExpiredToken.
func (s *Simulator) authenticate(_ context.Context, r *http.Request, body []byte, service string) (*principal, *authFailure) {
	raw := r.Header.Get("Authorization")
	if raw == "" {
		return nil, &authFailure{authMissing, "Request is missing Authentication Token"}
	}
	a, err := parseAuthorization(raw)
	if err != nil {
		return nil, &authFailure{authIncomplete, err.Error()}
	}
	if !slices.Contains(a.signedHeaders, "host") {
		return nil, &authFailure{authIncomplete, "'Host' must be a 'SignedHeader' in the AWS Authorization."}
	}
	amzDate, signedAt, ok := requestTime(r)
	if !ok {
		return nil, &authFailure{authIncomplete, "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header."}
	}
	if a.scopeDate != signedAt.Format(scopeDateFmt) {
		return nil, &authFailure{authBadSignature, "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '" + a.scopeDate + "' != '" + signedAt.Format(scopeDateFmt) + "'"}
	}
	if a.service != service {
		return nil, &authFailure{authBadSignature, "Credential should be scoped to correct service: '" + service + "'."}
	}

	secret, p, sess, ok := s.lookupKey(a.accessKeyID)
	token := r.Header.Get("X-Amz-Security-Token")
	if ok {
		p.region = a.region
	}
	switch {
	case !ok:
		return p, &authFailure{authUnknownKey, "The security token included in the request is invalid."}
	case sess == nil && token != "":
		return p, &authFailure{authUnknownKey, "The security token included in the request is invalid."}
	case sess != nil && subtle.ConstantTimeCompare([]byte(token), []byte(sess.sessionToken)) != 1:
		return p, &authFailure{authUnknownKey, "The security token included in the request is invalid."}
	}

	payloadHash := hashHex(body)
	if h := r.Header.Get("X-Amz-Content-Sha256"); h != "" && h != payloadHash {
		return p, &authFailure{authBadSignature, "The provided 'x-amz-content-sha256' header does not match what was computed."}
	}
	canonical := canonicalRequest(r, a.signedHeaders, payloadHash)
	toSign := sigAlgorithm + "\n" + amzDate + "\n" + a.scope() + "\n" + hashHex([]byte(canonical))
	want := hex.EncodeToString(hmacSHA256(signingKey(secret, a), toSign))
	if subtle.ConstantTimeCompare([]byte(want), []byte(a.signature)) != 1 {
		return p, &authFailure{authBadSignature, "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details."}
	}

	now := s.now()
	if sess != nil && !now.Before(sess.expires) {
		return p, &authFailure{authExpiredToken, "The security token included in the request is expired"}
	}
	switch d := now.Sub(signedAt); {
	case d > maxClockSkew:
		return p, &authFailure{authSkew, fmt.Sprintf("Signature expired: %s is now earlier than %s (%s - 5 min.)",
			amzDate, now.Add(-maxClockSkew).UTC().Format(amzDateFmt), now.UTC().Format(amzDateFmt))}
	case d < -maxClockSkew:
		return p, &authFailure{authSkew, fmt.Sprintf("Signature not yet current: %s is still later than %s (%s + 5 min.)",
			amzDate, now.Add(maxClockSkew).UTC().Format(amzDateFmt), now.UTC().Format(amzDateFmt))}
	}
	return p, nil
}

// lookupKey resolves an access key to its secret and principal. sess is set
// for temporary credentials.
func (s *Simulator) lookupKey(keyID string) (secret string, p *principal, sess *session, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c, found := s.callers[keyID]; found {
		return c.SecretAccessKey, &principal{
			accountID: c.AccountID,
			arn:       c.ARN,
			userID:    stableID("AIDA", c.ARN),
		}, nil, true
	}
	if sess, found := s.sessions[keyID]; found {
		return sess.secretAccessKey, &principal{
			accountID:      sess.accountID,
			arn:            sess.assumedARN,
			userID:         sess.assumedRoleID,
			temporary:      true,
			roleARN:        sess.roleARN,
			sessionName:    sess.sessionName,
			sourceIdentity: sess.sourceIdentity,
		}, sess, true
	}
	return "", nil, nil, false
}

// requestTime returns the signing time from X-Amz-Date or, failing that,
// the Date header, together with its ISO-8601 basic form.
func requestTime(r *http.Request) (string, time.Time, bool) {
	if v := r.Header.Get("X-Amz-Date"); v != "" {
		t, err := time.Parse(amzDateFmt, v)
		return v, t, err == nil
	}
	if v := r.Header.Get("Date"); v != "" {
		t, err := http.ParseTime(v)
		return t.UTC().Format(amzDateFmt), t, err == nil
	}
	return "", time.Time{}, false
}

// canonicalRequest builds the SigV4 canonical request from what arrived on
// the wire. The path comes from RequestURI rather than r.URL so that
// mounting the handler under http.StripPrefix does not change what is
// verified.
func canonicalRequest(r *http.Request, signedHeaders []string, payloadHash string) string {
	rawPath, rawQuery := r.URL.EscapedPath(), r.URL.RawQuery
	if r.RequestURI != "" {
		if u, err := url.ParseRequestURI(r.RequestURI); err == nil {
			rawPath, rawQuery = u.EscapedPath(), u.RawQuery
		}
	}
	if rawPath == "" {
		rawPath = "/"
	}
	var b strings.Builder
	b.WriteString(r.Method)
	b.WriteByte('\n')
	// Non-S3 services sign the already-escaped path escaped once more.
	b.WriteString(uriEncode(rawPath, false))
	b.WriteByte('\n')
	b.WriteString(canonicalQuery(rawQuery))
	b.WriteByte('\n')
	for _, h := range signedHeaders {
		b.WriteString(h)
		b.WriteByte(':')
		b.WriteString(headerValue(r, h))
		b.WriteByte('\n')
	}
	b.WriteByte('\n')
	b.WriteString(strings.Join(signedHeaders, ";"))
	b.WriteByte('\n')
	b.WriteString(payloadHash)
	return b.String()
}

// headerValue returns a signed header's canonical value: values trimmed,
// inner runs of spaces collapsed, multiple values joined with commas.
func headerValue(r *http.Request, name string) string {
	var values []string
	switch name {
	case "host":
		values = []string{r.Host}
	case "content-length":
		values = r.Header.Values("Content-Length")
		if len(values) == 0 && r.ContentLength >= 0 {
			values = []string{strconv.FormatInt(r.ContentLength, 10)}
		}
	default:
		values = r.Header.Values(name)
	}
	// Build a new slice: values may alias the request's header map.
	cleaned := make([]string, len(values))
	for i, v := range values {
		cleaned[i] = strings.Join(strings.Fields(v), " ")
	}
	return strings.Join(cleaned, ",")
}

// canonicalQuery sorts the query parameters and re-encodes them with the
// SigV4 rules (RFC 3986 unreserved characters kept, everything else %XX).
func canonicalQuery(raw string) string {
	type pair struct{ k, v string }
	var pairs []pair
	for part := range strings.SplitSeq(raw, "&") {
		if part == "" {
			continue
		}
		k, v, _ := strings.Cut(part, "=")
		if dk, err := url.QueryUnescape(k); err == nil {
			k = dk
		}
		if dv, err := url.QueryUnescape(v); err == nil {
			v = dv
		}
		pairs = append(pairs, pair{uriEncode(k, true), uriEncode(v, true)})
	}
	slices.SortFunc(pairs, func(a, b pair) int {
		if c := strings.Compare(a.k, b.k); c != 0 {
			return c
		}
		return strings.Compare(a.v, b.v)
	})
	parts := make([]string, len(pairs))
	for i, p := range pairs {
		parts[i] = p.k + "=" + p.v
	}
	return strings.Join(parts, "&")
}

// uriEncode percent-encodes everything except RFC 3986 unreserved
// characters, and '/' unless encodeSlash.
func uriEncode(s string, encodeSlash bool) string {
	const hexDigits = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'A' <= c && c <= 'Z', 'a' <= c && c <= 'z', '0' <= c && c <= '9',
			c == '-', c == '_', c == '.', c == '~', c == '/' && !encodeSlash:
			b.WriteByte(c)
		default:
			b.WriteByte('%')
			b.WriteByte(hexDigits[c>>4])
			b.WriteByte(hexDigits[c&0xf])
		}
	}
	return b.String()
}

func signingKey(secret string, a authHeader) []byte {
	k := hmacSHA256([]byte("AWS4"+secret), a.scopeDate)
	k = hmacSHA256(k, a.region)
	k = hmacSHA256(k, a.service)
	return hmacSHA256(k, "aws4_request")
}

func hmacSHA256(key []byte, data string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(data))
	return m.Sum(nil)
}

func hashHex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}
