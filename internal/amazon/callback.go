package amazon

import (
	"fmt"
	"net/url"
	"strings"
)

// maxCallbackLen bounds amazon_callback_uri. Amazon's are far shorter; the limit keeps a hostile
// value from growing our redirect past what browsers and API Gateway accept.
const maxCallbackLen = 2048

// ResolveCallbackURI validates the amazon_callback_uri that Amazon passes to our log-in URI, which
// we redirect the browser to. Anyone can call our log-in URI with any value, so without this check
// it is an open redirect.
//
// A relative path (e.g. "/apps/authorize/confirm/amzn1.sp.solution.x"), which users have seen
// Amazon send, is resolved against baseOrigin, the origin of the marketplace being authorized. The
// result is accepted only if its origin is one of the AcceptedOrigins (https, exact host match, no
// userinfo, default port only; the table's origins plus Seller Central country hosts such as
// sellercentral.amazon.co.uk) or, when override != "", exactly the override origin
// (scheme, host and port; it may be http, for the local sandbox). Everything that browsers might
// read differently from url.Parse is refused: protocol-relative and backslash forms, control and
// non-ASCII characters, fragments, other schemes, userinfo, escaped hosts, empty input, and input
// over 2048 bytes. The returned URL has a lower-case host and no default port.
//
// A refusal wraps ErrUntrustedCallback with a reason that does not echo the input. An override that
// is not an origin is a configuration error and is returned as such, not as ErrUntrustedCallback.
func ResolveCallbackURI(raw, baseOrigin, override string) (*url.URL, error) {
	var trusted origin
	if override != "" {
		o, err := parseOrigin(override)
		if err != nil {
			return nil, fmt.Errorf("resolve amazon_callback_uri: origin override: %w", err)
		}
		trusted = o
	}
	reject := func(reason string) (*url.URL, error) {
		return nil, fmt.Errorf("%w: %s", ErrUntrustedCallback, reason)
	}

	switch {
	case raw == "":
		return reject("empty")
	case len(raw) > maxCallbackLen:
		return reject("longer than 2048 bytes")
	case strings.HasPrefix(raw, "//"):
		return reject("protocol-relative")
	case strings.HasPrefix(raw, "/"):
		// An absolute path: join it to the base and check the whole as an absolute URL, so that
		// both forms pass the same checks. A base that is not an origin cannot produce a trusted
		// result, so it is refused like an untrusted host.
		base, err := parseOrigin(baseOrigin)
		if err != nil {
			return reject("relative, and the base origin is not an origin")
		}
		raw = base.String() + raw
	}

	u, o, reason := parseAbsolute(raw)
	if reason != "" {
		return reject(reason)
	}
	if strings.HasPrefix(u.EscapedPath(), "//") {
		// Harmless with the host in front, but a caller that ever keeps only the path would
		// produce a protocol-relative redirect.
		return reject("path starts with //")
	}
	switch {
	case override != "" && o == trusted:
	case o.scheme == "https" && o.port == "" && isAmazonHost(o.host):
	default:
		return reject("not a Seller Central or Vendor Central origin")
	}
	u.Scheme = o.scheme
	u.Host = o.hostPort()
	return u, nil
}

// isAmazonHost reports whether host (lower case) is the host of one of the AcceptedOrigins. It
// is an exact match: suffix or substring matching is how sellercentral.amazon.com.evil.com gets
// through.
func isAmazonHost(host string) bool {
	_, _, ok := LookupOrigin("https://" + host)
	return ok
}
