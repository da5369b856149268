package authflow

import (
	"errors"
	"fmt"
)

// Errors a request can end with. The HTTP layer maps each to a status and a page; none of them
// carries a token, code, state or secret.
var (
	// Bad or unusable input (4xx).
	ErrUnknownMarketplace = errors.New("unknown marketplace")
	ErrNoVendorCentral    = errors.New("marketplace has no Vendor Central")
	ErrBadAccountType     = errors.New("unknown account type")
	ErrMissingCookie      = errors.New("state cookie missing: not the browser that started")
	ErrStateMismatch      = errors.New("state does not match this browser's cookie")
	ErrUntrustedCallback  = errors.New("amazon_callback_uri is not an Amazon origin")
	ErrCodeRejected       = errors.New("authorization code rejected by Login with Amazon")
	// ErrSessionRequired: anonymous authorizations are off, so a flow must start from a
	// connect session the app created.
	ErrSessionRequired = errors.New("authorizations start from the app (connect session)")
	// ErrConnectedToAnotherUser: the seller's active authorization in that region belongs to
	// another end user, who must disconnect it first. Nothing was stored.
	ErrConnectedToAnotherUser = errors.New("seller is connected to another user")

	// Failures of what we depend on (5xx).
	ErrStorage           = errors.New("storage unavailable")
	ErrAmazonUnavailable = errors.New("Login with Amazon unavailable")
	ErrAppCredentials    = errors.New("app credentials rejected by Login with Amazon")
	// ErrCredentialsUnavailable: the secret could not be read (Secrets Manager down, or the
	// operator has not filled it yet).
	ErrCredentialsUnavailable = errors.New("app credentials unavailable")
)

// InputError is a missing or malformed request parameter. Its message names the parameter,
// never its value.
type InputError struct {
	Param  string
	Reason string
}

func (e *InputError) Error() string { return fmt.Sprintf("parameter %s: %s", e.Param, e.Reason) }

func missing(param string) error { return &InputError{Param: param, Reason: "missing"} }

func malformed(param string) error { return &InputError{Param: param, Reason: "malformed"} }

// ConflictError is ErrConnectedToAnotherUser with the owner's end_user_id (empty for an anonymous
// connection), which the refusal's event names.
type ConflictError struct{ Owner string }

func (e *ConflictError) Error() string { return ErrConnectedToAnotherUser.Error() }

// Is makes errors.Is(err, ErrConnectedToAnotherUser) hold.
func (e *ConflictError) Is(target error) bool { return target == ErrConnectedToAnotherUser }
