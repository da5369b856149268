package httpapi

import (
	"errors"
	"net/http"

	"github.com/sellerauth/sellerauth/internal/authflow"
)

// problem is what a seller (or a program, as JSON) learns about a failure: a status, a stable
// code and a sentence that says what to do. It never holds internal error text.
type problem struct {
	Status  int    `json:"-"`
	Code    string `json:"error"`
	Message string `json:"message"`
	// ListMarketplaces asks the page to show the valid marketplaces.
	ListMarketplaces bool `json:"-"`
}

// problemFor is the one place where an error becomes a status and a page.
func problemFor(err error) problem {
	var input *authflow.InputError
	switch {
	case errors.As(err, &input):
		return problem{http.StatusBadRequest, "invalid_request",
			"The link is incomplete or malformed (" + input.Param + " " + input.Reason + "). Please start again.", false}
	case errors.Is(err, authflow.ErrUnknownMarketplace):
		return problem{http.StatusBadRequest, "unknown_marketplace",
			"That marketplace is not one we know. Choose one of the marketplaces below.", true}
	case errors.Is(err, authflow.ErrNoVendorCentral):
		return problem{http.StatusBadRequest, "no_vendor_central",
			"Vendor Central is not available for that marketplace. Choose another one below.", true}
	case errors.Is(err, authflow.ErrBadAccountType):
		return problem{http.StatusBadRequest, "unknown_account_type",
			"The account type must be seller or vendor. Please start again.", false}
	case errors.Is(err, authflow.ErrMissingCookie):
		return problem{http.StatusForbidden, "wrong_browser",
			"This authorization was started in another browser, or your browser blocked our cookie. " +
				"Please start again in this browser and finish it there.", false}
	case errors.Is(err, authflow.ErrStateMismatch):
		return problem{http.StatusForbidden, "state_mismatch",
			"This authorization does not belong to this browser session. Please start again.", false}
	case errors.Is(err, authflow.ErrSessionRequired):
		return problem{http.StatusForbidden, "start_from_the_app",
			"Connecting your Amazon account starts in the app you want to connect it to: sign in there and choose Connect Amazon.", false}
	case errors.Is(err, authflow.ErrSessionNotFound):
		return problem{http.StatusNotFound, "session_unknown",
			"This connect link is not valid. Please start again from the app.", false}
	case errors.Is(err, authflow.ErrSessionUsed):
		return problem{http.StatusGone, "session_used",
			"This connect link was already used; each link works once. Please start again from the app.", false}
	case errors.Is(err, authflow.ErrSessionExpired):
		return problem{http.StatusGone, "session_expired",
			"This connect link has expired. Please start again from the app.", false}
	case errors.Is(err, authflow.ErrConnectedToAnotherUser):
		return problem{http.StatusConflict, "connected_to_another_user",
			"This Amazon account is already connected in this region by another user of the app. Nothing was changed: " +
				"that user must disconnect it first, or ask the app's support.", false}
	case errors.Is(err, authflow.ErrStateExpired):
		return problem{http.StatusBadRequest, "state_expired",
			"This authorization took too long and has expired. Please start again.", false}
	case errors.Is(err, authflow.ErrStateNotFound):
		return problem{http.StatusBadRequest, "state_used",
			"This authorization link was already used or is unknown. If you just authorized, you are done; otherwise start again.", false}
	case errors.Is(err, authflow.ErrUntrustedCallback):
		return problem{http.StatusBadRequest, "untrusted_callback",
			"The sign-in link did not come from Amazon Seller Central or Vendor Central. Please start again.", false}
	case errors.Is(err, authflow.ErrCodeRejected):
		return problem{http.StatusBadRequest, "code_rejected",
			"Amazon did not accept the authorization code: it expires after five minutes and works once. Please start again.", false}
	case errors.Is(err, authflow.ErrAmazonUnavailable):
		return problem{http.StatusBadGateway, "amazon_unavailable",
			"Amazon's login service did not answer. Please try again in a few minutes.", false}
	case errors.Is(err, authflow.ErrAppCredentials):
		return problem{http.StatusBadGateway, "app_misconfigured",
			"Amazon refused this app's credentials. The problem is logged for the app's operator; please try again later.", false}
	case errors.Is(err, authflow.ErrCredentialsUnavailable):
		return problem{http.StatusServiceUnavailable, "credentials_unavailable",
			"This app cannot reach Amazon right now. The problem is logged for the app's operator; please try again later.", false}
	case errors.Is(err, authflow.ErrStorage):
		return problem{http.StatusServiceUnavailable, "storage_unavailable",
			"We could not reach our database. Please try again in a few minutes.", false}
	default:
		return problem{http.StatusInternalServerError, "internal_error",
			"Something went wrong on our side. Please try again later.", false}
	}
}
