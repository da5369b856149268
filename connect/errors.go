package connect

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Sentinel errors to test an *APIError against with errors.Is, by the HTTP status it carries.
var (
	// ErrNotFound matches a 404: the session, or the connection, does not exist.
	ErrNotFound = errors.New("connect: not found")
	// ErrConflict matches a 409: the request conflicts with the current state, such as a
	// disconnect with WithEndUser of a connection that belongs to another end user.
	ErrConflict = errors.New("connect: conflict")
	// ErrForbidden matches a 403: API Gateway refused the signature or the IAM identity lacks
	// the ConnectApiPolicyArn policy.
	ErrForbidden = errors.New("connect: forbidden")
)

// maxMessageLen bounds the message an APIError keeps. API Gateway's answer to a bad signature
// spells out the canonical request, which includes the session token; the first sentence is
// all a caller needs, and the rest must not reach logs.
const maxMessageLen = 256

// APIError is a non-2xx answer of the API. Its Error text holds the status, the code, the
// message and the field, never a credential or a connect token.
type APIError struct {
	// StatusCode is the HTTP status, such as 400, 403, 404, 409, 413, 422 or 5xx.
	StatusCode int
	// Code is the API's stable error code, such as invalid_request, or "http_<status>" when
	// the answer carried none (an API Gateway refusal or a body that is not JSON).
	Code string
	// Message is a sentence for humans, cut to its first line.
	Message string
	// Field names the request field at fault, when there is one.
	Field string
	// RequestID is API Gateway's ID of the request, to quote when asking the operator.
	RequestID string
}

// Error formats the error for logs.
func (e *APIError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "connect: HTTP %d %s", e.StatusCode, e.Code)
	if e.Message != "" {
		b.WriteString(": ")
		b.WriteString(e.Message)
	}
	if e.Field != "" {
		fmt.Fprintf(&b, " (field %s)", e.Field)
	}
	if e.RequestID != "" {
		fmt.Fprintf(&b, " (request %s)", e.RequestID)
	}
	return b.String()
}

// Is lets errors.Is match ErrNotFound, ErrConflict and ErrForbidden by status code.
func (e *APIError) Is(target error) bool {
	switch target {
	case ErrNotFound:
		return e.StatusCode == http.StatusNotFound
	case ErrConflict:
		return e.StatusCode == http.StatusConflict
	case ErrForbidden:
		return e.StatusCode == http.StatusForbidden
	}
	return false
}

// apiError builds the error of a non-2xx answer. The body is the API's
// {"error","message","field"}, API Gateway's own {"message"}, or anything else; only the
// first two are read, so that whatever else a proxy answers never lands in an error text.
func apiError(resp *http.Response, body []byte) *APIError {
	e := &APIError{StatusCode: resp.StatusCode, RequestID: resp.Header.Get("Apigw-Requestid")}
	if e.RequestID == "" {
		e.RequestID = resp.Header.Get("X-Amzn-Requestid")
	}
	var wire struct {
		Error   string `json:"error"`
		Message string `json:"message"`
		Field   string `json:"field"`
	}
	if json.Unmarshal(body, &wire) == nil {
		e.Code, e.Message, e.Field = wire.Error, firstLine(wire.Message), wire.Field
	}
	if e.Code == "" {
		e.Code = "http_" + strconv.Itoa(resp.StatusCode)
	}
	if e.Message == "" {
		e.Message = http.StatusText(resp.StatusCode)
	}
	return e
}

// firstLine returns the first line of s, at most maxMessageLen bytes of it, cut on a rune
// boundary.
func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	s = strings.TrimSpace(s)
	if len(s) <= maxMessageLen {
		return s
	}
	s = s[:maxMessageLen]
	for len(s) > 0 && !utf8.ValidString(s) {
		s = s[:len(s)-1]
	}
	return s + "…"
}
