package amazon

import "errors"

// Sentinel errors. Callers compare with errors.Is; the HTTP layer maps the input errors to 4xx.
// None of them carries the offending input, because the input may come from a query string and
// end up on an error page or in a log line.
var (
	// ErrUnknownMarketplace means a marketplace code, ID or value is not in the table.
	ErrUnknownMarketplace = errors.New("amazon: unknown marketplace")
	// ErrUnknownAccountType means an account type other than seller or vendor.
	ErrUnknownAccountType = errors.New("amazon: unknown account type (want seller or vendor)")
	// ErrNoVendorCentral means the marketplace has no Vendor Central origin listed, so a vendor
	// cannot be sent to a consent page for it.
	ErrNoVendorCentral = errors.New("amazon: marketplace has no Vendor Central")
	// ErrUntrustedCallback means an amazon_callback_uri that does not lead to an Amazon
	// Seller/Vendor Central origin (or the sandbox override). Redirecting to it would make our
	// log-in URI an open redirect.
	ErrUntrustedCallback = errors.New("amazon: untrusted amazon_callback_uri")
)
