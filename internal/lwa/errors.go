package lwa

import (
	"errors"
	"fmt"
	"strings"
	"unicode"
)

// The error codes of the LWA token endpoint (RFC 6749, section 5.2, plus the two codes of
// section 4.1.2.1 that LWA also answers with).
const (
	CodeInvalidGrant           = "invalid_grant"
	CodeInvalidClient          = "invalid_client"
	CodeInvalidRequest         = "invalid_request"
	CodeUnauthorizedClient     = "unauthorized_client"
	CodeInvalidScope           = "invalid_scope"
	CodeAccessDenied           = "access_denied"
	CodeServerError            = "server_error"
	CodeTemporarilyUnavailable = "temporarily_unavailable"
)

// ErrUnavailable is wrapped by errors that mean LWA could not be asked: it could not be reached,
// it kept answering 429, 5xx or nothing in time after all attempts, or it answered with something
// that is not a usable token answer. The grant itself may still be good; trying later may help.
var ErrUnavailable = errors.New("lwa unavailable")

// ErrNoCredentials wraps a failure of the CredentialSource: nothing was sent to LWA.
var ErrNoCredentials = errors.New("client credentials unavailable")

// maxDescriptionLen caps how much of LWA's error_description an Error keeps, in characters.
const maxDescriptionLen = 200

// maxCodeLen caps the error code kept from LWA's answer; real codes are short identifiers.
const maxCodeLen = 64

// Error is an OAuth 2.0 error answer of the token endpoint ({"error": …, "error_description": …}).
// Description is LWA's text, cleaned of control characters and of the request's own secrets and
// cut to 200 characters, so the error is safe to log.
type Error struct {
	Code        string
	Description string
	HTTPStatus  int
}

// Error describes the answer. It never contains a token, code or secret.
func (e *Error) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "LWA answered %s (HTTP %d)", e.Code, e.HTTPStatus)
	if e.Description != "" {
		b.WriteString(": ")
		b.WriteString(e.Description)
	}
	return b.String()
}

// IsInvalidGrant reports whether err is LWA's invalid_grant: the code is expired or used, or the
// refresh token was revoked. Retrying cannot help; the seller has to authorize again.
func IsInvalidGrant(err error) bool { return hasCode(err, CodeInvalidGrant) }

// IsInvalidClient reports whether err is LWA's invalid_client: the client credentials were
// rejected, typically because the secret was rotated and the old one has expired.
func IsInvalidClient(err error) bool { return hasCode(err, CodeInvalidClient) }

func hasCode(err error, code string) bool {
	var e *Error
	return errors.As(err, &e) && e.Code == code
}

// retryable reports whether the code means LWA is busy rather than that the request is wrong.
func (e *Error) retryable() bool {
	return e.Code == CodeServerError || e.Code == CodeTemporarilyUnavailable ||
		e.HTTPStatus == 429 || e.HTTPStatus >= 500
}

// newError builds an Error from LWA's answer. Text that comes from the network is cleaned: the
// request's secret values (code, refresh token, client secret) are redacted should LWA echo them,
// control characters are dropped (no log injection), and the lengths are capped.
func newError(status int, code, description string, secrets []string) *Error {
	return &Error{
		Code:        clean(code, maxCodeLen, secrets),
		Description: clean(description, maxDescriptionLen, secrets),
		HTTPStatus:  status,
	}
}

const redacted = "[redacted]"

func clean(s string, maxRunes int, secrets []string) string {
	for _, v := range secrets {
		if v != "" {
			s = strings.ReplaceAll(s, v, redacted)
		}
	}
	s = strings.Map(func(r rune) rune {
		if r == unicode.ReplacementChar || !unicode.IsPrint(r) {
			if unicode.IsSpace(r) {
				return ' '
			}
			return -1
		}
		return r
	}, s)
	s = strings.TrimSpace(s)
	if r := []rune(s); len(r) > maxRunes {
		s = string(r[:maxRunes-1]) + "…"
	}
	return s
}
