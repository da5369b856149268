package amazon

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
)

// consentPath is where Seller Central and Vendor Central show the consent page.
const consentPath = "/apps/authorize/consent"

// Consent builds consent URLs:
// {origin}/apps/authorize/consent?application_id=…&state=…[&redirect_uri=…][&version=beta].
// It is configuration, built once at start-up, and safe for concurrent use.
type Consent struct {
	ApplicationID  string
	RedirectURI    string // optional, sent as redirect_uri when set
	Draft          bool   // adds version=beta
	OriginOverride string // optional (sandbox use): replaces every Seller/Vendor Central origin, e.g. "http://127.0.0.1:9000"
}

// URL returns the consent URL that sends a partner of account type t to Amazon for marketplace m,
// carrying state. Draft apps get version=beta, because without it Amazon shows MD1000, and
// published apps must not get it. Without RedirectURI Amazon uses the app's first registered
// redirect URI, so redirect_uri is sent only when set.
//
// It fails with ErrUnknownMarketplace for a Marketplace that is not a row of the table (its origin
// would go into a redirect), ErrNoVendorCentral or ErrUnknownAccountType as Marketplace.Origin
// does (also under OriginOverride, so the sandbox refuses what Amazon would), and with a plain
// error for an empty application ID or state or an invalid RedirectURI or OriginOverride.
func (c Consent) URL(m Marketplace, t AccountType, state string) (string, error) {
	base, err := m.Origin(t)
	if err != nil {
		return "", fmt.Errorf("consent URL: %w", err)
	}
	if c.OriginOverride != "" {
		o, err := parseOrigin(c.OriginOverride)
		if err != nil {
			return "", fmt.Errorf("consent URL: origin override: %w", err)
		}
		base = o.String()
	}
	if c.ApplicationID == "" {
		return "", errors.New("consent URL: empty application ID")
	}
	if state == "" {
		return "", errors.New("consent URL: empty state")
	}
	if c.RedirectURI != "" {
		if err := CheckRedirectURI(c.RedirectURI); err != nil {
			return "", fmt.Errorf("consent URL: %w", err)
		}
	}

	// Built by hand rather than with url.Values.Encode, which sorts the keys: this keeps the
	// order of Amazon's documentation, which makes the URL easy to compare when debugging.
	var b strings.Builder
	b.WriteString(base)
	b.WriteString(consentPath)
	b.WriteString("?application_id=")
	b.WriteString(url.QueryEscape(c.ApplicationID))
	b.WriteString("&state=")
	b.WriteString(url.QueryEscape(state))
	if c.RedirectURI != "" {
		b.WriteString("&redirect_uri=")
		b.WriteString(url.QueryEscape(c.RedirectURI))
	}
	if c.Draft {
		b.WriteString("&version=beta")
	}
	return b.String(), nil
}

// CheckRedirectURI validates REDIRECT_URI at start-up, so what Amazon's consent page would refuse
// (MD5101, MD5110) is caught before a seller meets it. Amazon compares it with the redirect URIs
// registered for the app, so it must be an absolute URL; a "#" fragment makes Amazon show MD5110,
// and userinfo has no place in it. It must use https, because the browser carries the OAuth code
// to it, except on a loopback host (localhost, 127.0.0.1, ::1), where nothing crosses a network and
// local development and the sandbox run without certificates. Empty is valid and means "the first
// registered one".
func CheckRedirectURI(uri string) error {
	if uri == "" {
		return nil
	}
	_, o, reason := parseAbsolute(uri)
	if reason != "" {
		return fmt.Errorf("redirect URI %s (want an absolute https URL without a fragment; a fragment causes MD5110)", reason)
	}
	if o.scheme != "https" && !isLoopback(o.host) {
		return errors.New("redirect URI must use https (http only on a loopback host such as 127.0.0.1)")
	}
	return nil
}

// isLoopback reports whether host, lower case and without brackets as in origin, names this
// machine.
func isLoopback(host string) bool {
	return host == "localhost" || host == "127.0.0.1" || host == "::1"
}
