package awssim

import (
	"encoding/json"
	"encoding/xml"
	"net/http"
	"strconv"
	"strings"
)

// apiError is an AWS service error as the simulator returns it. The code is
// the wire code that the SDK turns into a typed error (ResourceNotFound ->
// *types.ResourceNotFound) or a smithy.GenericAPIError with that code.
type apiError struct {
	status int
	code   string
	msg    string
	server bool // a Receiver (server) fault rather than a Sender fault
}

func (e *apiError) Error() string { return e.code + ": " + e.msg }

func newAPIError(status int, code, msg string) *apiError {
	return &apiError{status: status, code: code, msg: msg, server: status >= 500}
}

// stsAuthError maps an authentication failure to STS's codes and statuses.
func stsAuthError(f *authFailure) *apiError {
	switch f.kind {
	case authMissing:
		return newAPIError(http.StatusForbidden, "MissingAuthenticationToken", f.msg)
	case authIncomplete:
		return newAPIError(http.StatusBadRequest, "IncompleteSignature", f.msg)
	case authUnknownKey:
		return newAPIError(http.StatusForbidden, "InvalidClientTokenId", f.msg)
	case authExpiredToken:
		return newAPIError(http.StatusBadRequest, "ExpiredToken", f.msg)
	default: // bad signature, clock skew
		return newAPIError(http.StatusForbidden, "SignatureDoesNotMatch", f.msg)
	}
}

// jsonAuthError maps an authentication failure to the codes that AWS JSON
// services such as SageMaker use.
func jsonAuthError(f *authFailure) *apiError {
	switch f.kind {
	case authMissing:
		return newAPIError(http.StatusBadRequest, "MissingAuthenticationTokenException", f.msg)
	case authIncomplete:
		return newAPIError(http.StatusBadRequest, "IncompleteSignatureException", f.msg)
	case authUnknownKey:
		return newAPIError(http.StatusBadRequest, "UnrecognizedClientException", f.msg)
	case authExpiredToken:
		return newAPIError(http.StatusBadRequest, "ExpiredTokenException", f.msg)
	default:
		return newAPIError(http.StatusBadRequest, "InvalidSignatureException", f.msg)
	}
}

// validationErrors collects constraint violations and reports them all in
// one message, in AWS's wording ("2 validation errors detected: Value 'x'
// at 'domainId' failed to satisfy constraint: ...").
type validationErrors struct {
	code string // "ValidationError" (STS) or "ValidationException" (SageMaker)
	msgs []string
}

func (v *validationErrors) add(value any, field, constraint string) {
	var shown string
	switch x := value.(type) {
	case nil:
		shown = "null"
	case string:
		shown = "'" + x + "'"
	case int64:
		shown = "'" + strconv.FormatInt(x, 10) + "'"
	default:
		shown = "'?'"
	}
	v.msgs = append(v.msgs, "Value "+shown+" at '"+field+"' failed to satisfy constraint: "+constraint)
}

func (v *validationErrors) err() *apiError {
	switch len(v.msgs) {
	case 0:
		return nil
	case 1:
		return newAPIError(http.StatusBadRequest, v.code, "1 validation error detected: "+v.msgs[0])
	default:
		return newAPIError(http.StatusBadRequest, v.code,
			strconv.Itoa(len(v.msgs))+" validation errors detected: "+strings.Join(v.msgs, "; "))
	}
}

// writeQueryError writes the AWS Query (STS) error document.
func writeQueryError(w http.ResponseWriter, reqID string, e *apiError) {
	type errorBody struct {
		Type    string `xml:"Type"`
		Code    string `xml:"Code"`
		Message string `xml:"Message"`
	}
	doc := struct {
		XMLName   xml.Name  `xml:"ErrorResponse"`
		NS        string    `xml:"xmlns,attr"`
		Error     errorBody `xml:"Error"`
		RequestID string    `xml:"RequestId"`
	}{
		NS:        stsNamespace,
		Error:     errorBody{Type: "Sender", Code: e.code, Message: e.msg},
		RequestID: reqID,
	}
	if e.server {
		doc.Error.Type = "Receiver"
	}
	writeXML(w, e.status, doc)
}

func writeXML(w http.ResponseWriter, status int, v any) {
	out, err := xml.Marshal(v)
	if err != nil {
		http.Error(w, "encoding response", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/xml")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(xml.Header))
	_, _ = w.Write(out)
}

// writeJSONError writes the AWS JSON error document. The SDK reads the code
// from X-Amzn-ErrorType or "__type"; the message goes in "Message" because
// that is the member name of SageMaker's modeled errors.
func writeJSONError(w http.ResponseWriter, e *apiError) {
	w.Header().Set("X-Amzn-ErrorType", e.code)
	writeJSON(w, e.status, map[string]string{"__type": e.code, "Message": e.msg})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	out, err := json.Marshal(v)
	if err != nil {
		http.Error(w, "encoding response", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.WriteHeader(status)
	_, _ = w.Write(out)
}
