package amazon

import (
	"errors"
	"net"
	"net/url"
	"strings"
)

// origin is a parsed scheme://host[:port], the unit of trust for redirects. The host is lower
// case and the port is empty when it is the scheme's default, so two spellings of the same
// origin compare equal with ==.
type origin struct {
	scheme string // "http" or "https"
	host   string // lower case, without brackets for IPv6
	port   string // "" for the scheme's default port
}

// String formats o as a browser would show it, e.g. "http://127.0.0.1:9000".
func (o origin) String() string {
	return o.scheme + "://" + o.hostPort()
}

// hostPort is the host as it goes into url.URL.Host: the port only when it is not the default.
func (o origin) hostPort() string {
	switch {
	case o.port != "":
		return net.JoinHostPort(o.host, o.port)
	case strings.Contains(o.host, ":"):
		return "[" + o.host + "]"
	}
	return o.host
}

// defaultPort is the port a browser uses when the URL names none.
func defaultPort(scheme string) string {
	if scheme == "http" {
		return "80"
	}
	return "443"
}

// authorityChar reports whether c may appear between "://" and the path. Letters, digits, dots
// and hyphens spell a host name; colons and brackets a port or an IPv6 literal. Everything else
// is refused, in particular "@" (userinfo), "%" (escaped host bytes that url.Parse would decode)
// and "\" (which browsers treat as "/").
func authorityChar(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	return strings.IndexByte(".-:[]", c) >= 0
}

// parseAbsolute parses an absolute http or https URL strictly, checking the raw text itself
// before url.Parse, since url.Parse accepts spellings that browsers read differently. The
// returned reason never contains the input: it may end up in a log line or an error page.
func parseAbsolute(raw string) (*url.URL, origin, string) {
	for i := 0; i < len(raw); i++ {
		switch c := raw[i]; {
		case c <= ' ' || c >= 0x7f:
			// Browsers strip tabs and newlines from URLs ("/\t/evil.com" becomes
			// "//evil.com"), so such input can mean something else to them than to us.
			return nil, origin{}, "contains a control, space or non-ASCII character"
		case c == '\\':
			// Browsers read "\" as "/" in http(s) URLs: "/\evil.com" is "//evil.com".
			return nil, origin{}, "contains a backslash"
		case c == '#':
			return nil, origin{}, "has a fragment"
		}
	}
	scheme, rest, ok := strings.Cut(raw, "://")
	if !ok {
		return nil, origin{}, "is neither an absolute http(s) URL nor an absolute path"
	}
	scheme = strings.ToLower(scheme)
	if scheme != "http" && scheme != "https" {
		return nil, origin{}, "has a scheme other than http or https"
	}
	authority := rest
	if i := strings.IndexAny(rest, "/?"); i >= 0 {
		authority = rest[:i]
	}
	if authority == "" {
		return nil, origin{}, "has no host"
	}
	for i := 0; i < len(authority); i++ {
		if c := authority[i]; !authorityChar(c) {
			if c == '@' {
				return nil, origin{}, "has userinfo"
			}
			return nil, origin{}, "has an invalid character in the host"
		}
	}
	u, err := url.Parse(raw)
	if err != nil {
		return nil, origin{}, "does not parse as a URL"
	}
	// The checks above should make these impossible; they stay because the cost of being wrong
	// is an open redirect.
	if u.Opaque != "" || u.User != nil || u.Fragment != "" || !strings.EqualFold(u.Host, authority) {
		return nil, origin{}, "does not parse as a plain URL"
	}
	if u.Hostname() == "" {
		return nil, origin{}, "has no host"
	}
	o := origin{scheme: scheme, host: strings.ToLower(u.Hostname()), port: u.Port()}
	if strings.HasSuffix(u.Host, ":") {
		// "host:" is legal and means the default port, but nothing legitimate writes it.
		return nil, origin{}, "has an empty port"
	}
	if o.port == defaultPort(scheme) {
		o.port = ""
	}
	return u, o, ""
}

// errInvalidOrigin is returned, wrapped, for a configured origin (the sandbox override) that is
// not a bare http(s) origin.
var errInvalidOrigin = errors.New("amazon: not an origin (want scheme://host[:port], e.g. http://127.0.0.1:9000)")

// parseOrigin parses a bare origin such as "https://sellercentral.amazon.com" or
// "http://127.0.0.1:9000". A single trailing slash is tolerated because people copy origins
// from the address bar; a path, query or fragment is not.
func parseOrigin(s string) (origin, error) {
	u, o, reason := parseAbsolute(s)
	if reason != "" {
		return origin{}, errInvalidOrigin
	}
	if (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.ForceQuery {
		return origin{}, errInvalidOrigin
	}
	return o, nil
}

// CheckOriginOverride validates the optional AMAZON_CONSENT_ORIGIN (the sandbox's stand-in for
// Seller and Vendor Central) at start-up, so that a typo fails the deployment instead of every
// authorization. Empty is valid and means no override.
func CheckOriginOverride(s string) error {
	if s == "" {
		return nil
	}
	_, err := parseOrigin(s)
	return err
}
